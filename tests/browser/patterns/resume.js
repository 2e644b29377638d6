// sse-fcgi - MIT License
//
// Plain EventSource left to reconnect by itself: the browser sends
// Last-Event-ID on each reconnection and must see every event exactly once,
// in order. The channel and mount come from the query string
// (?url=/life/events/browser.resume). Every message is recorded with the
// id it carried and the connection (1, 2, ...) that delivered it.
const params = new URLSearchParams(location.search);
const url = params.get("url") || "/api/v1/events/browser.resume";
const state = { opens: 0, errors: 0, received: [] };
window.resumeState = state;

const show = () => {
    const el = document.getElementById("resume");
    el.dataset.opens = String(state.opens);
    el.dataset.errors = String(state.errors);
    el.dataset.count = String(state.received.length);
    el.dataset.readyState = String(eventSource.readyState);
    const list = document.getElementById("resume-received");
    list.textContent = "";
    for (const r of state.received) {
        const li = document.createElement("li");
        li.textContent = `${r.message} (id ${r.id}, connection ${r.connection})`;
        li.dataset.message = r.message;
        li.dataset.id = r.id;
        li.dataset.connection = String(r.connection);
        list.appendChild(li);
    }
};

const eventSource = new EventSource(url);
eventSource.onopen = () => { state.opens++; show(); };
eventSource.onerror = () => { state.errors++; show(); };
eventSource.onmessage = (event) => {
    const data = JSON.parse(event.data);
    state.received.push({ message: data.object.message, id: event.lastEventId, connection: state.opens });
    show();
};
window.addEventListener("pagehide", () => eventSource.close());
show();
