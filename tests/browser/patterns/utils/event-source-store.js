// sse-fcgi - MIT License
//
// Quick start, "EventSource Store (Zustand)": utils/event-source-store.ts as
// published, TypeScript types removed. Shared by zustand.jsx and
// react-query.jsx; not a page of its own (build.mjs bundles only the files
// directly in patterns/).
import { create } from "zustand";

export const useEventSourceStore = create((set, get) => ({
    connection: null,
    handlers: [],

    connect: (url, handlers) => {
        const { connection } = get();

        if (connection) connection.close();

        const eventSource = new EventSource(url);

        eventSource.onmessage = (event) => {
            const data = JSON.parse(event.data);
            handlers.forEach((handler) => handler(data));
        };

        set({ connection: eventSource, handlers });
    },

    disconnect: () => {
        const { connection } = get();
        if (connection) {
            connection.close();
            set({ connection: null, handlers: [] });
        }
    },
}));
