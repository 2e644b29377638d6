// sse-fcgi - MIT License
//
// SharedEventSource: EventSource's interface, one server stream per stream
// URL across the tabs of an origin, and several channels of one page on one
// multi-channel stream. A leader tab holds a Web Lock named after the stream
// URL and reads the stream with fetch(); the other tabs get its events over a
// BroadcastChannel. Every tab drops an event whose id is not newer than the
// last it delivered, so a takeover (which resumes from the last id) neither
// loses nor doubles. Without Web Locks or BroadcastChannel each tab reads a
// private stream. No dependencies, no build step; the pure helpers are
// exported as _internal for the unit tests (tests/js).
//
// Limits: ids are compared as sse-fcgi's "<ms>-<seq>" (or, on a Redis
// Cluster, a stream of several channels' "~<ms>-<seq>~..."); an event without an
// id is delivered as it comes. A tab that starts behind the leader is
// replayed from the leader's ring (500 events / 1 MB); beyond that it reads
// one private stream from its own id until it has caught up.

const CONNECTING = 0, OPEN = 1, CLOSED = 2;
const MAX_CHANNELS = 16;
const RING_EVENTS = 500, RING_BYTES = 1 << 20;
const PREFIX = "sse-fcgi:";

// --- ids --------------------------------------------------------------------

// parseId("1795921503461-3") -> [1795921503461, 3]; a position vector (a
// stream of several channels on a Redis Cluster: one id per channel)
// "~1-3~2-5" -> [[1, 3], [2, 5]]; null if neither form.
function parseId(id) {
	if (typeof id !== "string") return null;
	if (id[0] === "~") {
		const f = id.slice(1).split("~").map((x) => (x[0] === "~" ? null : parseId(x)));
		return f.every((x) => x && !Array.isArray(x[0])) ? f : null;
	}
	const m = /^(\d{1,15})-(\d{1,15})$/.exec(id);
	return m ? [Number(m[1]), Number(m[2])] : null;
}

// compareIds: <0, 0, >0 by ms then seq; null/"" sorts first. Vectors of
// one stream's channels compare by the sum of their positions (each event
// moves one channel on). Ids of another form, or vectors of other lengths,
// compare equal only to themselves and as newer otherwise.
function compareIds(a, b) {
	if (!a) return b ? -1 : 0;
	if (!b) return 1;
	if (a === b) return 0;
	const x = parseId(a), y = parseId(b);
	if (!x || !y) return 1;
	const vx = Array.isArray(x[0]), vy = Array.isArray(y[0]);
	if (vx || vy) {
		if (vx !== vy || x.length !== y.length) return 1;
		const sum = (v) => v.reduce((n, f) => n + f[1], 0);
		return sum(x) - sum(y) || 1;
	}
	return x[0] !== y[0] ? x[0] - y[0] : x[1] - y[1];
}

// isNew: the dedupe rule. An event that carried an id is delivered only if
// that id is newer than the last delivered; one without an id always is.
function isNew(ev, last) {
	return !ev.hasId || !ev.id || compareIds(ev.id, last) > 0;
}

// --- text/event-stream parser (WHATWG HTML, "Event stream interpretation") --

class Parser {
	// onEvent({type, data, id, hasId}); onRetry(ms); onId(id), optional:
	// a block with an id and no data (a position, sent before any event).
	constructor(onEvent, onRetry, onId) {
		this.onEvent = onEvent;
		this.onId = onId;
		this.onRetry = onRetry || (() => {});
		this.buf = "";
		this.first = true;
		this.cr = false;	// the last chunk ended in CR: a LF next is its pair
		this.data = [];
		this.type = "";
		this.id = "";	// the last event id buffer: kept across events
		this.hasId = false;
	}

	push(text) {
		if (!text) return;
		if (this.first) {
			this.first = false;
			if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
		}
		let i = 0;
		if (this.cr) {
			this.cr = false;
			if (text[0] === "\n") i = 1;
		}
		const s = this.buf + text.slice(i);
		this.buf = "";
		const re = /[\r\n]/g;
		let pos = 0, m;
		while ((m = re.exec(s)) !== null) {
			const j = m.index;
			const line = s.slice(pos, j);
			if (s[j] === "\r") {
				if (j + 1 === s.length) this.cr = true;
				else if (s[j + 1] === "\n") re.lastIndex = j + 2;
			}
			pos = re.lastIndex;
			this.line(line);
		}
		this.buf = s.slice(pos);
	}

