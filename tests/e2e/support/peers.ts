/**
 * The real peers the e2e tier judges with, resolved once per run through tools/upstream (env var, PATH,
 * versioned cache, or a build from the Go module) and tools/cluster (the local control plane). A peer that
 * cannot be had fails the run with one message naming it.
 */
import { istioctlForRevision, resolveTool } from "../../../tools/upstream";
import { startLocalCluster, stopLocalCluster } from "../../../tools/cluster";

/** The revision whose istioctl judges revision-independent inputs (corpus, pack fixtures): the newest pinned. */
export const JUDGE_REVISION = "asm-1-30";

export interface Istioctl {
    readonly path: string;
    readonly version: string;
    readonly revision: string;
    /** Set when this istioctl stands in for a revision's own patch that cannot be built here. */
    readonly substituteFor?: string;
}

/** An error mocha prints as its message alone: a missing tool is a fact, not a stack trace. */
export function peerError(message: string): Error {
    const error = new Error(`e2e: ${message}`);
    error.stack = error.message;
    return error;
}

function log(line: string): void {
    process.stderr.write(`      [tools] ${line}\n`);
}

const istioctls = new Map<string, Promise<Istioctl>>();

/** The istioctl for an AKS revision (its Istio patch, or the pinned substitute). */
export function istioctlFor(revision: string): Promise<Istioctl> {
    if (!istioctls.has(revision)) {
        istioctls.set(revision, istioctlForRevision(revision, { log }).then(
            (t) => ({ path: t.path, version: t.version, revision, substituteFor: t.substituteFor }),
            (e: Error) => { throw peerError(`cannot resolve istioctl for ${revision}: ${e.message}`); },
        ));
    }
    return istioctls.get(revision)!;
}

let kubectl: Promise<string> | undefined;

export function kubectlPath(): Promise<string> {
    kubectl ??= resolveTool("kubectl", { log }).then(
        (t) => t.path,
        (e: Error) => { throw peerError(`cannot resolve kubectl: ${e.message}`); },
    );
    return kubectl;
}

export interface LocalCluster {
    readonly kubeconfig: string;
    readonly server: string;
}

let cluster: Promise<LocalCluster> | undefined;

/** The local control plane (with the Istio CRDs), started on first use and stopped by the root hooks. */
export function localCluster(): Promise<LocalCluster> {
    cluster ??= startLocalCluster({ log }).then(
        (c) => ({ kubeconfig: c.kubeconfig, server: c.server }),
        (e: Error) => { throw peerError(`cannot start the local cluster: ${e.message}`); },
    );
    return cluster;
}

/** Stops the local cluster if this run started one (every process it started, by pid). */
export async function stopCluster(): Promise<void> {
    if (!cluster) return;
    const started = cluster;
    cluster = undefined;
    try {
        await started;
    } catch {
        // It failed to start: stopLocalCluster still clears whatever it left.
    }
    await stopLocalCluster();
}
