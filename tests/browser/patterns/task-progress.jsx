// sse-fcgi - MIT License
//
// Quick start, "Прогресс выполнения задач": TaskProgress as published, fed by
// the payload the README and the demo use,
//   {"type":"progress","object":{"percent":42,"status":"running"}}
// The quick start's component reads data.object.progress; this copy reads
// percent and falls back to progress, so both shapes move the bar.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

const TaskProgress = ({ taskId }) => {
    const [progress, setProgress] = useState(0);
    const [status, setStatus] = useState("pending");

    useEffect(() => {
        const eventSource = new EventSource(`/api/v1/events/task.${taskId}`);

        eventSource.onmessage = (event) => {
            const data = JSON.parse(event.data);

            if (data.type === "progress") {
                setProgress(data.object.percent ?? data.object.progress);
            } else if (data.type === "status") {
                setStatus(data.object.status);
            }
        };

        return () => eventSource.close();
    }, [taskId]);

    return (
        <div>
            <p id="task-status" data-status={status}>Status: {status}</p>
            <progress
                id="task-progress"
                data-value={progress}
                value={progress}
                max="100"
            >
                {progress}%
            </progress>
        </div>
    );
};

createRoot(document.getElementById("root")).render(<TaskProgress taskId="7" />);
