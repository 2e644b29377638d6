// sse-fcgi - MIT License
//
// Chromium and initial events (--initial-events): the quick start's
// TaskProgress component, unchanged (initial/task-progress.jsx, bundled
// here with esbuild), opened in the middle of a task whose progress goes
// through the documented Redis script, shows the current percent at once,
// before the task publishes again, then follows the task live, each event
// once. The workers run with --initial-events 'task.* 1'. Against a front
// server whose worker has no initial events, the same page opened mid-task
// stays at 0 % until the next event: the control.
//
//   node initial.mjs BASE OUT_DIR REDIS_PORT [PLAIN_BASE]
//
// BASE       front server, e.g. http://127.0.0.1:8080
// OUT_DIR    where the page is built: a directory directly under the
//            document root (served at /<basename>/)
// REDIS_PORT the Redis on 127.0.0.1 the workers use
// PLAIN_BASE a front server with the same document root whose worker
//            (same Redis) has no --initial-events
//
// Prints one line per check ("ok - ..." / "not ok - ...") and exits 1 if
// any failed. CHROMIUM overrides the browser's path.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { check, equal, exitCode, waitFor as waitForMs, launch } from "./checks.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const [BASE, OUT_DIR, REDIS_PORT, PLAIN_BASE = ""] = process.argv.slice(2);
if (!BASE || !OUT_DIR || !REDIS_PORT) {
    console.error("usage: node initial.mjs BASE OUT_DIR REDIS_PORT");
    process.exit(2);
}
const WAIT = 15000;
const LUA = readFileSync(join(here, "..", "..", "deploy", "redis", "sse-publish.lua"), "utf8");
const rcli = (...args) =>
    execFileSync("redis-cli", ["-p", String(REDIS_PORT), ...args], { encoding: "utf8", timeout: 5000 }).trim();
// The documented Redis script: history and an id.
const publishLua = (channel, data) =>
    rcli("--raw", "EVAL", LUA, "2", `sse:history:${channel}`, "sse:clock", channel, "", "1000", "0", data).split("\n")[0];
const numsub = (channel) => Number(rcli("PUBSUB", "NUMSUB", channel).split("\n")[1]);
// The quick start's payloads for TaskProgress.
const progress = (n) => JSON.stringify({ type: "progress", object: { progress: n } });
const status = (s) => JSON.stringify({ type: "status", object: { status: s } });
const waitFor = (pred, what, ms = WAIT) => waitForMs(pred, what, ms);

// The page: harness.js (counts EventSource events) and the bundle.
mkdirSync(OUT_DIR, { recursive: true });
await build({
    entryPoints: [join(here, "initial", "task-progress.jsx")],
    outfile: resolve(OUT_DIR, "task-progress.js"),
    bundle: true, format: "iife", jsx: "automatic", target: "es2020",
    logLevel: "warning", define: { "process.env.NODE_ENV": '"production"' },
});
copyFileSync(join(here, "harness.js"), join(OUT_DIR, "harness.js"));
writeFileSync(join(OUT_DIR, "task-progress.html"), `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>TaskProgress</title>
<script src="harness.js"></script></head>
<body><div id="root"></div><script src="task-progress.js"></script></body>
</html>
`);
const url = (task, base = BASE) => `${base.replace(/\/$/, "")}/${basename(OUT_DIR)}/task-progress.html?task=${task}`;
const value = (page) => page.$eval("progress", (p) => p.value);
const messages = (page) => page.evaluate(() => Number(document.documentElement.dataset.esMessage || 0));
const waitValue = (page, n) => page.waitForFunction((k) => {
    const p = document.querySelector("progress");
    return p !== null && p.value === k;
}, n, { timeout: WAIT, polling: 20 });

const browser = await launch();
try {
    const context = await browser.newContext();
    const errors = [];
    // The task is under way: started, then 10 % ... 60 %, before any page.
    publishLua("task.42", status("running"));
    for (let n = 10; n <= 60; n += 10) publishLua("task.42", progress(n));

    if (PLAIN_BASE) {
        const plain = await context.newPage();
        plain.on("pageerror", (e) => errors.push(String(e)));
        await plain.goto(url(42, PLAIN_BASE));
        await check("control, no initial events: opened mid-task, the bar stays at 0 %", async () => {
            await waitFor(() => numsub("task.42") >= 1, "a subscription to task.42");
            await plain.waitForFunction(() => Number(document.documentElement.dataset.esOpen || 0) >= 1,
                null, { timeout: WAIT, polling: 20 });
            equal(await value(plain), 0, "progress value");
            equal(await messages(plain), 0, "messages received");
        });
        await plain.close();
        await waitFor(() => numsub("task.42") === 0, "the control page's stream to go away");
    }

    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    const t0 = Date.now();
    await page.goto(url(42));
    await check("opened mid-task: the bar shows the current 60 % at once, before the next event", async () => {
        await waitValue(page, 60);
        console.log(`# 60 % shown ${Date.now() - t0} ms after the page was asked for`);
        equal(await messages(page), 1, "messages received (the last event only)");
    });
    await check("the page is subscribed, nothing published since", async () => {
        await waitFor(() => numsub("task.42") >= 1, "a subscription to task.42");
        equal(await value(page), 60, "progress value");
    });
    publishLua("task.42", progress(70));
    await check("then live: 70 % moves the bar, each event once", async () => {
        await waitValue(page, 70);
        equal(await messages(page), 2, "messages received");
    });

    // A second page opened later: the current state too, and the first
    // page is not disturbed.
    publishLua("task.42", progress(80));
    const second = await context.newPage();
    second.on("pageerror", (e) => errors.push(String(e)));
    await second.goto(url(42));
    await check("a page opened later shows 80 % at once", async () => {
        await waitValue(second, 80);
        equal(await messages(second), 1, "messages received by the second page");
    });
    await check("the first page got 80 % live, once", async () => {
        await waitValue(page, 80);
        equal(await messages(page), 3, "messages received by the first page");
    });

    // A task nobody published for yet: the bar stays at 0 until it does.
    const fresh = await context.newPage();
    fresh.on("pageerror", (e) => errors.push(String(e)));
    await fresh.goto(url(43));
    await check("a task with no events yet: 0 %, then the first event", async () => {
        await waitFor(() => numsub("task.43") >= 1, "a subscription to task.43");
        equal(await value(fresh), 0, "progress value");
        publishLua("task.43", progress(5));
        await waitValue(fresh, 5);
        equal(await messages(fresh), 1, "messages received");
    });
    await check("no page errors", () => equal(errors, [], "page errors"));
} finally {
    await browser.close();
}
process.exit(exitCode());
