// sse-fcgi - MIT License
//
// Chromium against the answers that send a browser away to come back
// (README, "The endpoint"): the quick start's useSSE hook, unchanged, on a
// page opened while the worker cannot stream it, must show the first event
// published once it can, without a reload.
//
//   node retry.mjs DOWN_BASE CAP_BASE PAGES REDIS_PORT REDIS_DIR WORKER_PID
//
// DOWN_BASE  front server whose workers use Redis on REDIS_PORT, which is
//            not running yet: this script starts redis-server there itself
//            (and stops it at the end), after the page was sent back
// CAP_BASE   front server whose worker has --max-streams 1
// PAGES      the pattern pages' directory name under both document roots
// REDIS_DIR  a directory for that redis-server
// WORKER_PID DOWN_BASE's worker: sent SIGUSR2 (the in-place upgrade) while
//            a page is open on it
//
// Prints one line per check ("ok - ..." / "not ok - ...") and exits 1 if
// any failed. CHROMIUM overrides the browser's path.
import { execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { check, exitCode, waitFor as waitForMs, launch } from "./checks.mjs";

const [DOWN_BASE, CAP_BASE, PAGES, REDIS_PORT, REDIS_DIR, WORKER_PID] = process.argv.slice(2);
if (!DOWN_BASE || !CAP_BASE || !PAGES || !REDIS_PORT || !REDIS_DIR || !WORKER_PID) {
    console.error("usage: node retry.mjs DOWN_BASE CAP_BASE PAGES REDIS_PORT REDIS_DIR WORKER_PID");
    process.exit(2);
}
// Deadlines are generous: a sent-back browser waits its retry: (up to one
// and a half times how long Redis has been gone) before it comes back.
const WAIT = 45000;
const note = (message) => JSON.stringify({ type: "notification",
    object: { message, timestamp: "2024-01-01T00:00:00Z" } });
const HELLO = note("Hello World!");
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

const rcli = (...args) =>
    execFileSync("redis-cli", ["-p", String(REDIS_PORT), ...args],
        { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] }).trim();
const numsub = (channel) => Number(rcli("PUBSUB", "NUMSUB", channel).split("\n")[1]);
const waitFor = (pred, what, ms = WAIT) => waitForMs(pred, what, ms);
// harness.js's counters, and the page's EventSource state.
const count = (page, what) => page.evaluate((w) => Number(document.documentElement.dataset[w] || 0), what);
const states = (page) => page.evaluate(() => window.__sse.sources.map((s) => s.es.readyState));
const shows = (page, text) => page.waitForFunction((t) => {
    const el = document.querySelector("#use-sse-message");
    return el !== null && el.textContent.trim() === t;
}, text, { timeout: WAIT, polling: 100 });

// sentBack(page): the page's one EventSource was sent back at least once
// (an "error" event) and is reconnecting, not closed for good.
async function sentBack(page) {
    await waitFor(async () => (await count(page, "esError")) >= 1, "the stream to be sent back");
    const st = await states(page);
    if (st.length !== 1 || st[0] === 2)
        throw new Error(`EventSource readyState ${JSON.stringify(st)} (2 = CLOSED: gave up)`);
}

let redis = null;
const browser = await launch();
try {
    const context = await browser.newContext();
    const url = (base) => `${base.replace(/\/$/, "")}/${PAGES}/use-sse.html`;

    // 1. Redis down as the page opens.
    const page = await context.newPage();
    await page.goto(url(DOWN_BASE));
    await check("redis down: the page's EventSource is sent back and keeps trying", () => sentBack(page));
    redis = spawn("redis-server", ["--port", String(REDIS_PORT), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", REDIS_DIR], { stdio: "ignore" });
    writeFileSync(join(REDIS_DIR, "pid"), String(redis.pid));  // for the scenario's cleanup
    await check("redis down: the page subscribes once Redis is back",
        () => waitFor(() => numsub("project.123") >= 1, "a subscription to project.123"));
    rcli("PUBLISH", "project.123", HELLO);
    await check("redis down: the useSSE hook shows the first event published after Redis returned",
        () => shows(page, "Hello World!"));
    await check("redis down: no reload, the same EventSource", async () => {
        const created = await count(page, "esCreated");
        if (created !== 1) throw new Error(`${created} EventSources created`);
    });
    // 2. The worker upgraded in place (SIGUSR2) under the open page: its
    // stream ends with a retry: and the same EventSource comes back to
    // the new process.
    const opens = await count(page, "esOpen");
    const old = Number(WORKER_PID);
    process.kill(old, "SIGUSR2");
    await check("upgrade: the old worker hands over and exits",
        () => waitFor(() => !alive(old), `worker ${old} to exit`));
    await check("upgrade: the page's EventSource reconnects to the new process",
        () => waitFor(async () => (await count(page, "esOpen")) > opens, "another open event"));
    await waitFor(() => numsub("project.123") >= 1, "the new process's subscription");
    rcli("PUBLISH", "project.123", note("After the upgrade"));
    await check("upgrade: the useSSE hook shows the event published after the upgrade",
        () => shows(page, "After the upgrade"));
    await check("upgrade: no reload, the same EventSource, still open", async () => {
        const created = await count(page, "esCreated");
        const st = await states(page);
        if (created !== 1 || st[0] === 2)
            throw new Error(`${created} EventSources created, readyState ${JSON.stringify(st)}`);
    });
    await page.close();
    await waitFor(() => numsub("project.123") === 0, "the first page's stream to go away");

    // 3. max-streams reached: the one slot is held by another client.
    const held = [];
    const holder = http.get(`${CAP_BASE.replace(/\/$/, "")}/api/v1/events/slot.hold`, (res) => {
        res.on("data", (d) => held.push(String(d)));
    });
    holder.on("error", () => {});
    await waitFor(() => held.join("").includes(": ok"), "the slot holder's stream");
    const page2 = await context.newPage();
    await page2.goto(url(CAP_BASE));
    await check("max-streams: the page's EventSource is sent back and keeps trying", () => sentBack(page2));
    holder.destroy();
    await check("max-streams: the page takes the freed slot",
        () => waitFor(() => numsub("project.123") >= 1, "a subscription to project.123"));
    rcli("PUBLISH", "project.123", HELLO);
    await check("max-streams: the useSSE hook shows the event", () => shows(page2, "Hello World!"));
    await page2.close();
} finally {
    await browser.close();
    if (redis) redis.kill("SIGTERM");
}
process.exit(exitCode());
