// sse-fcgi - MIT License
//
// Cross-origin EventSource with withCredentials in headless Chromium:
// from an allowed origin it opens and receives; from another origin the
// worker refuses it and the browser gets nothing.
// Usage: node cors.mjs ALLOWED_PAGE_URL REFUSED_PAGE_URL REDIS_PORT CHANNEL
import { launch } from "./checks.mjs";
import { execFileSync } from "node:child_process";

const [allowedUrl, refusedUrl, redisPort, channel] = process.argv.slice(2);
let failed = 0;
const check = (name, ok) => {
  console.log(`${ok ? "ok" : "not ok"} - ${name}`);
  if (!ok) failed++;
};
const publish = (data) =>
  execFileSync("redis-cli", ["-p", redisPort, "PUBLISH", channel, data]);

const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(allowedUrl);
  await page.waitForFunction(() => window.opened > 0, null, { timeout: 10000 })
    .catch(() => {});
  check("allowed origin: EventSource withCredentials opens",
    await page.evaluate(() => window.opened > 0));
  publish("cross-origin hello");
  await page.waitForFunction(() => window.got.length > 0, null,
    { timeout: 5000 }).catch(() => {});
  check("allowed origin: the event arrives",
    (await page.evaluate(() => window.got))[0] === "cross-origin hello");

  const other = await browser.newPage();
  await other.goto(refusedUrl);
  await other.waitForFunction(() => window.errors > 0, null, { timeout: 10000 })
    .catch(() => {});
  publish("must not arrive");
  await other.waitForTimeout(500);
  const r = await other.evaluate(() => ({ o: window.opened, e: window.errors,
    g: window.got.length }));
  check("other origin: refused (error, never opened, nothing received)",
    r.e > 0 && r.o === 0 && r.g === 0);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
