// sse-fcgi - MIT License
//
// The quick start's Zustand store used on its own: a component connects on
// mount with one handler and disconnects on unmount; a button calls
// disconnect() so the test can check that the stream is released.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { useEventSourceStore } from "./utils/event-source-store.js";

function ProjectFeed({ channel }) {
    const [last, setLast] = useState(null);
    const [count, setCount] = useState(0);
    const { connect, disconnect } = useEventSourceStore();
    const connection = useEventSourceStore((s) => s.connection);

    useEffect(() => {
        const handler = (data) => {
            setLast(data);
            setCount((n) => n + 1);
        };
        connect(`/api/v1/events/${channel}`, [handler]);
        return () => disconnect();
    }, [channel]);

    return (
        <div>
            <p id="zustand-connection" data-connected={String(connection !== null)}>
                {connection ? "connection in store" : "no connection"}
            </p>
            <p id="zustand-count" data-count={count}>{count} events</p>
            {last && last.type === "notification" && (
                <p id="zustand-message">{last.object.message}</p>
            )}
            <button id="zustand-disconnect" onClick={() => disconnect()}>Disconnect</button>
        </div>
    );
}

createRoot(document.getElementById("root")).render(<ProjectFeed channel="project.123" />);
