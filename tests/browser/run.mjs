// sse-fcgi - MIT License
//
// Browser checks: headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is downloaded) against the demo page and the
// quick start's front-end patterns (built by build.mjs), with events
// published to Redis by this script through redis-cli.
//
//   node run.mjs BASE PAGES_DIR ARTIFACTS REDIS_PORT [RESUME_STREAM]
//
// BASE           front server, e.g. http://127.0.0.1:8080 (demo page at /)
// PAGES_DIR      the built pattern pages; a directory directly under the
//                document root (served at /<basename>/)
// ARTIFACTS      where demo.png goes
// REDIS_PORT     the Redis on 127.0.0.1 the workers subscribe to
// RESUME_STREAM  path of a stream served by workers with --max-lifetime
//                (e.g. /life/events/browser.resume); "" skips that check
//
// Prints one line per check, "ok - ..." or "not ok - ..." (with "# ..."
// lines saying why), and exits 1 if any check failed.
// CHROMIUM overrides the browser's path.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { check, equal, exitCode, expect, sleep, waitFor as waitForMs, launch } from "./checks.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const [BASE, PAGES_DIR, ARTIFACTS, REDIS_PORT, RESUME_STREAM = ""] = process.argv.slice(2);
if (!BASE || !PAGES_DIR || !ARTIFACTS || !REDIS_PORT) {
    console.error("usage: node run.mjs BASE PAGES_DIR ARTIFACTS REDIS_PORT [RESUME_STREAM]");
    process.exit(2);
}
const PAGES_URL = `${BASE.replace(/\/$/, "")}/${basename(PAGES_DIR)}/`;
const LUA = readFileSync(join(here, "..", "..", "deploy", "redis", "sse-publish.lua"), "utf8");
const WAIT = 8000;

// The quick start's payloads.
const HELLO = '{"type":"notification","object":{"message":"Hello World!","timestamp":"2024-01-01T00:00:00Z"}}';
const note = (message) => JSON.stringify({ type: "notification", object: { message, timestamp: "2024-01-01T00:00:00Z" } });
const progress = (percent, status) => JSON.stringify({ type: "progress", object: status ? { percent, status } : { percent } });

// --- Redis -----------------------------------------------------------------

const rcli = (...args) =>
    execFileSync("redis-cli", ["-p", String(REDIS_PORT), ...args], { encoding: "utf8", timeout: 5000 }).trim();
const publish = (channel, data) => rcli("PUBLISH", channel, data);
// The documented Redis script: history + id; returns the id.
const publishLua = (channel, data) =>
    rcli("--raw", "EVAL", LUA, "2", `sse:history:${channel}`, "sse:clock", channel, "", "1000", "0", data).split("\n")[0];
const numsub = (channel) => Number(rcli("PUBSUB", "NUMSUB", channel).split("\n")[1]);

// --- Checks ------------------------------------------------------------------

const waitFor = (pred, what, ms = WAIT) => waitForMs(pred, what, ms);

// Waits until the page's text at SELECTOR is TEXT (innerText, trimmed).
async function waitText(page, selector, text, ms = WAIT) {
    try {
        await page.waitForFunction(([s, t]) => {
            const el = document.querySelector(s);
            return el !== null && el.textContent.trim() === t;
        }, [selector, text], { timeout: ms, polling: 50 });
    } catch (e) {
        const now = await page.$eval(selector, (el) => el.textContent.trim()).catch(() => "(no element)");
        throw new Error(`${selector}: want "${text}", have "${now}"`);
    }
}

// The harness's counters (see harness.js).
const esCount = (page, what) => page.evaluate((w) => Number(document.documentElement.dataset[w] || 0), what);
async function waitOpen(page, n) {
    await page.waitForFunction((k) => Number(document.documentElement.dataset.esOpen || 0) >= k,
        n, { timeout: WAIT, polling: 50 }).catch(async () => {
        throw new Error(`want ${n} open EventSource(s), have ${await esCount(page, "esOpen")} ` +
            `(errors ${await esCount(page, "esError")})`);
    });
}

// Redis has confirmed a subscription to each channel: a PUBLISH from now on
// reaches the stream. Only valid while no other page holds these channels,
// hence noSubscribers() before each page is opened.
const subscribed = (channels) =>
    waitFor(() => channels.every((c) => numsub(c) >= 1), `Redis subscriptions to ${channels.join(", ")}`);
const noSubscribers = (channels) =>
    waitFor(() => channels.every((c) => numsub(c) === 0), `earlier streams on ${channels.join(", ")} to go away`);