	line(line) {
		if (line === "") return this.dispatch();
		if (line[0] === ":") return;
		const c = line.indexOf(":");
		const field = c < 0 ? line : line.slice(0, c);
		let value = c < 0 ? "" : line.slice(c + 1);
		if (value[0] === " ") value = value.slice(1);
		switch (field) {
		case "event": this.type = value; break;
		case "data": this.data.push(value); break;
		case "id":
			if (!value.includes("\0")) { this.id = value; this.hasId = true; }
			break;
		case "retry":
			if (/^[0-9]+$/.test(value)) this.onRetry(parseInt(value, 10));
			break;
		}
	}

	dispatch() {
		const ev = { type: this.type || "message", data: this.data.join("\n"),
		    id: this.id, hasId: this.hasId };
		const any = this.data.length > 0;
		this.data = [];
		this.type = "";
		// An id set by a block without data belongs to the next event;
		// it is also where a reconnection resumes.
		if (!any) {
			if (this.hasId && this.onId) this.onId(this.id);
			return;
		}
		this.hasId = false;
		this.onEvent(ev);
	}
}

// --- reconnection delay -------------------------------------------------------

// Jittered exponential backoff: base (the server's retry: or options.retry)
// doubled per failure up to max, then 50..100% of that. reset() once a
// connection stayed open.
class Backoff {
	constructor(base = 3000, max = 60000) {
		this.base = base;
		this.max = max;
		this.failures = 0;
	}
	setBase(ms) { this.base = ms; }
	reset() { this.failures = 0; }
	// next(rand): the delay before the next attempt, counting a failure.
	next(rand = Math.random()) {
		const ceil = Math.min(this.max, this.base * 2 ** Math.min(this.failures, 30));
		this.failures++;
		return Math.round(ceil * (0.5 + 0.5 * rand));
	}
}

// --- stream URLs --------------------------------------------------------------

