// sse-fcgi - MIT License
//
// What the browser checkers share: one "ok - ..." / "not ok - ..." line per
// check (with "# ..." lines saying why), assertions, and polling waits.
// exitCode() is 1 once any check failed. launch(): the headless Chromium
// every checker uses (Debian's, or CHROMIUM; never a downloaded one).
import { chromium } from "playwright-core";

let failures = 0;

export const launch = () => chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: 30000,
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function check(description, fn) {
    try {
        await fn();
        console.log(`ok - ${description}`);
    } catch (e) {
        failures++;
        console.log(`not ok - ${description}`);
        for (const line of String(e && e.message || e).split("\n").slice(0, 8)) console.log(`# ${line}`);
    }
}

export function expect(cond, what) {
    if (!cond) throw new Error(what);
}

export function equal(got, want, what) {
    const g = JSON.stringify(got), w = JSON.stringify(want);
    if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

// Polls PRED (which may be async, and may throw while not yet true) until
// it holds, for MS at most.
export async function waitFor(pred, what, ms) {
    const end = Date.now() + ms;
    for (;;) {
        try {
            if (await pred()) return;
        } catch (e) { /* not yet */ }
        if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await sleep(50);
    }
}

export const exitCode = () => (failures ? 1 : 0);
