// sse-fcgi - MIT License
//
// The pure helpers of deploy/js/sse-fcgi.js: id order and the dedupe rule,
// the backoff, stream URLs and channel groups, event names on a stream of
// several channels, and the leader's ring of recent events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SharedEventSource, _internal } from "../../deploy/js/sse-fcgi.js";

const { parseId, compareIds, isNew, Backoff, splitUrl, mergeUrl, groupChannels, demux, Ring } = _internal;

test("ids: parsed as ms and seq", () => {
	assert.deepEqual(parseId("1795921503461-3"), [1795921503461, 3]);
	assert.equal(parseId("abc"), null);
	assert.equal(parseId("1-"), null);
	assert.equal(parseId(""), null);
});

test("ids: compared numerically, ms then seq", () => {
	assert.ok(compareIds("1795921503461-10", "1795921503461-9") > 0);	// not as strings
	assert.ok(compareIds("1795921503462-0", "1795921503461-99") > 0);
	assert.ok(compareIds("999-5", "1000-1") < 0);	// shorter ms is older
	assert.equal(compareIds("5-5", "5-5"), 0);
	assert.ok(compareIds("1-1", "") > 0);
	assert.ok(compareIds("", "1-1") < 0);
	assert.equal(compareIds("", ""), 0);
});

test("ids: position vectors (a cluster's stream of several channels)", () => {
	assert.deepEqual(parseId("~1-3~2-5"), [[1, 3], [2, 5]]);
	assert.deepEqual(parseId("~0-0"), [[0, 0]]);
	for (const bad of ["~", "~~", "~1-3~", "~1-3~~2-5", "~1-3~x", "1-3~2-5", "~1-3 ~2-5"])
		assert.equal(parseId(bad), null, bad);
	// One stream's events each move one channel on: the sum orders them.
	assert.ok(compareIds("~1-3~2-6", "~1-3~2-5") > 0);
	assert.ok(compareIds("~1-3~2-5", "~1-4~2-5") < 0);
	assert.equal(compareIds("~1-3~2-5", "~1-3~2-5"), 0);
	assert.ok(compareIds("~1-3~2-5", "") > 0);
	// Another length, or a plain id: as another form, newer.
	assert.ok(compareIds("~1-3", "~1-3~2-5") > 0);
	assert.ok(compareIds("1-3", "~1-3~2-5") > 0);
	// A replay then the live events of a vector stream: each once.
	const e = (id) => ({ type: "message", data: "", id, hasId: true });
	let last = "~0-0~0-0";
	const out = [];
	for (const id of ["~1-1~0-0", "~1-1~2-1", "~1-1~0-0", "~1-2~2-1", "~1-1~2-1", "~1-2~2-2"]) {
		if (isNew(e(id), last)) { out.push(id); last = id; }
	}
	assert.deepEqual(out, ["~1-1~0-0", "~1-1~2-1", "~1-2~2-1", "~1-2~2-2"]);
});

test("dedupe: only an id newer than the last is delivered; no id, always", () => {
	const e = (id, hasId = true) => ({ type: "message", data: "", id, hasId });
	assert.equal(isNew(e("5-2"), "5-1"), true);
	assert.equal(isNew(e("5-1"), "5-1"), false);
	assert.equal(isNew(e("5-0"), "5-1"), false);
	assert.equal(isNew(e("4-9"), "5-1"), false);
	assert.equal(isNew(e("5-1"), ""), true);
	assert.equal(isNew(e("5-1", false), "5-1"), true);	// an id kept from before
	// A replay then the live events, overlapping: each once, in order.
	let last = "";
	const out = [];
	for (const id of ["1-1", "1-2", "1-3", "1-2", "1-3", "1-4", "2-0", "1-9"]) {
		if (isNew(e(id), last)) { out.push(id); last = id; }
	}
	assert.deepEqual(out, ["1-1", "1-2", "1-3", "1-4", "2-0"]);
});

test("backoff: doubles per failure from the base, up to the max", () => {
	const b = new Backoff(1000, 10000);
	assert.deepEqual([1, 1, 1, 1, 1, 1].map(() => b.next(1)), [1000, 2000, 4000, 8000, 10000, 10000]);
});

test("backoff: full jitter between 50 and 100%", () => {
	const b = new Backoff(1000, 60000);
	assert.equal(b.next(0), 500);
	b.reset();
	assert.equal(b.next(0.5), 750);
	b.reset();
	for (let i = 0; i < 200; i++) {
		const d = b.next();
		const ceil = Math.min(60000, 1000 * 2 ** i);
		assert.ok(d >= ceil * 0.5 - 1 && d <= ceil, `failure ${i}: ${d} not in [${ceil / 2}, ${ceil}]`);
	}
});

test("backoff: reset after a connection stayed open, retry: sets the base", () => {
	const b = new Backoff(3000, 60000);
	b.next(1); b.next(1); b.next(1);
	assert.equal(b.next(1), 24000);
	b.reset();
	assert.equal(b.next(1), 3000);
	b.setBase(500);
	b.reset();
	assert.equal(b.next(1), 500);
	assert.equal(b.next(1), 1000);
	const d = new Backoff();
	assert.equal(d.next(1), 3000);	// the defaults
	for (let i = 0; i < 10; i++) d.next(1);
	assert.equal(d.next(1), 60000);
});

