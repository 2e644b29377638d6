# sse-fcgi - MIT License
#
# script-burst.awk: N calls of the publish script (EVALSHA SHA) on channel
# CH, as RESP for `redis-cli --pipe`: how the burst scenarios and the
# burst benchmark publish as fast as Redis takes it. Variables (awk -v):
#   n     how many events            ch    the channel
#   sha   the script's SHA1          hist  history length to keep (0)
#   size  data bytes per event: "i " then padding, cut to SIZE, so the
#         readers can check the order; with json=1 instead
#         {"n":<i, 6 digits>,"p":"<padding>"}, SIZE bytes in all (SIZE >= 20)
# Usage: awk -v n=1000 -v size=200 -v sha="$SHA" -v ch=c -f script-burst.awk
BEGIN {
	if (hist == "")
		hist = 0
	pad = "x"
	while (length(pad) < size)
		pad = pad pad
	key = "sse:history:" ch
	for (i = 1; i <= n; i++) {
		if (json)
			d = sprintf("{\"n\":%06d,\"p\":\"%s\"}", i, substr(pad, 1, size - 19))
		else
			d = substr(i " " pad, 1, size)
		printf "*10\r\n$7\r\nEVALSHA\r\n$%d\r\n%s\r\n$1\r\n2\r\n", length(sha), sha
		printf "$%d\r\n%s\r\n$9\r\nsse:clock\r\n$%d\r\n%s\r\n", length(key), key, length(ch), ch
		printf "$0\r\n\r\n$%d\r\n%s\r\n$1\r\n0\r\n$%d\r\n%s\r\n", length(hist), hist, length(d), d
	}
}
