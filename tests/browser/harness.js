// sse-fcgi - MIT License
//
// Test harness loaded before every pattern page (not part of the patterns).
// It wraps window.EventSource only to observe it: every instance the page
// creates gets extra listeners that count "open", "error" and "message"
// events. The counts are mirrored onto <html> as data attributes, so the
// test can wait for "connected" without the pattern code having to say so:
//   data-es-created  EventSource objects created
//   data-es-open     "open" events (1 per (re)connection)
//   data-es-error    "error" events (a dropped stream, a refused one)
//   data-es-message  "message" events
//   data-es-closed   instances closed by the page (es.close())
(function () {
  'use strict';
  var Native = window.EventSource;
  var counts = { created: 0, open: 0, error: 0, message: 0, closed: 0 };
  window.__sse = { counts: counts, sources: [] };

  function mirror() {
    var d = document.documentElement.dataset;
    d.esCreated = String(counts.created);
    d.esOpen = String(counts.open);
    d.esError = String(counts.error);
    d.esMessage = String(counts.message);
    d.esClosed = String(counts.closed);
  }

  function Observed(url, init) {
    var es = new Native(url, init);
    counts.created++;
    window.__sse.sources.push({ url: String(url), es: es });
    es.addEventListener('open', function () { counts.open++; mirror(); });
    es.addEventListener('error', function () { counts.error++; mirror(); });
    es.addEventListener('message', function () { counts.message++; mirror(); });
    var close = es.close;
    es.close = function () {
      if (es.readyState !== Native.CLOSED) counts.closed++;
      close.call(es);
      mirror();
    };
    mirror();
    return es;     // `new Observed(...)` yields the real EventSource
  }
  Observed.prototype = Native.prototype;
  Observed.CONNECTING = Native.CONNECTING;
  Observed.OPEN = Native.OPEN;
  Observed.CLOSED = Native.CLOSED;
  window.EventSource = Observed;
  mirror();
})();
