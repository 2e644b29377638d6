// sse-fcgi - MIT License
//
// The text/event-stream parser of deploy/js/sse-fcgi.js: every field, each
// line ending, a BOM, and the same streams cut into chunks at every place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { _internal } from "../../deploy/js/sse-fcgi.js";

const { Parser } = _internal;

// parse(chunks): the events and retry values the parser reports.
function parse(chunks) {
	const events = [], retries = [];
	const p = new Parser((e) => events.push(e), (ms) => retries.push(ms));
	for (const c of chunks) p.push(c);
	return { events, retries };
}
const ev = (type, data, id = "", hasId = false) => ({ type, data, id, hasId });

const CASES = [
	["plain data", "data: hello\n\n", [ev("message", "hello")]],
	["no space after colon", "data:hello\n\n", [ev("message", "hello")]],
	["only the first space is removed", "data:  two\n\n", [ev("message", " two")]],
	["several data lines", "data: a\ndata: b\n\n", [ev("message", "a\nb")]],
	["empty data line", "data\n\n", [ev("message", "")]],
	["event name", "event: progress\ndata: 1\n\n", [ev("progress", "1")]],
	["name reset after dispatch", "event: x\ndata: 1\n\ndata: 2\n\n", [ev("x", "1"), ev("message", "2")]],
	["id", "id: 1-1\ndata: a\n\n", [ev("message", "a", "1-1", true)]],
	["id kept for the next event", "id: 1-1\ndata: a\n\ndata: b\n\n",
	    [ev("message", "a", "1-1", true), ev("message", "b", "1-1", false)]],
	["id with NUL ignored", "id: 1-1\ndata: a\n\nid: 2\u00002\ndata: b\n\n",
	    [ev("message", "a", "1-1", true), ev("message", "b", "1-1", false)]],
	["empty id resets", "id: 1-1\ndata: a\n\nid\ndata: b\n\n",
	    [ev("message", "a", "1-1", true), ev("message", "b", "", true)]],
	["comments ignored", ": ok\n:\ndata: a\n: mid\n\n", [ev("message", "a")]],
	["unknown fields ignored", "foo: bar\ndata: a\nDATA: b\n\n", [ev("message", "a")]],
	["no data, no event", "event: x\nid: 5-5\n\ndata: a\n\n", [ev("message", "a", "5-5", true)]],
	["CRLF", "data: a\r\ndata: b\r\n\r\n", [ev("message", "a\nb")]],
	["CR", "data: a\rdata: b\r\r", [ev("message", "a\nb")]],
	["mixed endings", "data: a\r\ndata: b\rdata: c\n\r\n", [ev("message", "a\nb\nc")]],
	["BOM", "\ufeffdata: a\n\n", [ev("message", "a")]],
	["a second BOM is data", "\ufeff\ufeffdata: a\n\ndata: b\n\n", [ev("message", "b")]],
	["unterminated event dropped", "data: a\n\ndata: b\n", [ev("message", "a")]],
	["data with colons", "data: a: b:c\n\n", [ev("message", "a: b:c")]],
];

test("parser: a position (an id with no data) is reported, and kept for the next event", () => {
	const events = [], ids = [];
	const p = new Parser((e) => events.push(e), () => {}, (id) => ids.push(id));
	p.push(": ok\n\nid: ~1-5~1-9\n\nevent: a\ndata: x\nid: ~1-6~1-9\n\n");
	assert.deepEqual(ids, ["~1-5~1-9"]);
	assert.deepEqual(events, [ev("a", "x", "~1-6~1-9", true)]);
	const q = new Parser((e) => events.push(e), () => {});	// onId optional
	q.push("id: 1-1\n\n");
});

for (const [name, text, want] of CASES) {
	test(`parser: ${name}, one chunk`, () => {
		assert.deepEqual(parse([text]).events, want);
	});
	test(`parser: ${name}, cut at every place`, () => {
		for (let i = 0; i <= text.length; i++)
			assert.deepEqual(parse([text.slice(0, i), text.slice(i)]).events, want, `cut at ${i}`);
		for (let i = 0; i <= text.length; i++)
			for (let j = i; j <= text.length; j++)
				assert.deepEqual(parse([text.slice(0, i), text.slice(i, j), text.slice(j)]).events,
				    want, `cut at ${i}, ${j}`);
	});
	test(`parser: ${name}, one character at a time`, () => {
		assert.deepEqual(parse([...text]).events, want);
	});
}

test("parser: retry takes digits only", () => {
	const { retries } = parse(["retry: 1500\n", "retry: x1\n", "retry: 12a\n", "retry:\n",
	    "retry: -5\n", "retry: 0\n", "retry:  7\n", "retry: 250\r\n"]);
	assert.deepEqual(retries, [1500, 0, 250]);
});

test("parser: CR at a chunk's end and LF at the next one's start end one line", () => {
	const { events } = parse(["data: a\r", "\ndata: b\r", "\n\r", "\n"]);
	assert.deepEqual(events, [ev("message", "a\nb")]);
});

test("parser: a BOM alone in the first chunk", () => {
	assert.deepEqual(parse(["\ufeff", "data: a\n\n"]).events, [ev("message", "a")]);
	assert.deepEqual(parse(["", "\ufeffdata: a\n\n"]).events, [ev("message", "a")]);
});

test("parser: a server stream, as sse-fcgi sends it", () => {
	const text = ": ok\nretry: 3000\n\nid: 1795921503461-3\nevent: a/progress\ndata: {\"p\":1}\n\n" +
	    "id: 1795921503461-4\nevent: b\ndata: x\n\n: keepalive\n\n";
	const { events, retries } = parse([text]);
	assert.deepEqual(retries, [3000]);
	assert.deepEqual(events, [ev("a/progress", "{\"p\":1}", "1795921503461-3", true),
	    ev("b", "x", "1795921503461-4", true)]);
});
