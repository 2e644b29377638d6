// sse-fcgi - MIT License
//
// Chromium against the browser client deploy/js/sse-fcgi.js
// (SharedEventSource), for tests/it-browser-shared.sh:
//
//   node shared.mjs BASE REDIS_PORT PUBLISH_LUA
//
// BASE         lighttpd with the pool at /api/v1 (stats every second) and
//              /late, whose worker this script starts ($LATE_START, pid in
//              $LATE_PIDFILE) and kills
// REDIS_PORT   the Redis the workers share
// PUBLISH_LUA  deploy/redis/sse-publish.lua: events with ids and history
//
// The document root holds shared.html, js/sse-fcgi.js and the pattern
// pages built with --shared in shared-patterns/. Prints one line per check
// ("ok - ..." / "not ok - ...") and exits 1 if any failed.
import { execFileSync, execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { check, equal, expect, exitCode, sleep, waitFor as waitForMs, launch } from "./checks.mjs";

const [BASE, REDIS_PORT, LUA] = process.argv.slice(2);
const { LATE_START, LATE_PIDFILE } = process.env;
if (!BASE || !REDIS_PORT || !LUA || !LATE_START || !LATE_PIDFILE) {
    console.error("usage: LATE_START=... LATE_PIDFILE=... node shared.mjs BASE REDIS_PORT PUBLISH_LUA");
    process.exit(2);
}
const WAIT = 45000;
const SCRIPT = readFileSync(LUA, "utf8");
const waitFor = (pred, what, ms = WAIT) => waitForMs(pred, what, ms);
const rcli = (...args) => execFileSync("redis-cli", ["-p", String(REDIS_PORT), "--raw", ...args],
    { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] }).trim();
// pub: an event through the history script (an id, kept for resumes).
const pub = (ch, data, event = "") =>
    rcli("EVAL", SCRIPT, "2", `sse:history:${ch}`, "sse:clock", ch, event, "1000", "0", data).split("\n")[0];
const streams = async () => {
    const r = await fetch(`${BASE}/api/v1/stats`);
    if (r.status !== 200) throw new Error(`stats: ${r.status}`);
    return (await r.json()).totals.streams;
};
// streamsAre(n): the stats show n open streams, and still do over the next
// three reports (a second stream would have been reported by then).
async function streamsAre(n) {
    await waitFor(async () => (await streams()) === n, `${n} open stream(s) in the stats`);
    const end = Date.now() + 3500;
    while (Date.now() < end) {
        const s = await streams();
        if (s !== n) throw new Error(`stats: ${s} open streams, want ${n}`);
        await sleep(250);
    }
}
const logOf = (page, name) => page.evaluate((n) => window.__t.log[n], name);
const datas = async (page, name) => (await logOf(page, name)).map((e) => e.data);
const stateOf = (page, name) => page.evaluate((n) => window.state(n), name);
const seq = (prefix, from, to) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);
const isLeader = (page) => page.evaluate(() => window.__t.objs.s._group.stream.leader === true);

async function openPage(context, path = "/shared.html") {
    const page = await context.newPage();
    await page.goto(`${BASE}${path}`);
    await page.waitForFunction(() => window.__t !== undefined, null, { timeout: WAIT });
    return page;
}

