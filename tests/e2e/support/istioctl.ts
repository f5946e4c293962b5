/**
 * istioctl as a judge, offline: `validate` (istiod's webhook checks) and `analyze --use-kube=false` (the
 * analyzers) on files. Runs are synchronous with a timeout, so no istioctl outlives its call.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { ROOT_NAMESPACE } from "../../../policy-pack/lib/aks";
import { KubeObject } from "../../../policy-pack/rules";

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

/**
 * `istioctl analyze --use-kube=false -i aks-istio-system` on the objects, with the MeshConfig when given.
 * Every message is returned, Info included; callers decide what fails.
 */
export function analyze(binary: string, objects: readonly KubeObject[], meshConfig?: string): AnalyzerMessage[] {
    return withTempDir((dir) => {
        const file = path.join(dir, "objects.yaml");
        fs.writeFileSync(file, toYaml(objects));
        const args = ["analyze", "--use-kube=false", "-i", ROOT_NAMESPACE, "-o", "json", "--output-threshold", "Info"];
        if (meshConfig !== undefined) {
            fs.writeFileSync(path.join(dir, "mesh.yaml"), meshConfig);
            args.push("--meshConfigFile", path.join(dir, "mesh.yaml"));
        }
        const r = run(binary, [...args, file]);
        if (r.status !== 0 && r.status !== ANALYZE_FOUND_ISSUES) {
            throw new Error(`istioctl analyze failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split("\n")[0]}`);
        }
        const start = r.stdout.indexOf("[");
        return start < 0 ? [] : (JSON.parse(r.stdout.slice(start)) as AnalyzerMessage[]);
    });
}

/** `istioctl validate -f <file>`: ok, or the errors it printed. */
export function validate(binary: string, file: string): { ok: boolean; output: string } {
    const r = run(binary, ["validate", "-f", file]);
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

/** `Kind namespace/name` → the parts; namespace is undefined for cluster-scoped origins. */
export function parseOrigin(origin: string): { kind: string; namespace?: string; name: string } {
    const [kind, ref = ""] = origin.split(" ");
    const slash = ref.indexOf("/");
    return slash < 0 ? { kind, name: ref } : { kind, namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
}
