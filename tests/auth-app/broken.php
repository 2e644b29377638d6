<?php
// sse-fcgi - MIT License
//
// An auth-url that misbehaves on purpose, for tests/it-auth-url.sh: the
// mode comes from the stream's own query (?mode=...), which sse-fcgi
// passes in X-Original-URI.
//   500        an error page
//   slow       sleeps ?ms= milliseconds, then answers as auth.php does
//   echo       403 whose reason lists what sse-fcgi sent
//   baduser    200 with an X-SSE-User that is not a valid name (?u=)
//   twousers   200 with two X-SSE-User headers
//   redirect   302 to the login page
//   bigbody    403 with a 100 kB body
//   junk       403 whose reason has control and non-ASCII bytes
parse_str(parse_url($_SERVER['HTTP_X_ORIGINAL_URI'] ?? '', PHP_URL_QUERY) ?? '', $q);
switch ($q['mode'] ?? '') {
case '500':
	http_response_code(500);
	exit("internal error\n");
case 'slow':
	usleep((int)($q['ms'] ?? 1000) * 1000);
	require __DIR__ . '/auth.php';
	exit;
case 'echo':
	http_response_code(403);
	printf("channels=%s uri=%s for=%s real=%s cookie=%s auth=%s\n",
	    $_SERVER['HTTP_X_SSE_CHANNELS'] ?? '-',
	    $_SERVER['HTTP_X_ORIGINAL_URI'] ?? '-',
	    $_SERVER['HTTP_X_FORWARDED_FOR'] ?? '-',
	    $_SERVER['HTTP_X_REAL_IP'] ?? '-',
	    isset($_SERVER['HTTP_COOKIE']) ? 'yes' : 'no',
	    $_SERVER['HTTP_AUTHORIZATION'] ?? '-');
	exit;
case 'baduser':
	header('X-SSE-User: ' . ($q['u'] ?? 'a b'));
	exit("ok\n");
case 'twousers':
	header('X-SSE-User: 42', false);
	header('X-SSE-User: 43', false);
	exit("ok\n");
case 'redirect':
	header('Location: /login.php', true, 302);
	exit;
case 'bigbody':
	http_response_code(403);
	exit(str_repeat("x", 100000));
case 'junk':
	http_response_code(403);
	exit("bad\x01\x7f\xc3\xa9 reason\r\nsecond line\n");
}
http_response_code(400);
exit("unknown mode\n");