// --- Browser -------------------------------------------------------------------

const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light" });
context.setDefaultTimeout(WAIT);

// open(url, channels, ready): opens a page once no earlier page holds its
// channels, waits until it is connected and Redis has the subscriptions.
// READY is the number of EventSources the page opens (counted by
// harness.js) or a function that waits for the page to say it is
// connected. Collects page errors, console lines and alert() texts.
async function open(url, channels, ready) {
    await noSubscribers(channels);
    const page = await context.newPage();
    page.errors = [];
    page.consoleLines = [];
    page.dialogs = [];
    page.on("pageerror", (e) => page.errors.push(String(e && e.message || e)));
    page.on("console", (m) => page.consoleLines.push(m.text()));
    page.on("dialog", (d) => { page.dialogs.push(d.message()); d.accept().catch(() => {}); });
    try {
        const res = await page.goto(url);
        expect(res && res.ok(), `GET ${url}: ${res ? res.status() : "no response"}`);
        await (typeof ready === "function" ? ready(page) : waitOpen(page, ready));
        await subscribed(channels);
    } catch (e) {
        await page.close();   // its streams would hold the channels
        throw e;
    }
    return page;
}

async function closePage(page) {
    if (page && !page.isClosed()) await page.close();
}

const pageErrorsNone = (page) => equal(page.errors, [], "uncaught errors in the page");
const texts = (page, selector) => page.$$eval(selector, (els) => els.map((e) => e.textContent.trim()));

const pageChecks = {};

// --- The demo page --------------------------------------------------------------

async function demo() {
    let page;
    await check("demo: the page loads and its three streams open (user.1, project.123, task.7)", async () => {
        page = await open(`${BASE.replace(/\/$/, "")}/`, ["user.1", "project.123", "task.7"], async (p) => {
            for (const id of ["status-user-1", "status-project-123", "status-task-7"]) await waitText(p, `#${id}`, "open");
        });
    });
    if (!page) return;
    publish("project.123", HELLO);
    publish("user.1", note("Hello user 1"));
    publish("task.7", progress(42, "running"));
    await check("demo: the quick-start notification on project.123 is listed", async () => {
        await waitText(page, '#notifications li.notification[data-channel="project.123"] .message', "Hello World!");
        await waitText(page, '#notifications li.notification[data-channel="project.123"] .timestamp', "2024-01-01T00:00:00Z");
    });
    await check("demo: the user.1 notification is listed under user.1, each event once", async () => {
        await waitText(page, '#notifications li.notification[data-channel="user.1"] .message', "Hello user 1");
        equal((await texts(page, "#notifications li.notification .message")).sort(), ["Hello World!", "Hello user 1"],
            "notifications");
    });
    await check("demo: the task.7 bar shows 42% and status running", async () => {
        await page.waitForFunction(() => document.getElementById("task-7-bar").getAttribute("data-percent") === "42",
            null, { timeout: WAIT, polling: 50 });
        equal(await page.$eval("#task-7-bar", (b) => b.style.width), "42%", "bar width");
        await waitText(page, "#task-7-status", "running");
    });
    await check("demo: screenshot saved as demo.png", async () => {
        mkdirSync(ARTIFACTS, { recursive: true });
        const file = join(ARTIFACTS, "demo.png");
        await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
        expect(statSync(file).size > 1000, `${file} is too small`);
    });
    await check("demo: no script errors", () => pageErrorsNone(page));
    await closePage(page);
}

// --- Pattern pages --------------------------------------------------------------

// Quick start "3. Frontend подключение": onmessage + JSON.parse + alert().
pageChecks.plain = async (url) => {
    let page;
    await check("plain EventSource: connects (onopen)", async () => {
        page = await open(url, ["project.123"], 1);
        await waitText(page, "#plain-status", "connected");
        expect(page.consoleLines.includes("Connected"), "console.log(\"Connected\") missing");
    });
    if (!page) return;
    publish("project.123", HELLO);
    await check("plain EventSource: onmessage parses the quick-start payload and alert()s its message", async () => {
        await waitText(page, "#plain-message", "Hello World!");
        equal(JSON.parse(await page.$eval("#plain-last", (e) => e.textContent)), JSON.parse(HELLO), "event.data");
        await waitFor(() => page.dialogs.length > 0, "alert()");
        equal(page.dialogs, ["Hello World!"], "alerts");
        expect(page.consoleLines.some((l) => l.startsWith("Received:")), "console.log(\"Received:\") missing");
        pageErrorsNone(page);
    });
    await closePage(page);
};

