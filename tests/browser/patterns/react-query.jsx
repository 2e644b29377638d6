// sse-fcgi - MIT License
//
// Quick start, "React Query интеграция": useRealtimeData(channel, queryKey)
// as published (through the Zustand store) writes data.object into the
// React Query cache; a component reads it back with useQuery. Beside it, a
// notifications list kept in the cache by an EventSource handler with
// queryClient.setQueryData(['notifications'], old => [...]).
//
// Note: useRealtimeData lists queryKey in its effect's dependencies, so the
// key must be a stable array (a module constant here); an inline
// ['project'] literal would close and reopen the stream on every render.
import { useEffect } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEventSourceStore } from "./utils/event-source-store.js";

export const useRealtimeData = (channel, queryKey) => {
    const queryClient = useQueryClient();
    const { connect, disconnect } = useEventSourceStore();

    useEffect(() => {
        const handler = (data) => {
            // Обновляем кеш React Query
            queryClient.setQueryData(queryKey, data.object);
        };

        connect(`/api/v1/events/${channel}`, [handler]);

        return () => disconnect();
    }, [channel, queryKey]);
};

const PROJECT_KEY = ["project", "123", "latest"];
// Data arrives only through the stream: nothing to fetch.
const cacheOnly = { queryFn: () => null, initialData: null, staleTime: Infinity };

function ProjectLatest() {
    useRealtimeData("project.123", PROJECT_KEY);
    const { data } = useQuery({ queryKey: PROJECT_KEY, ...cacheOnly });
    return (
        <p id="rq-latest" data-has-data={String(data !== null)}>
            {data ? data.message : "nothing yet"}
        </p>
    );
}

function useNotificationsCache(userId) {
    const queryClient = useQueryClient();

    useEffect(() => {
        const eventSource = new EventSource(`/api/v1/events/user.${userId}`);

        eventSource.onmessage = (event) => {
            const data = JSON.parse(event.data);
            if (data.type === "notification") {
                queryClient.setQueryData(["notifications"], (old) => [data.object, ...(old ?? [])]);
            }
        };

        return () => eventSource.close();
    }, [userId]);
}

function NotificationsList({ userId }) {
    useNotificationsCache(userId);
    const { data } = useQuery({ queryKey: ["notifications"], ...cacheOnly, initialData: [] });
    return (
        <ul id="rq-notifications" data-count={data.length}>
            {data.map((notif, i) => (
                <li key={i} className="rq-notification">{notif.message}</li>
            ))}
        </ul>
    );
}

const queryClient = new QueryClient();

createRoot(document.getElementById("root")).render(
    <QueryClientProvider client={queryClient}>
        <ProjectLatest />
        <NotificationsList userId="1" />
    </QueryClientProvider>
);
