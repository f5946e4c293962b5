/**
 * Every long-running child the e2e tier starts asynchronously is tracked here, so the root hooks can stop
 * whatever is still running, by pid, whether the run passed, failed or was interrupted.
 */
import { ChildProcess } from "child_process";
import { alive } from "../../../tools/cluster";

const running = new Set<ChildProcess>();

export function track<T extends ChildProcess>(child: T): T {
    running.add(child);
    child.once("exit", () => running.delete(child));
    return child;
}

/** Pids still running (for a test that checks nothing was left behind). */
export function runningPids(): number[] {
    return [...running].map((c) => c.pid).filter((p): p is number => p !== undefined);
}

/** SIGTERM each tracked pid, then SIGKILL whatever is left after a grace period. */
export async function stopAll(graceMs = 5_000): Promise<void> {
    const pids = runningPids();
    for (const pid of pids) {
        try {
            process.kill(pid, "SIGTERM");
        } catch {
            // Already gone.
        }
    }
    const deadline = Date.now() + graceMs;
    while (pids.some(alive) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
    }
    for (const pid of pids.filter(alive)) {
        process.kill(pid, "SIGKILL");
    }
    running.clear();
}
