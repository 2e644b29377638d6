// sse-fcgi - MIT License
//
// Chromium's own EventSource on a stream of three channels whose masters
// differ (a Redis Cluster): its id is a position per channel (~ID~ID~ID).
//   1. the page opens /events/A,B,C; before any event its worker is
//      upgraded in place (the stream ends, EventSource comes back after
//      retry:); events published while the page is away arrive once when
//      it is back: the position the worker sent alone, with no event, is
//      what EventSource resumed from;
//   2. events published live, with another upgrade among them: each
//      channel gets 1..N once, in order, EventSource never closes;
//   3. the last event's lastEventId is the vector of the three channels'
//      positions, N each.
//
//   node cluster.mjs BASE OUT_DIR CHANNELS SSE_PUBLISH URL RESTART
//
// BASE        front server, e.g. http://127.0.0.1:8080
// OUT_DIR     a directory directly under the document root
// CHANNELS    A,B,C (each on its own master)
// SSE_PUBLISH the sse-publish binary; URL the redis+cluster:// URL
// RESTART     a script that upgrades the worker and returns once the old
//             one is gone
//
// Prints one line per check and exits 1 if any failed.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { check, equal, exitCode, expect, sleep, waitFor, launch } from "./checks.mjs";

const [BASE, OUT_DIR, CHANNELS, SSE_PUBLISH, URL, RESTART] = process.argv.slice(2);
if (!RESTART) {
    console.error("usage: node cluster.mjs BASE OUT_DIR CHANNELS SSE_PUBLISH URL RESTART");
    process.exit(2);
}
const WAIT = 30000;
const chs = CHANNELS.split(",");
const publish = (ch, n) => execFileSync(SSE_PUBLISH, ["-q", "--redis", URL, ch, String(n)],
    { encoding: "utf8", timeout: 60000 }).trim();
const restart = () => execFileSync("bash", [RESTART], { encoding: "utf8", timeout: 60000 });

mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(`${OUT_DIR}/index.html`, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cluster</title></head>
<body><script>
window.rec = { got: {}, opens: 0, errors: 0, closed: false, last: "" };
window.start = (chs) => {
    const es = new EventSource("/api/v1/events/" + chs.join(","));
    es.onopen = () => rec.opens++;
    es.onerror = () => { rec.errors++; if (es.readyState === 2) rec.closed = true; };
    for (const c of chs)
        es.addEventListener(c, (e) => {
            (rec.got[c] = rec.got[c] || []).push(Number(e.data));
            rec.last = e.lastEventId;
        });
};
</script></body></html>
`);

const browser = await launch();
try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${BASE.replace(/\/$/, "")}/${basename(OUT_DIR)}/index.html`);
    const rec = () => page.evaluate(() => window.rec);
    const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    const gotAll = async (n) => {
        const r = await rec();
        return chs.every((c) => (r.got[c] || []).length >= n);
    };

    await page.evaluate((c) => window.start(c), chs);
    await check(`the stream of ${CHANNELS} opens`, async () => {
        await waitFor(async () => (await rec()).opens === 1, "onopen", WAIT);
    });
    // Let the worker's lone position reach the page before it goes.
    await sleep(500);
    let away = 0;
    await check("before any event, the worker upgraded: the page is away, events 1-3 published on each channel", async () => {
        restart();
        away = (await rec()).opens;
        for (let n = 1; n <= 3; n++) for (const c of chs) publish(c, n);
        const r = await rec();
        console.log(`# opens when published: ${away} then ${r.opens}, errors ${r.errors}`);
        equal(away, 1, "opens when the publishing began (the page was away)");
    });
    await check("back with its position: events 1-3 of each channel once, in order", async () => {
        await waitFor(() => gotAll(3), "3 events on each channel", WAIT);
        const r = await rec();
        for (const c of chs) equal(r.got[c], range(1, 3), `${c}'s events`);
        equal(r.opens, 2, "opens");
    });
    await check("live, with another upgrade among them: 4-10 of each channel once, in order", async () => {
        for (let n = 4; n <= 10; n++) {
            if (n === 7) restart();
            for (const c of chs) publish(c, n);
            await sleep(100);
        }
        await waitFor(() => gotAll(10), "10 events on each channel", WAIT);
        await sleep(300);	// a late duplicate would show now
        const r = await rec();
        for (const c of chs) equal(r.got[c], range(1, 10), `${c}'s events`);
        expect(!r.closed, "EventSource closed");
        equal(r.opens, 3, "opens");
    });
    await check("lastEventId: the vector of the three channels' positions, 10 each", async () => {
        const r = await rec();
        console.log(`# lastEventId ${r.last}`);
        expect(/^(~\d+-\d+){3}$/.test(r.last), `lastEventId ${r.last} is not a vector of 3`);
        equal(r.last.slice(1).split("~").map((f) => Number(f.split("-")[1])), [10, 10, 10], "positions");
    });
    await check("no page error", async () => equal(errors, [], "page errors"));
} finally {
    await browser.close();
}
process.exit(exitCode());
