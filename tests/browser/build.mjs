// sse-fcgi - MIT License
//
// Builds the pattern pages: every patterns/*.js and patterns/*.jsx becomes
// OUT/<name>.js (one esbuild bundle, React and friends included, no
// network at run time) and OUT/<name>.html, which loads harness.js first
// (copied to OUT) and then the bundle.
//   node build.mjs OUT [--shared]
// --shared: each page loads shim.js first, which puts the browser client
// (deploy/js/sse-fcgi.js) in place of window.EventSource, so the same
// pattern code runs on SharedEventSource.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
const shared = process.argv[3] === "--shared";
if (!out) {
    console.error("usage: node build.mjs OUTDIR");
    process.exit(2);
}

// Markup of the pages whose script fills in elements of its own (the
// React pages render into #root).
const BODY = {
    plain: `<h1>Plain EventSource</h1>
<p>Status: <span id="plain-status">connecting</span></p>
<p>Last message: <span id="plain-message"></span></p>
<p>Last data: <code id="plain-last"></code></p>`,
    resume: `<h1>Resume with Last-Event-ID</h1>
<div id="resume"><ol id="resume-received"></ol></div>`,
};

const dir = join(here, "patterns");
const entries = readdirSync(dir)
    .filter((f) => /\.(js|jsx)$/.test(f))
    .sort();
mkdirSync(out, { recursive: true });
await build({
    entryPoints: entries.map((f) => join(dir, f)),
    outdir: resolve(out),
    bundle: true,
    format: "iife",
    jsx: "automatic",
    target: "es2020",
    minify: false,
    sourcemap: false,
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
});
copyFileSync(join(here, "harness.js"), join(out, "harness.js"));
if (shared) {
    await build({
        stdin: {
            contents: 'import { SharedEventSource } from "./deploy/js/sse-fcgi.js";\n' +
                "window.EventSource = SharedEventSource;\n",
            resolveDir: resolve(here, "../.."),
            loader: "js",
        },
        outfile: join(resolve(out), "shim.js"),
        bundle: true,
        format: "iife",
        target: "es2020",
        logLevel: "warning",
    });
}
for (const f of entries) {
    const name = basename(f, extname(f));
    writeFileSync(join(out, `${name}.html`), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sse-fcgi pattern: ${name}</title>
${shared ? '<script src="shim.js"></script>\n' : ""}<script src="harness.js"></script>
</head>
<body>
${BODY[name] ?? '<div id="root"></div>'}
<script src="${name}.js"></script>
</body>
</html>
`);
}
console.log(`built ${entries.length} pages into ${out}: ${entries.map((f) => basename(f, extname(f))).join(" ")}`);
