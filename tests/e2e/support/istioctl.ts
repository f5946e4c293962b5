/**
 * istioctl as a judge, offline: `validate` (istiod's webhook checks) and `analyze --use-kube=false` (the
 * analyzers) on files. Runs are synchronous with a timeout, so no istioctl outlives its call.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { ROOT_NAMESPACE } from "../../../policy-pack/lib/aks";
import { KubeObject } from "../../../policy-pack/rules";
import { track } from "./processes";

const TIMEOUT_MS = 120_000;

/** One istioctl analyze message (`-o json`). */
export interface AnalyzerMessage {
    readonly code: string;
    readonly level: "Error" | "Warning" | "Info";
    /** `Kind namespace/name` or `Kind name`. */
    readonly origin: string;
    readonly message: string;
}

export function toYaml(objects: readonly KubeObject[]): string {
    return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** A scratch directory, removed when `body` returns or throws. */
export function withTempDir<T>(body: (dir: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-istio-mesh-e2e-"));
    try {
        return body(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function run(binary: string, args: readonly string[]): { status: number; stdout: string; stderr: string } {
    const r = spawnSync(binary, args, { encoding: "utf8", timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, killSignal: "SIGKILL" });
    if (r.error) throw new Error(`${path.basename(binary)} ${args[0]}: ${r.error.message}`);
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** istioctl analyze exits 79 when it found messages at or above the failure threshold; anything else non-zero is a crash. */
const ANALYZE_FOUND_ISSUES = 79;

function analyzeArgs(dir: string, objects: readonly KubeObject[], meshConfig?: string): string[] {
    const file = path.join(dir, "objects.yaml");
    fs.writeFileSync(file, toYaml(objects));
    const args = ["analyze", "--use-kube=false", "--all-namespaces", "-i", ROOT_NAMESPACE, "-o", "json", "--output-threshold", "Info"];
    if (meshConfig !== undefined) {
        fs.writeFileSync(path.join(dir, "mesh.yaml"), meshConfig);
        args.push("--meshConfigFile", path.join(dir, "mesh.yaml"));
    }
    return [...args, file];
}

function analyzeResult(r: { status: number; stdout: string; stderr: string }): AnalyzerMessage[] {
    if (r.status !== 0 && r.status !== ANALYZE_FOUND_ISSUES) {
        throw new Error(`istioctl analyze failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split("\n")[0]}`);
    }
    // The JSON array starts a line: istioctl may log a skipped, undecodable object first (`o.yaml[15]: ...`).
    const start = r.stdout.search(/^\[/m);
    return start < 0 ? [] : (JSON.parse(r.stdout.slice(start)) as AnalyzerMessage[]);
}

/**
 * `istioctl analyze --use-kube=false -i aks-istio-system` on the objects, with the MeshConfig when given.
 * Every message is returned, Info included; callers decide what fails.
 */
export function analyze(binary: string, objects: readonly KubeObject[], meshConfig?: string): AnalyzerMessage[] {
    return withTempDir((dir) => analyzeResult(run(binary, analyzeArgs(dir, objects, meshConfig))));
}

/** `analyze` without blocking, so several sets are judged at once; the child is tracked for the root hooks. */
export async function analyzeAsync(binary: string, objects: readonly KubeObject[], meshConfig?: string): Promise<AnalyzerMessage[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-istio-mesh-e2e-"));
    try {
        const args = analyzeArgs(dir, objects, meshConfig);
        const r = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve, reject) => {
            const child = track(spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] }));
            let stdout = "";
            let stderr = "";
            const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
            child.stdout.on("data", (d) => { stdout += d; });
            child.stderr.on("data", (d) => { stderr += d; });
            child.on("error", reject);
            child.on("close", (code) => { clearTimeout(timer); resolve({ status: code ?? -1, stdout, stderr }); });
        });
        return analyzeResult(r);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Runs `task` over `items` with at most `limit` at a time, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await task(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    return results;
}

/**
 * The analyzers `istioctl analyze --use-kube=false` skips: those needing kinds it reads only from a live
 * cluster (Pods, Services, Namespaces, Nodes, Secrets), from its verbose report.
 */
export function skippedAnalyzers(binary: string): string[] {
    return withTempDir((dir) => {
        const file = path.join(dir, "empty.yaml");
        fs.writeFileSync(file, toYaml([{ apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: { name: "probe", namespace: "default" }, spec: {} }]));
        const r = run(binary, ["analyze", "--use-kube=false", "--all-namespaces", "-v", file]);
        const text = `${r.stdout}\n${r.stderr}`;
        const block = /Skipped analyzers:\n([\s\S]*?)\nExecuted analyzers:/.exec(text);
        if (!block) throw new Error(`istioctl analyze -v printed no list of skipped analyzers: ${text.trim().split("\n")[0]}`);
        return block[1].split("\n").map((l) => l.trim()).filter((l) => l !== "").sort();
    });
}

/** `istioctl validate -f <file>`: ok, or the errors it printed. */
export function validate(binary: string, file: string): { ok: boolean; output: string } {
    const r = run(binary, ["validate", "-f", file]);
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * The warnings in `istioctl validate` output, as `{ origin, message }` (`Kind namespace/name`): per-object
 * warnings (`* Kind/ns/name: message`) and workload-label warnings (`deployment "name/ns:" may not ...`).
 * A line it cannot place is returned whole, with an empty origin, so it is never silently dropped.
 */
export function validateWarnings(output: string): { origin: string; message: string }[] {
    return output.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !/has warnings:$/.test(l)).map((l) => {
        const object = /^\* ([A-Za-z]+)\/([^/]+)\/([^:]+): (.*)$/.exec(l);
        if (object) return { origin: `${object[1]} ${object[2]}/${object[3]}`, message: object[4] };
        const workload = /^(deployment|statefulset|daemonset) "([^/]+)\/([^:]+):" (.*)$/i.exec(l);
        if (workload) return { origin: `${workload[1][0].toUpperCase()}${workload[1].slice(1).toLowerCase()} ${workload[3]}/${workload[2]}`, message: workload[4] };
        return { origin: "", message: l };
    });
}

/** `Kind namespace/name` → the parts; namespace is undefined for cluster-scoped origins. */
export function parseOrigin(origin: string): { kind: string; namespace?: string; name: string } {
    const [kind, ref = ""] = origin.split(" ");
    const slash = ref.indexOf("/");
    return slash < 0 ? { kind, name: ref } : { kind, namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
}