// Quick start "4. React Hook": useSSE(channel) + MyComponent.
pageChecks["use-sse"] = async (url) => {
    let page;
    await check("React useSSE hook: connects to /api/v1/events/project.123", async () => {
        page = await open(url, ["project.123"], 1);
        equal(await page.evaluate(() => window.__sse.sources.map((s) => s.url)),
            ["/api/v1/events/project.123"], "EventSource URLs");
    });
    if (!page) return;
    publish("project.123", HELLO);
    await check("React useSSE hook: MyComponent renders the published message", async () => {
        await waitText(page, "#use-sse-message", "Hello World!");
        publish("project.123", note("Second"));
        await waitText(page, "#use-sse-message", "Second");
        pageErrorsNone(page);
    });
    await closePage(page);
};

// Quick start "EventSource Store (Zustand)": connect(url, handlers) / disconnect.
pageChecks.zustand = async (url) => {
    let page;
    await check("Zustand useEventSourceStore: connect() opens the stream", async () => {
        page = await open(url, ["project.123"], 1);
        await page.waitForSelector('#zustand-connection[data-connected="true"]');
    });
    if (!page) return;
    publish("project.123", HELLO);
    await check("Zustand useEventSourceStore: the handler gets the parsed event", async () => {
        await waitText(page, "#zustand-message", "Hello World!");
        await waitText(page, "#zustand-count", "1 events");
    });
    await check("Zustand useEventSourceStore: disconnect() closes the stream and the worker lets go of the channel", async () => {
        await page.click("#zustand-disconnect");
        await page.waitForSelector('#zustand-connection[data-connected="false"]');
        equal(await esCount(page, "esClosed"), 1, "EventSources closed");
        await waitFor(() => numsub("project.123") === 0, "PUBSUB NUMSUB project.123 = 0");
        publish("project.123", note("after disconnect"));
        await sleep(300);
        await waitText(page, "#zustand-count", "1 events");
        pageErrorsNone(page);
    });
    await closePage(page);
};

// Quick start "React Query интеграция": useRealtimeData -> setQueryData,
// plus setQueryData(['notifications'], old => [...]) from an EventSource.
pageChecks["react-query"] = async (url) => {
    let page;
    await check("React Query: useRealtimeData (project.123) and the notifications cache (user.1) connect", async () => {
        page = await open(url, ["project.123", "user.1"], 2);
    });
    if (!page) return;
    publish("project.123", HELLO);
    await check("React Query: useRealtimeData puts data.object into the query cache; useQuery renders it", async () => {
        await waitText(page, "#rq-latest", "Hello World!");
    });
    publish("user.1", note("Hello user 1"));
    publish("user.1", note("Second for user 1"));
    await check("React Query: setQueryData(['notifications'], old => [...]) keeps every notification, newest first", async () => {
        await page.waitForSelector('#rq-notifications[data-count="2"]');
        equal(await texts(page, "#rq-notifications li"), ["Second for user 1", "Hello user 1"], "list");
        pageErrorsNone(page);
    });
    await closePage(page);
};

// Quick start "Real-time уведомления": NotificationComponent on user.<id>.
pageChecks.notifications = async (url) => {
    let page;
    await check("notifications list: connects to user.1", async () => {
        page = await open(url, ["user.1"], 1);
    });
    if (!page) return;
    publish("user.1", note("Hello user 1"));
    publish("user.1", progress(10));
    publish("user.1", note("Second for user 1"));
    await check("notifications list: shows notifications newest first and ignores other types", async () => {
        await page.waitForSelector('#notifications[data-count="2"]');
        equal(await texts(page, "#notifications .notification"), ["Second for user 1", "Hello user 1"], "list");
        pageErrorsNone(page);
    });
    await closePage(page);
};

// Quick start "Прогресс выполнения задач": TaskProgress on task.<id>.
pageChecks["task-progress"] = async (url) => {
    let page;
    await check("task progress: connects to task.7, starts pending at 0", async () => {
        page = await open(url, ["task.7"], 1);
        await waitText(page, "#task-status", "Status: pending");
        equal(await page.$eval("#task-progress", (p) => p.value), 0, "progress value");
    });
    if (!page) return;
    publish("task.7", progress(42));
    await check("task progress: {\"type\":\"progress\",\"object\":{\"percent\":42}} moves the bar to 42", async () => {
        await page.waitForSelector('#task-progress[data-value="42"]');
        equal(await page.$eval("#task-progress", (p) => p.value), 42, "progress value");
    });
    publish("task.7", progress(100));
    publish("task.7", JSON.stringify({ type: "status", object: { status: "done" } }));
    await check("task progress: a status event sets the status; 100 fills the bar", async () => {
        await waitText(page, "#task-status", "Status: done");
        equal(await page.$eval("#task-progress", (p) => p.value), 100, "progress value");
        pageErrorsNone(page);
    });
    await closePage(page);
};

