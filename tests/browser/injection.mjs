// sse-fcgi - MIT License
//
// Real EventSource parsing of hostile payloads in headless Chromium: opens
// injection.html on a stream, writes READY_FILE once it is open, waits for
// COUNT events (at most 30 s, then 0.5 s more for any extra one) and
// writes them as JSON to OUT_FILE: [{type, data, id}, ...] where id is the
// MessageEvent's lastEventId. The test compares them with what was
// published.
// Usage: node injection.mjs PAGE_URL READY_FILE COUNT OUT_FILE
import { launch } from "./checks.mjs";
import { writeFileSync } from "node:fs";

const [pageUrl, readyFile, count, outFile] = process.argv.slice(2);
const browser = await launch();
let rc = 0;
try {
  const page = await browser.newPage();
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.opened > 0, null, { timeout: 10000 });
  writeFileSync(readyFile, "");
  await page.waitForFunction((n) => window.got.length >= n, Number(count),
    { timeout: 30000 }).catch(() => { rc = 1; });
  await page.waitForTimeout(500);
  writeFileSync(outFile, JSON.stringify(await page.evaluate(() => window.got)));
} catch (e) {
  console.log(`browser: ${e.message}`);
  rc = 1;
} finally {
  await browser.close();
}
process.exit(rc);
