// sse-fcgi - MIT License
//
// Quick start, "4. React Hook пример": the useSSE(channel) hook and the
// component that uses it, as published (TypeScript annotations removed,
// an id added to the <p> so the test can find it).
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

export const useSSE = (channel) => {
    const [data, setData] = useState(null);

    useEffect(() => {
        const eventSource = new EventSource(`/api/v1/events/${channel}`);

        eventSource.onmessage = (event) => {
            setData(JSON.parse(event.data));
        };

        return () => eventSource.close();
    }, [channel]);

    return data;
};

// Использование
function MyComponent() {
    const notification = useSSE("project.123");

    return <div>{notification && <p id="use-sse-message">{notification.object.message}</p>}</div>;
}

createRoot(document.getElementById("root")).render(<MyComponent />);