// EventSource's own reconnection with Last-Event-ID, against workers that
// end every stream after --max-lifetime: events published by the Redis
// script while the browser is between two connections arrive once the
// browser is back, and nothing arrives twice.
pageChecks.resume = async (url) => {
    if (!RESUME_STREAM) {
        console.log("ok - resume: skipped (no RESUME_STREAM given) # SKIP");
        return;
    }
    const channel = RESUME_STREAM.split("/").pop();
    const state = (page) => page.evaluate(() => ({
        opens: window.resumeState.opens,
        errors: window.resumeState.errors,
        received: window.resumeState.received.map((r) => ({ ...r })),
    }));
    const published = [];
    let page;
    await check("resume: connects through the --max-lifetime workers and gets an event with an id", async () => {
        page = await open(`${url}?url=${encodeURIComponent(RESUME_STREAM)}`, [channel], 1);
        published.push({ message: "e1", id: publishLua(channel, note("e1")) });
        await waitFor(async () => (await state(page)).received.length === 1, "e1");
        const s = await state(page);
        equal(s.received[0].message, "e1", "first event");
        equal(s.received[0].id, published[0].id, "its id (event.lastEventId)");
    });
    if (!page) return;
    let gapEvent = null;
    await check("resume: the stream ends by itself (max-lifetime) and EventSource reconnects", async () => {
        // Publish the next event while the browser is disconnected: it
        // can only arrive through the history replay (Last-Event-ID).
        for (let attempt = 0; attempt < 3 && !gapEvent; attempt++) {
            const before = await state(page);
            await waitFor(async () => (await state(page)).errors > before.errors, "the stream to end", 10000);
            const msg = `e${published.length + 1}`;
            const id = publishLua(channel, note(msg));
            const after = await state(page);
            published.push({ message: msg, id });
            if (after.opens === after.errors) gapEvent = { message: msg, id, connectionBefore: after.opens };
        }
        expect(gapEvent, "never managed to publish while the browser was disconnected");
        await waitFor(async () => (await state(page)).opens > gapEvent.connectionBefore, "the reconnection", 10000);
    });
    await check("resume: the event published between connections arrives after the reconnection (Last-Event-ID replay)", async () => {
        expect(gapEvent, "no event was published between two connections (see above)");
        await waitFor(async () => (await state(page)).received.some((r) => r.message === gapEvent.message),
            `${gapEvent.message} to arrive`);
        const r = (await state(page)).received.find((x) => x.message === gapEvent.message);
        expect(r.connection > gapEvent.connectionBefore,
            `${gapEvent.message} came on connection ${r.connection}, published before connection ${gapEvent.connectionBefore + 1}`);
        equal(r.id, gapEvent.id, "its id");
    });
    await check("resume: a live event after the reconnection, then one more reconnection: every event exactly once, in order", async () => {
        const msg = `e${published.length + 1}`;
        published.push({ message: msg, id: publishLua(channel, note(msg)) });
        await waitFor(async () => (await state(page)).received.some((r) => r.message === msg), `${msg} to arrive`);
        const opens = (await state(page)).opens;
        await waitFor(async () => (await state(page)).opens > opens, "one more reconnection", 10000);
        await sleep(300);  // the replay after that reconnection, if any, must be empty
        const s = await state(page);
        equal(s.received.map((r) => [r.message, r.id]), published.map((p) => [p.message, p.id]), "received");
        pageErrorsNone(page);
    });
    await closePage(page);
};

// --- Run ---------------------------------------------------------------------------

try {
    await demo();
    const built = existsSync(PAGES_DIR)
        ? readdirSync(PAGES_DIR).filter((f) => f.endsWith(".html")).map((f) => f.slice(0, -5)).sort()
        : [];
    await check("pattern pages: built, and every one has checks", () => {
        expect(built.length > 0, `no pages in ${PAGES_DIR}`);
        equal(built.filter((n) => !pageChecks[n]), [], "pages without checks");
        equal(Object.keys(pageChecks).filter((n) => !built.includes(n)).sort(), [], "checks without pages");
    });
    for (const name of built) {
        if (pageChecks[name]) await pageChecks[name](`${PAGES_URL}${name}.html`);
    }
} finally {
    await browser.close();
}
process.exit(exitCode());
