<?php
// sse-fcgi - MIT License
//
// The site's own check for sse-fcgi's auth-url (docs/reference.md,
// "Authorization"): sse-fcgi sends the browser's cookies, so the PHP
// session is the site's own login. A logged-in user may read user.{id},
// nobody else's channel.
//   200 + X-SSE-User: {id}  allowed
//   401                     not logged in
//   403                     a channel that is not the user's
session_start(['read_and_close' => true]);	// no session lock held
if (!isset($_SESSION['user'])) {
	http_response_code(401);
	exit("not logged in\n");
}
$id = (string)$_SESSION['user'];
foreach (explode(',', $_SERVER['HTTP_X_SSE_CHANNELS'] ?? '') as $ch) {
	if ($ch !== "user.$id") {
		http_response_code(403);
		exit("channel $ch is not yours\n");
	}
}
header("X-SSE-User: $id");
echo "ok\n";