const browser = await launch();
try {
    // 1. Four tabs, one channel: one stream; the leader leaves mid-flow.
    const ctx = await browser.newContext();
    const tabs = [];
    for (let i = 0; i < 4; i++) tabs.push(await openPage(ctx));
    for (const t of tabs) await t.evaluate(() => window.openSource("s", "/api/v1/events/tabs.one"));
    await check("tabs: four tabs open the channel",
        () => waitFor(async () => (await Promise.all(tabs.map((t) => stateOf(t, "s")))).every((s) => s === 1),
            "every tab's readyState OPEN"));
    await check("tabs: one stream for four tabs (stats)", () => streamsAre(1));
    const leaders = [];
    for (const t of tabs) if (await isLeader(t)) leaders.push(t);
    await check("tabs: exactly one tab leads", () => equal(leaders.length, 1, "leaders"));
    const N = 20;
    for (let i = 1; i <= N; i++) pub("tabs.one", `e${i}`);
    await check(`tabs: each tab got the ${N} events once, in order`, async () => {
        await waitFor(async () => (await Promise.all(tabs.map((t) => datas(t, "s")))).every((d) => d.length >= N),
            `${N} events in every tab`);
        await sleep(300);	// a doubled event would show by now
        for (const t of tabs) equal(await datas(t, "s"), seq("e", 1, N), "events");
    });
    // The leader closes while events are published (paced, bounded).
    const M = 60;
    const rest = tabs.filter((t) => t !== leaders[0]);
    for (let i = N + 1; i <= M; i++) {
        pub("tabs.one", `e${i}`);
        if (i === N + 10) await leaders[0].close();
        await sleep(20);
    }
    await check(`tabs: the leader closed mid-flow; the other three got all ${M} once, in order`, async () => {
        await waitFor(async () => (await Promise.all(rest.map((t) => datas(t, "s")))).every((d) => d.length >= M),
            `${M} events in the remaining tabs`);
        await sleep(300);
        for (const t of rest) equal(await datas(t, "s"), seq("e", 1, M), "events");
    });
    await check("tabs: another tab leads, still one stream (stats)", async () => {
        let n = 0;
        for (const t of rest) if (await isLeader(t)) n++;
        equal(n, 1, "leaders");
        await streamsAre(1);
    });
    // A follower leaves and comes back: its stored id is behind the
    // leader, which replays the gap from its ring.
    let follower = null;
    for (const t of rest) if (!follower && !(await isLeader(t))) follower = t;
    await follower.goto("about:blank");
    for (let i = M + 1; i <= M + 5; i++) pub("tabs.one", `e${i}`);
    await waitFor(async () => (await datas(rest.find((t) => t !== follower), "s")).length >= M + 5,
        "the others to get them");
    await follower.goto(`${BASE}/shared.html?open=s&url=${encodeURIComponent("/api/v1/events/tabs.one")}`);
    await check("tabs: a follower back with an older id is replayed the gap by the leader, once", async () => {
        await waitFor(async () => (await follower.evaluate(() => window.__t?.log.s?.length || 0)) >= 5, "the replay");
        pub("tabs.one", `e${M + 6}`);
        await waitFor(async () => (await datas(follower, "s")).length >= 6, "the next live event");
        await sleep(300);
        equal(await datas(follower, "s"), seq("e", M + 1, M + 6), "events");
        expect(!(await isLeader(follower)), "the follower took the lead");
        await streamsAre(1);
    });
    await ctx.close();
    await waitFor(async () => (await streams()) === 0, "the tabs' stream to close");

    // 2. Several channels in one page: one stream, each object its own.
    const ctx2 = await browser.newContext();
    const mp = await openPage(ctx2);
    const urls = [];
    mp.on("request", (r) => { if (r.url().includes("/events/")) urls.push(r.url()); });
    await mp.evaluate(() => {
        for (const c of ["a", "b", "c"]) window.openSource(c, `/api/v1/events/multi.${c}`, { types: ["progress"] });
    });
    await check("channels: three objects of one page open",
        () => waitFor(async () => (await Promise.all(["a", "b", "c"].map((c) => stateOf(mp, c)))).every((s) => s === 1),
            "OPEN"));
    await check("channels: one stream for three channels (stats, request)", async () => {
        await streamsAre(1);
        equal(urls.map((u) => new URL(u).pathname), ["/api/v1/events/multi.a,multi.b,multi.c"], "stream requests");
    });
    pub("multi.a", "a1");
    pub("multi.b", "b1");
    pub("multi.a", "a2", "progress");
    pub("multi.c", "c1");
    pub("multi.b", "b2", "progress");
    pub("multi.other", "x");
    await check("channels: each object gets only its channel's events, names without the channel", async () => {
        await waitFor(async () => (await logOf(mp, "b")).length >= 2, "b's events");
        await waitFor(async () => (await logOf(mp, "c")).length >= 1, "c's events");
        await sleep(300);
        const t = async (n) => (await logOf(mp, n)).map((e) => `${e.type}:${e.data}`);
        equal(await t("a"), ["message:a1", "progress:a2"], "a");
        equal(await t("b"), ["message:b1", "progress:b2"], "b");
        equal(await t("c"), ["message:c1"], "c");
        const a = await logOf(mp, "a");
        expect(/^\d+-\d+$/.test(a[0].id), `lastEventId ${a[0].id}`);
    });
    await check("channels: closing all objects closes the stream", async () => {
        await mp.evaluate(() => ["a", "b", "c"].forEach((c) => window.closeSource(c)));
        equal(await stateOf(mp, "a"), 2, "readyState");
        await waitFor(async () => (await streams()) === 0, "no stream");
    });
    await ctx2.close();

    // 3. A pool that answers 503 first, then works; a worker killed under
    // the stream; the page left and opened again.
    const ctx3 = await browser.newContext();
    const lp = await openPage(ctx3);
    const lastIds = [];
    lp.on("request", (r) => {
        if (r.url().includes("/late/events/")) lastIds.push(r.headers()["last-event-id"] || "");
    });
    const late = "/late/events/late.ch";
    await lp.evaluate((u) => {
        window.openSource("shared", u, { options: { retry: 500 } });
        window.openSource("plain", u, { plain: true });
    }, late);
    await check("503: SharedEventSource keeps trying (errors, readyState CONNECTING)", () =>
        waitFor(async () => (await lp.evaluate(() => window.__t.errors.shared)) >= 2 &&
            (await stateOf(lp, "shared")) === 0, "two failures"));
    await check("503: plain EventSource gives up (readyState CLOSED)",
        () => waitFor(async () => (await stateOf(lp, "plain")) === 2, "CLOSED"));
    execSync(LATE_START, { stdio: "ignore", shell: "/bin/bash" });
    await check("503: once the pool is up, SharedEventSource opens without a reload",
        () => waitFor(async () => (await stateOf(lp, "shared")) === 1, "OPEN"));
    const id1 = pub("late.ch", "late1");
    await check("503: it gets the event; plain EventSource stays closed with nothing", async () => {
        await waitFor(async () => (await datas(lp, "shared")).includes("late1"), "late1");
        equal(await stateOf(lp, "plain"), 2, "plain readyState");
        equal(await datas(lp, "plain"), [], "plain events");
    });
    const pid = Number(readFileSync(LATE_PIDFILE, "utf8").trim());
    process.kill(pid, "SIGKILL");
    await waitFor(async () => (await lp.evaluate(() => window.__t.errors.shared)) >= 3, "the drop to be seen");
    pub("late.ch", "late2");
    pub("late.ch", "late3");
    execSync(LATE_START, { stdio: "ignore", shell: "/bin/bash" });
    await check("drop: after the worker was killed, the client resumes with Last-Event-ID, no gap", async () => {
        await waitFor(async () => (await datas(lp, "shared")).length >= 3, "late2, late3");
        await sleep(300);
        equal(await datas(lp, "shared"), ["late1", "late2", "late3"], "events");
        expect(lastIds.includes(id1), `Last-Event-ID ${id1} in requests: ${JSON.stringify(lastIds)}`);
    });
    // Away and back: sessionStorage keeps the last id for the new page.
    await lp.goto("about:blank");
    pub("late.ch", "late4");
    pub("late.ch", "late5");
    await lp.goto(`${BASE}/shared.html?open=r&url=${encodeURIComponent(late)}`);
    await check("reload: the new page resumes from the last id (what came meanwhile, once)", async () => {
        await waitFor(async () => (await lp.evaluate(() => window.__t?.log.r?.length || 0)) >= 2, "late4, late5");
        pub("late.ch", "late6");
        await waitFor(async () => (await datas(lp, "r")).length >= 3, "late6");
        await sleep(300);
        equal(await datas(lp, "r"), ["late4", "late5", "late6"], "events");
    });
    await ctx3.close();

    // Offline: the stream dropped (its worker killed) while offline: no
    // attempt until online, then one from the last id.
    const ctx6 = await browser.newContext();
    const op = await openPage(ctx6);
    const tries = [];
    op.on("request", (r) => { if (r.url().includes("/events/")) tries.push(r.url()); });
    await op.evaluate((u) => window.openSource("o", u), late);
    await waitFor(async () => (await stateOf(op, "o")) === 1, "OPEN");
    pub("late.ch", "off0");	// an id to resume from
    await waitFor(async () => (await datas(op, "o")).length >= 1, "off0");
    await ctx6.setOffline(true);
    process.kill(Number(readFileSync(LATE_PIDFILE, "utf8").trim()), "SIGKILL");
    await check("offline: the dropped stream is seen (error, CONNECTING)", () =>
        waitFor(async () => (await op.evaluate(() => window.__t.errors.o)) >= 1 && (await stateOf(op, "o")) === 0,
            "an error"));
    const before = tries.length;
    pub("late.ch", "off1");
    pub("late.ch", "off2");
    execSync(LATE_START, { stdio: "ignore", shell: "/bin/bash" });
    await sleep(4000);	// four times the server's retry: a retry would have been made
    await check("offline: no attempt while offline", () => equal(tries.length - before, 0, "requests"));
    await ctx6.setOffline(false);
    await check("online: reconnects and gets what came meanwhile, once", async () => {
        await waitFor(async () => (await datas(op, "o")).length >= 3, "off1, off2");
        await sleep(300);
        equal(await datas(op, "o"), ["off0", "off1", "off2"], "events");
        equal(await stateOf(op, "o"), 1, "readyState");
    });
    await ctx6.close();

    // 4. The quick start's hooks, EventSource replaced by SharedEventSource.
    const ctx4 = await browser.newContext();
    const note = (m) => JSON.stringify({ type: "notification", object: { message: m, timestamp: "2024-01-01T00:00:00Z" } });
    const hook = async (name, sel) => {
        const p = await ctx4.newPage();
        await p.goto(`${BASE}/shared-patterns/${name}.html`);
        await waitFor(() => p.evaluate(() => Number(document.documentElement.dataset.esOpen || 0) >= 1), `${name} open`);
        const cls = await p.evaluate(() => window.__sse.sources.map((s) => s.es.constructor.name));
        expect(cls.length >= 1 && cls.every((c) => c === "SharedEventSource"), `sources ${JSON.stringify(cls)}`);
        return p;
    };
    const pages = {};
    await check("hooks: useSSE runs on SharedEventSource", async () => { pages.use = await hook("use-sse"); });
    await check("hooks: the Zustand store runs on SharedEventSource", async () => { pages.z = await hook("zustand"); });
    await check("hooks: React Query runs on SharedEventSource", async () => { pages.rq = await hook("react-query"); });
    pub("project.123", note("Hello shared"));
    pub("user.1", note("Hello user 1"));
    const shows = (p, sel, text) => p.waitForFunction(([s, t]) => {
        const el = document.querySelector(s);
        return el !== null && el.textContent.trim() === t;
    }, [sel, text], { timeout: WAIT, polling: 100 });
    await check("hooks: useSSE shows the event", () => shows(pages.use, "#use-sse-message", "Hello shared"));
    await check("hooks: the Zustand store's handler gets it, once",
        async () => { await shows(pages.z, "#zustand-message", "Hello shared");
            await shows(pages.z, "#zustand-count", "1 events"); });
    await check("hooks: React Query's cache has both (two channels of one page)", async () => {
        await shows(pages.rq, "#rq-latest", "Hello shared");
        await pages.rq.waitForSelector('#rq-notifications[data-count="1"]', { timeout: WAIT });
    });
    await ctx4.close();

    // 5. The demo page: its three channels on one SharedEventSource stream.
    const ctx5 = await browser.newContext();
    const dp = await ctx5.newPage();
    const demoUrls = [];
    dp.on("request", (r) => { if (r.url().includes("/events/")) demoUrls.push(new URL(r.url()).pathname); });
    await dp.goto(`${BASE}/`);
    await check("demo: its three channels open on one stream", async () => {
        for (const id of ["status-user-1", "status-project-123", "status-task-7"])
            await dp.waitForFunction((i) => document.getElementById(i).textContent === "open", id,
                { timeout: WAIT, polling: 100 });
        equal(demoUrls, ["/api/v1/events/user.1,project.123,task.7"], "stream requests");
    });
    pub("task.7", JSON.stringify({ type: "progress", object: { percent: 42, status: "running" } }), "progress");
    await check("demo: a named event of one channel reaches its listener",
        () => dp.waitForFunction(() => document.getElementById("task-7-bar").getAttribute("data-percent") === "42",
            null, { timeout: WAIT, polling: 100 }));
    await ctx5.close();
} finally {
    await browser.close();
}
process.exit(exitCode());