// splitUrl("https://h/api/v1/events/a,b?x=1") -> {prefix: "https://h/api/v1/events/",
// channels: ["a", "b"], query: "?x=1", key}; null if not a stream URL.
function splitUrl(url) {
	const m = /^(.*\/events\/)([^/?#]+)(\?[^#]*)?(#.*)?$/.exec(String(url));
	if (!m) return null;
	const channels = m[2].split(",").filter((c) => c !== "");
	if (channels.length === 0) return null;
	const query = m[3] || "";
	return { prefix: m[1], channels, query, key: m[1] + "\n" + query };
}

// mergeUrl: the stream URL of CHANNELS under PREFIX with QUERY.
function mergeUrl(prefix, channels, query) {
	return prefix + channels.join(",") + (query || "");
}

// groupChannels: CHANNELS (duplicates dropped) in groups of at most MAX.
function groupChannels(channels, max = MAX_CHANNELS) {
	const uniq = [...new Set(channels)];
	const out = [];
	for (let i = 0; i < uniq.length; i += max) out.push(uniq.slice(i, i + max));
	return out;
}

// demux: on a stream of several channels, the event name "<ch>" is a plain
// event of ch and "<ch>/<name>" a named one; on one channel, names are as
// published. -> {channel, type}; channel null if it names none of CHANNELS.
function demux(type, channels) {
	if (channels.length === 1) return { channel: channels[0], type };
	const slash = type.indexOf("/");
	const ch = slash < 0 ? type : type.slice(0, slash);
	if (!channels.includes(ch)) return { channel: null, type };
	return { channel: ch, type: slash < 0 ? "message" : type.slice(slash + 1) };
}

// --- ring of recent events ----------------------------------------------------

// What a leader keeps to replay to a tab that starts behind it. floor is
// the id just before the oldest event kept (where the stream started, or
// the last one dropped): after(id) answers for any id from floor on.
class Ring {
	constructor(floor = "", maxEvents = RING_EVENTS, maxBytes = RING_BYTES) {
		this.floor = floor || "";
		this.events = [];
		this.bytes = 0;
		this.maxEvents = maxEvents;
		this.maxBytes = maxBytes;
	}
	push(ev) {
		if (!ev.hasId || !ev.id) return;
		this.events.push(ev);
		this.bytes += ev.data.length + ev.type.length + ev.id.length;
		while (this.events.length > this.maxEvents || this.bytes > this.maxBytes) {
			const old = this.events.shift();
			this.bytes -= old.data.length + old.type.length + old.id.length;
			this.floor = old.id;
		}
	}
	// after(id): the events newer than id, or null if the ring does not
	// reach back that far.
	after(id) {
		if (!id) return null;
		const reach = (this.floor && compareIds(id, this.floor) >= 0) ||
		    (this.events.length > 0 && compareIds(id, this.events[0].id) >= 0);
		if (!reach) return null;
		return this.events.filter((e) => compareIds(e.id, id) > 0);
	}
}

// --- the last id, per stream URL, for a reload ----------------------------------

function storedId(url) {
	try { return globalThis.sessionStorage?.getItem(PREFIX + "last:" + url) || ""; } catch { return ""; }
}
function storeId(url, id) {
	try { globalThis.sessionStorage?.setItem(PREFIX + "last:" + url, id); } catch { /* full or denied */ }
}

// --- one HTTP stream ---------------------------------------------------------------

// Connection: reads URL with fetch(), sends Last-Event-ID (lastId()) and
// comes back after any status but 200 and 204 and after a lost stream.
// hooks: open(), event(ev), error(closed) (closed: 204, stopped for good),
// position(id) (optional: an id sent with no event).
class Connection {
	constructor(url, opts, lastId, hooks) {
		this.url = url;
		this.opts = opts;
		this.lastId = lastId;
		this.hooks = hooks;
		this.backoff = new Backoff(opts.retry ?? 3000, opts.maxRetry ?? 60000);
		this.stopped = false;
		this.ctl = null;
		this.timer = null;
		this.waitingOnline = false;
		this.onOnline = () => { if (this.waitingOnline) this.now(); };
		globalThis.addEventListener?.("online", this.onOnline);
		this.run();
	}

	stop() {
		this.stopped = true;
		clearTimeout(this.timer);
		this.ctl?.abort();
		globalThis.removeEventListener?.("online", this.onOnline);
	}

	// now: reconnect at once (online again).
	now() {
		this.waitingOnline = false;
		clearTimeout(this.timer);
		if (!this.ctl) this.run();
	}

	async run() {
		if (this.stopped) return;
		const ctl = this.ctl = new AbortController();
		const headers = { Accept: "text/event-stream" };
		const id = this.lastId();
		if (id) headers["Last-Event-ID"] = id;
		let opened = 0, got = false;
		try {
			const res = await fetch(this.url, { headers, signal: ctl.signal, cache: "no-store",
			    credentials: this.opts.withCredentials ? "include" : "same-origin" });
			if (res.status === 204) {
				this.stop();
				this.hooks.error(true);
				return;
			}
			const type = res.headers.get("content-type") || "";
			if (res.status !== 200 || !type.startsWith("text/event-stream") || !res.body) {
				res.body?.cancel().catch(() => {});
				throw new Error(`status ${res.status}`);
			}
			opened = Date.now();
			this.hooks.open();
			const reader = res.body.getReader();
			const dec = new TextDecoder("utf-8", { ignoreBOM: true });
			const p = new Parser((ev) => { got = true; if (!this.stopped) this.hooks.event(ev); },
			    (ms) => this.backoff.setBase(ms),
			    (pos) => { if (!this.stopped) this.hooks.position?.(pos); });
			for (;;) {
				const { value, done } = await reader.read();
				if (done || this.stopped) break;
				p.push(dec.decode(value, { stream: true }));
			}
		} catch (e) {
			/* refused, lost, or aborted by stop() */
		}
		this.ctl = null;
		if (this.stopped) return;
		// A stream that delivered or stayed open a while was a success.
		if (got || (opened && Date.now() - opened >= (this.opts.resetAfter ?? 5000)))
			this.backoff.reset();
		this.hooks.error(false);
		this.schedule();
	}

	schedule() {
		if (this.stopped) return;
		if (offline()) {
			// No attempt while offline: "online" calls now(); the flag is
			// also looked at each second, in case that event never comes.
			this.waitingOnline = true;
			this.timer = setTimeout(() => offline() ? this.schedule() : this.now(), 1000);
			return;
		}
		this.timer = setTimeout(() => this.run(), this.backoff.next());
	}
}

function offline() {
	return globalThis.navigator?.onLine === false;
}

// --- a stream shared across tabs -------------------------------------------------------

let tabSeq = 0;
const TAB = Math.random().toString(36).slice(2) + Date.now().toString(36);

function canShare() {
	return typeof BroadcastChannel === "function" &&
	    typeof globalThis.navigator?.locks?.request === "function";
}

// Stream: the events of one stream URL for this page, read by this tab (as
// leader, or privately) or received from the leader tab. hooks: event(ev),
// state(readyState).
class Stream {
	constructor(url, startId, opts, hooks, share) {
		this.url = url;
		this.opts = opts;
		this.hooks = hooks;
		this.lastId = startId || "";
		this.ring = new Ring(this.lastId);
		this.me = TAB + "." + (++tabSeq);
		this.share = share && canShare();
		this.conn = null;
		this.bc = null;
		this.leader = false;
		this.closed = false;
		this.pending = null;	// live events held while a replay is awaited
		this.catchup = null;
		this.state = CONNECTING;
		this.start();
	}

	start() {
		this.closed = false;
		if (!this.share) {
			this.connect();
			return;
		}
		this.bc = new BroadcastChannel(PREFIX + this.url);
		this.bc.onmessage = (m) => this.message(m.data);
		this.lockAbort = new AbortController();
		navigator.locks.request(PREFIX + this.url, { signal: this.lockAbort.signal },
		    () => new Promise((release) => {
			if (this.closed) return release();
			this.release = release;
			this.lead();
		    })).catch(() => {});
		this.ask();
	}

	// stop: the connection closed, leadership released (close() or a page
	// going into the back-forward cache).
	stop() {
		this.closed = true;
		this.endCatchup(false);
		this.conn?.stop();
		this.conn = null;
		this.leader = false;
		this.lockAbort?.abort();
		this.release?.();
		this.release = null;
		this.bc?.close();
		this.bc = null;
		this.pending = null;
	}

	connect() {
		this.conn = new Connection(this.url, this.opts, () => this.lastId, {
			open: () => this.setState(OPEN),
			event: (ev) => this.deliver(ev, true),
			error: (closed) => this.setState(closed ? CLOSED : CONNECTING, true),
			position: (id) => this.position(id, true),
		});
	}

	// position: an id with no event (the stream's place before its first
	// event): where this tab, and the others, resume from.
	position(id, fromServer) {
		if (compareIds(id, this.lastId) <= 0) return;
		this.lastId = id;
		storeId(this.url, id);
		if (fromServer && this.leader) this.post({ t: "pos", id });
	}

	lead() {
		this.leader = true;
		// The connection resumes from lastId: what was held is re-sent.
		this.pending = null;
		this.endCatchup(false);
		this.connect();
		this.post({ t: "lead" });
	}

	// ask: a follower with an id asks the leader for what came after it.
	ask() {
		if (this.leader || !this.bc) return;
		if (this.lastId) {
			this.pending = this.pending || [];
			clearTimeout(this.askTimer);
			this.askTimer = setTimeout(() => { if (this.pending && !this.leader) this.privateCatchup(); },
			    this.opts.replayWait ?? 3000);
		}
		this.post({ t: "hello", from: this.lastId, to: this.me });
	}

	post(m) { try { this.bc?.postMessage(m); } catch { /* closed */ } }

	setState(s, error) {
		this.state = s;
		if (this.leader) this.post({ t: "state", s, error: !!error });
		this.hooks.state(s, !!error);
	}

	deliver(ev, fromServer) {
		if (!isNew(ev, this.lastId)) return false;
		if (ev.hasId && ev.id) {
			this.lastId = ev.id;
			storeId(this.url, ev.id);
			this.ring.push(ev);
		}
		if (fromServer && this.leader) this.post({ t: "ev", ev });
		this.hooks.event(ev);
		return true;
	}

	message(m) {
		if (this.closed || !m) return;
		switch (m.t) {
		case "ev":
			if (this.leader) return;
			if (this.pending) {
				if (this.pending.length < 10000) this.pending.push(m.ev);
				else this.endCatchup(true);
			} else this.deliver(m.ev, false);
			return;
		case "state":
			if (!this.leader && this.state !== m.s) this.hooks.state(this.state = m.s, m.error);
			return;
		case "pos":
			if (!this.leader && typeof m.id === "string") this.position(m.id, false);
			return;
		case "lead":
			if (!this.leader) this.ask();
			return;
		case "hello":
			if (!this.leader) return;
			this.post({ t: "replay", to: m.to, events: m.from ? this.ring.after(m.from) : [],
			    s: this.state });
			return;
		case "replay":
			if (m.to !== this.me || this.leader) return;
			clearTimeout(this.askTimer);
			if (this.state !== m.s) this.hooks.state(this.state = m.s, false);
			if (m.events === null) return this.privateCatchup();
			for (const ev of m.events) this.deliver(ev, false);
			this.flush();
			return;
		}
	}

	flush() {
		const held = this.pending || [];
		this.pending = null;
		for (const ev of held) this.deliver(ev, false);
	}

	// privateCatchup: the leader's ring does not reach back to our id: one
	// private stream from it, until it has reached the live events held
	// meanwhile (or 5 s passed without an event, or it failed).
	privateCatchup() {
		if (this.catchup || this.closed) return;
		this.pending = this.pending || [];
		const c = this.catchup = { idle: null };
		const idle = () => {
			clearTimeout(c.idle);
			c.idle = setTimeout(() => this.endCatchup(true), this.opts.catchupIdle ?? 5000);
		};
		c.conn = new Connection(this.url, this.opts, () => this.lastId, {
			open: idle,
			event: (ev) => {
				this.deliver(ev, false);
				idle();
				const p = this.pending;
				if (p && p.length && p[0].hasId && compareIds(this.lastId, p[0].id) >= 0)
					this.endCatchup(true);
			},
			error: () => this.endCatchup(true),
		});
	}

	endCatchup(flush) {
		const c = this.catchup;
		if (!c) return;
		this.catchup = null;
		clearTimeout(c.idle);
		c.conn.stop();
		if (flush) this.flush();
	}
}

// --- the page's groups of channels ----------------------------------------------

// A group: the objects of one page on one mount and query whose channels
// (at most 16) share one stream. A solo group is one object with its own
// URL (share: false, several channels, or not a stream URL).
const groups = new Set();

class Group {
	constructor(split, url, opts, solo) {
		this.split = split;
		this.url = url;
		this.opts = opts;
		this.solo = solo;
		this.subs = new Map();	// channel -> Set of SharedEventSource
		this.stream = null;
		this.channels = [];
		this.timer = null;
		groups.add(this);
	}

	wanted() { return [...this.subs.keys()]; }

	add(src, ch) {
		if (!this.subs.has(ch)) this.subs.set(ch, new Set());
		this.subs.get(ch).add(src);
		this.schedule();
	}

	remove(src, ch) {
		const s = this.subs.get(ch);
		if (!s) return;
		s.delete(src);
		if (s.size === 0) this.subs.delete(ch);
		this.schedule();
	}

	// Creations in one tick join one stream.
	schedule() {
		if (this.timer !== null) return;
		this.timer = setTimeout(() => { this.timer = null; this.rebuild(); }, this.opts.batchMs ?? 0);
	}

	rebuild() {
		const want = this.wanted();
		if (want.length === 0) {
			this.stream?.stop();
			this.stream = null;
			groups.delete(this);
			return;
		}
		const same = want.length === this.channels.length && want.every((c) => this.channels.includes(c));
		if (same && this.stream) {
			// Late joiners of a running stream: tell them where it is.
			for (const src of this.all()) src._join(this.stream.state);
			return;
		}
		const old = this.stream;
		old?.stop();
		this.channels = want;
		const url = this.solo ? this.url : mergeUrl(this.split.prefix, want, this.split.query);
		const start = old ? old.lastId : storedId(url);
		this.stream = new Stream(url, start, this.opts, {
			event: (ev) => this.event(ev),
			state: (s, error) => { for (const src of this.all()) src._state(s, error); },
		}, this.opts.share !== false);
		for (const src of this.all()) src._join(this.stream.state);
	}

	*all() { for (const s of this.subs.values()) yield* s; }

	event(ev) {
		if (this.solo) {
			for (const src of this.all()) src._event(ev.type, ev);
			return;
		}
		const d = demux(ev.type, this.channels);
		if (d.channel === null) return;
		for (const src of this.subs.get(d.channel) || []) src._event(d.type, ev);
	}

	suspend() { this.stream?.stop(); }
	resume() { this.stream?.start(); }
}

function groupFor(src, opts) {
	const split = opts.share === false ? null : splitUrl(src.url);
	// Channels in the query (?channel=) are not the path's to merge.
	if (!split || split.channels.length !== 1 || /[?&]channel=/.test(split.query))
		return [new Group(split, src.url, opts, true), ""];
	const ch = split.channels[0];
	for (const g of groups) {
		if (g.solo || g.split.key !== split.key || g.opts.withCredentials !== opts.withCredentials) continue;
		if (g.subs.has(ch) || g.subs.size < MAX_CHANNELS) return [g, ch];
	}
	return [new Group(split, null, opts, false), ch];
}

// Back-forward cache: a page kept there holds no stream and no lock.
if (typeof window !== "undefined" && window.addEventListener) {
	window.addEventListener("pagehide", (e) => { if (e.persisted) for (const g of groups) g.suspend(); });
	window.addEventListener("pageshow", (e) => { if (e.persisted) for (const g of groups) g.resume(); });
}

// --- the EventSource interface ------------------------------------------------------

const Base = typeof EventTarget === "function" ? EventTarget : class {};

function makeEvent(type, init) {
	if (typeof MessageEvent === "function") return new MessageEvent(type, init);
	const e = new Event(type);
	return Object.assign(e, init);
}

export class SharedEventSource extends Base {
	constructor(url, options = {}) {
		super();
		const base = globalThis.location?.href;
		this.url = base ? new URL(url, base).href : String(url);
		this.withCredentials = !!options.withCredentials;
		this.readyState = CONNECTING;
		this.lastEventId = "";
		this._handlers = {};
		this._opts = { ...options, withCredentials: this.withCredentials };
		[this._group, this._channel] = groupFor(this, this._opts);
		this._group.add(this, this._channel);
	}

	close() {
		if (this.readyState === CLOSED) return;
		this.readyState = CLOSED;
		this._group.remove(this, this._channel);
	}

	_join(s) {
		if (this.readyState === CLOSED) return;
		if (s === OPEN && this.readyState !== OPEN) this._state(OPEN, false);
	}

	_state(s, error) {
		if (this.readyState === CLOSED) return;
		const was = this.readyState;
		this.readyState = s;
		if (s === OPEN && was !== OPEN) this.dispatchEvent(new Event("open"));
		else if (error) this.dispatchEvent(new Event("error"));
		if (s === CLOSED) this._group.remove(this, this._channel);
	}

	_event(type, ev) {
		if (this.readyState === CLOSED) return;
		if (ev.id !== undefined) this.lastEventId = ev.id;
		const origin = this._origin || (this._origin = originOf(this.url));
		this.dispatchEvent(makeEvent(type, { data: ev.data, lastEventId: this.lastEventId, origin }));
	}
}

function originOf(url) {
	try { return new URL(url).origin; } catch { return ""; }
}

for (const type of ["open", "message", "error"]) {
	Object.defineProperty(SharedEventSource.prototype, "on" + type, {
		get() { return this._handlers[type] ?? null; },
		set(fn) {
			if (!(type in this._handlers))
				this.addEventListener(type, (e) => this._handlers[type]?.call(this, e));
			this._handlers[type] = typeof fn === "function" ? fn : null;
		},
	});
}
for (const [k, v] of Object.entries({ CONNECTING, OPEN, CLOSED })) {
	Object.defineProperty(SharedEventSource, k, { value: v, enumerable: true });
	Object.defineProperty(SharedEventSource.prototype, k, { value: v, enumerable: true });
}

export default SharedEventSource;

// For the unit tests: the pure parts.
export const _internal = {
	parseId, compareIds, isNew, Parser, Backoff, splitUrl, mergeUrl, groupChannels,
	demux, Ring, MAX_CHANNELS,
};
