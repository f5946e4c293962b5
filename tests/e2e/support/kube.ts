/**
 * kubectl against the local API server: server-side dry-run applies with strict field validation (the
 * API server's verdict: OpenAPI, unknown fields, CEL, list-map keys, ObjectMeta), synchronous with a timeout.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { toYaml, withTempDir } from "./istioctl";

const TIMEOUT_MS = 120_000;

export interface Kube {
    readonly kubectl: string;
    readonly kubeconfig: string;
}

/** One kubectl run (synchronous, killed after the timeout): stdout and stderr together, and stdout alone. */
export function kubectl(kube: Kube, args: readonly string[]): { ok: boolean; output: string; stdout: string } {
    const r = spawnSync(kube.kubectl, ["--kubeconfig", kube.kubeconfig, ...args], {
        encoding: "utf8", timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, killSignal: "SIGKILL",
    });
    if (r.error) throw new Error(`kubectl ${args[0]}: ${r.error.message}`);
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim(), stdout: r.stdout };
}

/** The field manager of every apply the tier makes. */
export const FIELD_MANAGER = "aks-istio-mesh-e2e";

const APPLY = ["apply", "--server-side", "--field-manager", FIELD_MANAGER, "--validate=strict"];

/** `kubectl apply --server-side --dry-run=server --validate=strict -f <file>`: nothing is persisted. */
export function dryRunApply(kube: Kube, file: string): { ok: boolean; output: string } {
    return kubectl(kube, [...APPLY, "--dry-run=server", "-f", file]);
}

/** Creates namespaces for real, so dry-run applies of objects inside them can be judged. */
export function ensureNamespaces(kube: Kube, names: readonly string[]): void {
    if (names.length === 0) return;
    withTempDir((dir) => {
        const file = path.join(dir, "namespaces.yaml");
        fs.writeFileSync(file, toYaml(names.map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }))));
        const r = kubectl(kube, [...APPLY, "-f", file]);
        if (!r.ok) throw new Error(`cannot create namespaces ${names.join(", ")}: ${r.output}`);
    });
}
