#!/bin/sh
# sse-fcgi - MIT License
#
# events.fcgi: starts sse-fcgi for mod_fcgid on shared hosting, where only
# the web root and .htaccess are yours (see deploy/apache/htaccess).
#
# Upload into the web root (beside .htaccess):
#   events.fcgi     this file, chmod 755
#   sse-fcgi        the worker binary, chmod 755: the static one of the
#                   shared-hosting tarball needs no library of the host
#                   (docs/shared-hosting.md); or put it outside the web
#                   root, see SSE_DIR
#   sse-fcgi.conf   its settings (the tarball's sse-fcgi.conf.sample),
#                   "key = value" lines, for example:
#                       redis = redis://:PASSWORD@127.0.0.1:6379
#                       keepalive = 15
#                       max-lifetime = 240
#                       publisher-secret = ...
#                   keepalive below the host's FcgidIOTimeout (default 40 s),
#                   max-lifetime below its FcgidBusyTimeout (default 300 s):
#                   the worker then ends each stream cleanly before Apache
#                   would kill it, and the browser resumes without loss.
#
# mod_fcgid runs this with the listening socket on fd 0 and no useful
# environment (SetEnv in .htaccess does not reach it; FcgidInitialEnv is
# server config only), hence the config file. Anything the worker logs goes
# to Apache's error log. Safer: keep sse-fcgi and sse-fcgi.conf outside the
# web root (e.g. SSE_DIR=$HOME/sse-fcgi below); .htaccess denies them to
# browsers in any case.
SSE_DIR=$(dirname "$0")
exec "$SSE_DIR/sse-fcgi" --config "$SSE_DIR/sse-fcgi.conf"
