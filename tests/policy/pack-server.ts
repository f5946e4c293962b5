/**
 * Starts a policy pack the way the engine's analyzer plugin does: `node <@pulumi/pulumi/cmd/run-policy-pack>
 * <engine-address> .` in the pack directory, with run-policy-pack and ts-node resolved from that directory.
 * The pack prints its port; the caller gets an Analyzer gRPC client and the pack's GetAnalyzerInfo answer.
 * Used by the fast tier (the workspace pack) and the e2e tier (the pack installed on its own).
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as rpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";

// Message classes must come from the protobuf runtime @pulumi/pulumi's generated code uses.
const PULUMI_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Empty } = require(require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [PULUMI_DIR] })) as typeof import("google-protobuf/google/protobuf/empty_pb");

export function call<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => { fn(req, (err, res) => (err ? reject(err) : resolve(res))); });
}

export interface PackServer {
    client: rpc.AnalyzerClient;
    info: pb.AnalyzerInfo;
    /** The run-policy-pack entry point that was started (resolved from the pack directory). */
    entry: string;
    /** Closes the client and kills the pack process; safe to call more than once. */
    stop(): void;
}

/**
 * Starts the pack in `dir` and asks it for GetAnalyzerInfo. `env` replaces the child's environment
 * (the standalone test passes one without the workspace's loader settings). On any failure the
 * process is stopped before the error is thrown.
 */
export async function startPolicyPack(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<PackServer> {
    const entry = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [dir] });
    // argv as the analyzer plugin passes it: engine address (unused by a pack), then the pack path.
    const child: ChildProcess = spawn(process.execPath, [entry, "127.0.0.1:0", "."], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let client: rpc.AnalyzerClient | undefined;
    const stop = (): void => {
        client?.close();
        if (child.exitCode === null && child.signalCode === null) child.kill();
    };
    try {
        let stderr = "";
        child.stderr!.on("data", (d: Buffer) => { stderr += d.toString(); });
        const port = await new Promise<number>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (d: Buffer) => {
                out += d.toString();
                const line = out.split("\n")[0];
                if (out.includes("\n") && /^\d+$/.test(line.trim())) resolve(Number(line));
            });
            child.on("error", reject);
            child.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr || out}`)));
        });
        client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        const info = await call(client.getAnalyzerInfo.bind(client) as never, new Empty()) as pb.AnalyzerInfo;
        return { client, info, entry, stop };
    } catch (err) {
        stop();
        throw err;
    }
}
