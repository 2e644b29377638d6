<?php
// sse-fcgi - MIT License
//
// The test site's login: ?user=ID logs the browser in as ID (a real site
// checks a password first).
session_start();
$id = $_GET['user'] ?? '';
if (!preg_match('/^[0-9]{1,9}$/', $id)) {
	http_response_code(400);
	exit("bad user\n");
}
session_regenerate_id(true);
$_SESSION['user'] = $id;
echo "logged in as $id\n";
