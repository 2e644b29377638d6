#!/bin/bash
# sse-fcgi - MIT License
#
# The browser client's unit tests (tests/js/*.test.mjs: the parser, ids,
# backoff, URLs, event names, the replay ring of deploy/js/sse-fcgi.js)
# under node --test. Skips (77) without node.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
command -v node >/dev/null || { echo "SKIP: node not installed"; exit 77; }
exec node --test "$top_srcdir"/tests/js/*.test.mjs
