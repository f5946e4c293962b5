/**
 * The real peers the e2e tier judges with, resolved once per run through tools/upstream (env var, PATH,
 * versioned cache, or a build from the Go module) and tools/cluster (the local control plane). A peer that
 * cannot be had fails the run with one message naming it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { istioctlForRevision, resolveTool } from "../../../tools/upstream";
import { COMPONENTS, startLocalCluster, stopLocalCluster } from "../../../tools/cluster";
import { revisionsOf } from "./context";
import { renderedStacks } from "./stacks";

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

/** The revisions the tier judges: every stack's plus the judge revision. */
export async function revisionsUnderTest(): Promise<string[]> {
    const stacks = await renderedStacks();
    return [...new Set([JUDGE_REVISION, ...stacks.flatMap((s) => revisionsOf(s.objects))])].sort();
}

/**
 * Renders the stacks and resolves every peer before any test runs (building what is missing, which takes
 * minutes cold), so a tool that cannot be had stops the run once, with one message.
 */
export async function preparePeers(): Promise<void> {
    for (const revision of await revisionsUnderTest()) {
        await istioctlFor(revision);
    }
    // The control plane, then the real engine's CLI and Kubernetes provider (tools/engine.ts resolves them without building).
    for (const name of [...COMPONENTS, "pulumi", "pulumi-resource-kubernetes"]) {
        await resolveTool(name, { log }).catch((e: Error) => { throw peerError(`cannot resolve ${name}: ${e.message}`); });
    }
    await kubectlPath();
}

/** Ports of the e2e control plane: apart from `npm run cluster:local`'s default 36000, so both can run. */
const E2E_PORT_BASE = 38000;

let cluster: Promise<LocalCluster> | undefined;
let stateDir: string | undefined;

/**
 * The local control plane with the Istio CRDs of every revision the stacks run (and the judge revision),
 * started on first use (its binaries built first when missing) in a scratch state directory, and stopped by
 * the root hooks.
 */
export function localCluster(): Promise<LocalCluster> {
    cluster ??= (async () => {
        const revisions = await revisionsUnderTest();
        await preparePeers();
        stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-istio-mesh-e2e-cluster-"));
        try {
            const c = await startLocalCluster({ stateDir, portBase: E2E_PORT_BASE, revisions, log });
            return { kubeconfig: c.kubeconfig, server: c.server };
        } catch (e) {
            throw peerError(`cannot start the local cluster: ${(e as Error).message}`);
        }
    })();
    return cluster;
}

/** Stops the local cluster if this run started one (every process it started, by pid) and removes its state. */
export async function stopCluster(): Promise<void> {
    if (!cluster) return;
    const started = cluster;
    cluster = undefined;
    await started.catch(() => undefined);
    if (stateDir) await stopLocalCluster({ stateDir });
    stateDir = undefined;
}
