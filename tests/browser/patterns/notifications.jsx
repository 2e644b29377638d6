// sse-fcgi - MIT License
//
// Quick start, "Real-time уведомления": NotificationComponent as published
// (types removed; ids added for the test). Newest first.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

const NotificationComponent = ({ userId }) => {
    const [notifications, setNotifications] = useState([]);

    useEffect(() => {
        const eventSource = new EventSource(`/api/v1/events/user.${userId}`);

        eventSource.onmessage = (event) => {
            const data = JSON.parse(event.data);
            if (data.type === "notification") {
                setNotifications((prev) => [data.object, ...prev]);
            }
        };

        return () => eventSource.close();
    }, [userId]);

    return (
        <div id="notifications" data-count={notifications.length}>
            {notifications.map((notif, i) => (
                // The quick start uses key={notif.id}; its payloads carry no
                // id, so the index keeps React quiet here.
                <div key={notif.id ?? i} className="notification">{notif.message}</div>
            ))}
        </div>
    );
};

createRoot(document.getElementById("root")).render(<NotificationComponent userId="1" />);
