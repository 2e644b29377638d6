// sse-fcgi - MIT License
//
// Types of SharedEventSource (sse-fcgi.js): EventSource's interface plus
// the options of its own connection and sharing.

export interface SharedEventSourceInit {
  /** Send cookies to another origin (fetch credentials "include"). */
  withCredentials?: boolean;
  /** false: a private stream of this object alone, not shared with the
   *  page's other objects or tabs. Default true. */
  share?: boolean;
  /** Reconnection base delay in ms until the server sends retry:. Default 3000. */
  retry?: number;
  /** Longest reconnection delay in ms. Default 60000. */
  maxRetry?: number;
  /** A stream open this long (ms) resets the backoff. Default 5000. */
  resetAfter?: number;
  /** Objects created within this many ms share one stream. Default 0 (one tick). */
  batchMs?: number;
}

export interface SharedEventSourceEventMap {
  open: Event;
  message: MessageEvent<string>;
  error: Event;
}

export declare class SharedEventSource extends EventTarget {
  constructor(url: string | URL, options?: SharedEventSourceInit);
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSED: 2;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;
  readonly url: string;
  readonly withCredentials: boolean;
  /** 0 connecting (also while waiting to reconnect), 1 open, 2 closed. */
  readonly readyState: 0 | 1 | 2;
  /** The id of the last event delivered to this object. */
  readonly lastEventId: string;
  onopen: ((this: SharedEventSource, ev: Event) => any) | null;
  onmessage: ((this: SharedEventSource, ev: MessageEvent<string>) => any) | null;
  onerror: ((this: SharedEventSource, ev: Event) => any) | null;
  addEventListener<K extends keyof SharedEventSourceEventMap>(type: K,
    listener: (this: SharedEventSource, ev: SharedEventSourceEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: (this: SharedEventSource, ev: MessageEvent<string>) => any,
    options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof SharedEventSourceEventMap>(type: K,
    listener: (this: SharedEventSource, ev: SharedEventSourceEventMap[K]) => any,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: (this: SharedEventSource, ev: MessageEvent<string>) => any,
    options?: boolean | EventListenerOptions): void;
  close(): void;
}

export default SharedEventSource;

/** The pure helpers, for tests; not a stable interface. */
export declare const _internal: Record<string, unknown>;