test("urls: split into mount, channels and query", () => {
	const s = splitUrl("https://h.example/api/v1/events/a,b.c?token=1&x=2");
	assert.equal(s.prefix, "https://h.example/api/v1/events/");
	assert.deepEqual(s.channels, ["a", "b.c"]);
	assert.equal(s.query, "?token=1&x=2");
	assert.equal(splitUrl("https://h.example/api/v1/events/a").query, "");
	assert.equal(splitUrl("https://h.example/api/v1/publish/a"), null);
	assert.equal(splitUrl("https://h.example/api/v1/events/"), null);
	// Same mount and query: one key; another query: another.
	assert.equal(splitUrl("http://h/m/events/a?q=1").key, splitUrl("http://h/m/events/b?q=1").key);
	assert.notEqual(splitUrl("http://h/m/events/a?q=1").key, splitUrl("http://h/m/events/a?q=2").key);
	assert.notEqual(splitUrl("http://h/m/events/a").key, splitUrl("http://h/n/events/a").key);
});

test("urls: merged with the query kept", () => {
	assert.equal(mergeUrl("http://h/api/v1/events/", ["a", "b"], "?t=1"), "http://h/api/v1/events/a,b?t=1");
	const s = splitUrl("http://h/api/v1/events/a?t=1");
	assert.equal(mergeUrl(s.prefix, ["a", "z"], s.query), "http://h/api/v1/events/a,z?t=1");
});

test("urls: 16 channels a stream at most", () => {
	const chs = Array.from({ length: 40 }, (_, i) => `c${i}`);
	const g = groupChannels([...chs, "c1", "c2"]);
	assert.deepEqual(g.map((x) => x.length), [16, 16, 8]);
	assert.deepEqual(g.flat(), chs);
	assert.deepEqual(groupChannels(["a"]), [["a"]]);
});

test("demux: channel prefix taken off the event name", () => {
	const chs = ["a", "b.c"];
	assert.deepEqual(demux("a", chs), { channel: "a", type: "message" });
	assert.deepEqual(demux("b.c/progress", chs), { channel: "b.c", type: "progress" });
	assert.deepEqual(demux("a/x/y", chs), { channel: "a", type: "x/y" });
	assert.equal(demux("z", chs).channel, null);
	// One channel: names as published.
	assert.deepEqual(demux("message", ["a"]), { channel: "a", type: "message" });
	assert.deepEqual(demux("progress", ["a"]), { channel: "a", type: "progress" });
});

test("ring: replays what came after an id it reaches", () => {
	const r = new Ring("1-0");
	const e = (id) => ({ type: "message", data: id, id, hasId: true });
	for (let i = 1; i <= 5; i++) r.push(e(`1-${i}`));
	assert.deepEqual(r.after("1-3").map((x) => x.id), ["1-4", "1-5"]);
	assert.deepEqual(r.after("1-0").map((x) => x.id), ["1-1", "1-2", "1-3", "1-4", "1-5"]);
	assert.deepEqual(r.after("1-5"), []);
	assert.equal(r.after("0-9"), null);	// before where the stream started
	assert.equal(r.after(""), null);
});

test("ring: bounded in events and bytes; the floor follows", () => {
	const e = (id, n = 1) => ({ type: "message", data: "x".repeat(n), id, hasId: true });
	const r = new Ring("", 3);
	for (let i = 1; i <= 5; i++) r.push(e(`1-${i}`));
	assert.equal(r.events.length, 3);
	assert.equal(r.floor, "1-2");
	assert.deepEqual(r.after("1-2").map((x) => x.id), ["1-3", "1-4", "1-5"]);
	assert.equal(r.after("1-1"), null);
	const big = new Ring("", 500, 100);
	for (let i = 1; i <= 10; i++) big.push(e(`2-${i}`, 30));
	assert.ok(big.bytes <= 100);
	assert.equal(big.after("2-1"), null);
	assert.deepEqual(big.after("2-8").map((x) => x.id), ["2-9", "2-10"]);
	// Events without an id are not kept.
	const n = new Ring("1-0");
	n.push({ type: "message", data: "", id: "1-0", hasId: false });
	assert.equal(n.events.length, 0);
});

test("interface: EventSource's constants and attributes", () => {
	assert.equal(SharedEventSource.CONNECTING, 0);
	assert.equal(SharedEventSource.OPEN, 1);
	assert.equal(SharedEventSource.CLOSED, 2);
	assert.equal(SharedEventSource.prototype.OPEN, 1);
	for (const k of ["onopen", "onmessage", "onerror"])
		assert.ok(Object.getOwnPropertyDescriptor(SharedEventSource.prototype, k).set, k);
	assert.equal(typeof SharedEventSource.prototype.close, "function");
});
