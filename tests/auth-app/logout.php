<?php
// sse-fcgi - MIT License
//
// The test site's logout: the session is destroyed, so the next check of
// an open stream answers 401 and the stream ends.
session_start();
$_SESSION = [];
session_destroy();
echo "logged out\n";
