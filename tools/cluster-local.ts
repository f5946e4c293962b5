/**
 * A local Kubernetes control plane with the AKS Istio add-on's footprint, for trying a stack for real:
 *
 *   npm run cluster:local -- up [--json] [--revisions asm-1-29,asm-1-30] [--port-base 36000]
 *   npm run cluster:local -- status [--json]
 *   npm run cluster:local -- down [--json]
 *
 * `up` returns once the API server is ready, the kwok nodes are Ready and the add-on footprint is applied,
 * and prints the kubeconfig path (--json: { kubeconfig, server }). The binaries come from `npm run tools`.
 * Exit 2 for a wrong argument, a missing binary or a port in use; 1 when a component crashes (nothing is
 * left running either way).
 */
import { ConfigError } from "../policy-pack/lib/errors";
import { localClusterStatus, startLocalCluster, stopLocalCluster } from "./cluster";

const USAGE = "up|down|status [--json] [--revisions asm-1-30[,asm-1-29]] [--port-base N]";

function parseArgs(argv: string[]): { command: "up" | "down" | "status"; json: boolean; revisions?: string[]; portBase?: number } {
    let command: "up" | "down" | "status" | undefined;
    let json = false;
    let revisions: string[] | undefined;
    let portBase: number | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "up" || arg === "down" || arg === "status") {
            if (command) throw new ConfigError(arg, `only one command is allowed; usage: ${USAGE}`);
            command = arg;
        } else if (arg === "--json") {
            json = true;
        } else if (arg === "--revisions") {
            const value = argv[++i];
            if (!value) throw new ConfigError(arg, "needs a value such as asm-1-30 or asm-1-29,asm-1-30");
            revisions = value.split(",").map((r) => r.trim()).filter(Boolean);
        } else if (arg === "--port-base") {
            portBase = Number(argv[++i]);
            if (!Number.isInteger(portBase) || portBase < 1024 || portBase > 64_000) throw new ConfigError(arg, "must be an integer between 1024 and 64000");
        } else {
            throw new ConfigError(arg, `is not a command or option; usage: ${USAGE}`);
        }
    }
    if (!command) throw new ConfigError("command", `missing; usage: ${USAGE}`);
    return { command, json, revisions, portBase };
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    if (args.command === "up") {
        // Ctrl-C while starting: stop what was started, by the pids recorded so far.
        process.once("SIGINT", () => void stopLocalCluster().then(() => process.exit(130)));
        const info = await startLocalCluster({ revisions: args.revisions, portBase: args.portBase, log: (l) => console.error(`[cluster:local] ${l}`) });
        if (args.json) console.log(JSON.stringify({ kubeconfig: info.kubeconfig, server: info.server, revisions: info.revisions, stateDir: info.stateDir, seconds: info.seconds }, null, 2));
        else console.log(`ready in ${info.seconds} s: ${info.server} (revisions ${info.revisions.join(", ")})\nexport KUBECONFIG=${info.kubeconfig}`);
    } else if (args.command === "down") {
        const r = await stopLocalCluster();
        if (args.json) console.log(JSON.stringify(r, null, 2));
        else console.log(r.stopped.length ? `stopped ${r.stopped.join(", ")}; removed ${r.stateDir}` : `nothing was running; removed ${r.stateDir}`);
    } else {
        const s = localClusterStatus();
        if (args.json) console.log(JSON.stringify(s, null, 2));
        else if (s.components.length === 0) console.log(`not running (no state in ${s.stateDir})`);
        else {
            console.log(`${s.running ? "running" : "DEGRADED"}: ${s.server}  kubeconfig ${s.kubeconfig}  revisions ${s.revisions?.join(", ")}`);
            for (const c of s.components) console.log(`  ${c.name.padEnd(24)} pid ${String(c.pid).padEnd(8)} ${c.alive ? "alive" : "gone"}`);
        }
        process.exitCode = s.running ? 0 : 1;
    }
}

main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(e instanceof ConfigError ? 2 : 1);
});
