// sse-fcgi - MIT License
//
// Quick start, "3. Frontend подключение": plain EventSource, no framework.
// The code below is the quick start's, with the URL made relative (the page
// is served by the same front server as the stream). The only additions are
// the lines marked "test:", which copy what the page saw into the DOM.

const out = (id, text) => { document.getElementById(id).textContent = text; }; // test:

// 1. Создайте EventSource соединение
const eventSource = new EventSource(
    "/api/v1/events/project.123"
);

// 2. Обработайте входящие события
eventSource.onmessage = (event) => {
    const data = JSON.parse(event.data);
    console.log("Received:", data);
    out("plain-last", event.data);                                       // test:

    if (data.type === "notification") {
        out("plain-message", data.object.message);                      // test:
        alert(data.object.message);
    }
};

// 3. Очистите ресурсы
eventSource.onopen = () => { console.log("Connected"); out("plain-status", "connected"); };
eventSource.onerror = () => { console.log("Error occurred"); out("plain-status", "error"); };

// При unmount компонента
window.addEventListener("pagehide", () => eventSource.close());
