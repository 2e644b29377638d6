// sse-fcgi - MIT License
//
// Quick start, "Прогресс выполнения задач": the TaskProgress component as
// published, with only its TypeScript type removed, for initial events
// (tests/browser/initial.mjs). The task comes from ?task=ID.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

// --- the quick start's code, unchanged ---
const TaskProgress = ({ taskId }) => {
    const [progress, setProgress] = useState(0);
    const [status, setStatus] = useState("pending");

    useEffect(() => {
        const eventSource = new EventSource(`/api/v1/events/task.${taskId}`);

        eventSource.onmessage = (event) => {
            const data = JSON.parse(event.data);

            if (data.type === "progress") {
                setProgress(data.object.progress);
            } else if (data.type === "status") {
                setStatus(data.object.status);
            }
        };

        return () => eventSource.close();
    }, [taskId]);

    return (
        <div>
            <p>Status: {status}</p>
            <progress
                value={progress}
                max="100"
            >
                {progress}%
            </progress>
        </div>
    );
};
// --- end of the quick start's code ---

const task = new URLSearchParams(location.search).get("task") || "1";
createRoot(document.getElementById("root")).render(<TaskProgress taskId={task} />);
