/** `aks-istio-mesh:mesh`: revisions, ingress gateways, mesh-wide traffic and security settings. */
import { z } from "zod";
import { revisionListProblems, SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { boolean, duration, integer, list, object, oneOf, record, text } from "./schema";

/** A revision name; one given as a number (YAML reads `1.30` as 1.3) is shown the name it must have. */
export const revisionName = (hint: string) => text({ hint, example: `"${SUPPORTED_REVISIONS[SUPPORTED_REVISIONS.length - 1].revision}"` });

/** A reviewed carve-out from STRICT mTLS: the selected workloads (or one port of them) accept plain text. */
const mtlsException = object({
    namespace: text(),
    /** Pod labels of the workloads relaxed; a namespace-wide exception is not offered. */
    selector: record(text(), undefined, { required: "is required: an exception names the workloads it relaxes (pod labels); a whole namespace is never relaxed" })
        .refine((s) => Object.keys(s).length > 0, { error: "needs at least one pod label" }),
    /** Only this (container) port is PERMISSIVE; omit for every port of the workloads. */
    port: integer(1, 65535).optional(),
    /** Why the exception exists, for reviewers. */
    reason: text({ hint: "why plain text is needed, for reviewers" }),
});

/** Timeouts, retries, connection pool and outlier detection every service gets. */
const resilience = object({
    timeout: duration().default("15s"),
    retries: object({
        attempts: integer(0, 10).default(2),
        perTryTimeout: duration().default("5s"),
        // Only failures where the request never reached the app, so a POST is not sent twice.
        retryOn: text({ pattern: /^[a-z0-9-]+(,[a-z0-9-]+)*$/, hint: "Envoy retry conditions separated by commas, e.g. connect-failure,refused-stream" })
            .default("connect-failure,refused-stream,unavailable,cancelled"),
    }).prefault({}),
    connectionPool: object({
        maxConnections: integer(1, 1_000_000).default(100),
        http1MaxPendingRequests: integer(1, 1_000_000).default(64),
        http2MaxRequests: integer(1, 1_000_000).default(1000),
    }).prefault({}),
    outlierDetection: object({
        consecutive5xxErrors: integer(1, 1000).default(5),
        interval: duration().default("10s"),
        baseEjectionTime: duration().default("30s"),
        maxEjectionPercent: integer(0, 100).default(50),
    }).prefault({}),
});

export const mesh = object({
    /** One revision, or two consecutive ones (old, new) during a canary upgrade. */
    revisions: list(revisionName("a revision such as asm-1-30")).superRefine((revisions, ctx) => {
        const problems = revisionListProblems(revisions);
        if (problems.length > 0) {
            ctx.addIssue({ code: "custom", input: revisions, message: problems.join("; ") });
        }
    }),
    /**
     * The revision a canary upgrade will add: its shared MeshConfig ConfigMap is created first, as
     * AKS asks, before `revisions` names it. Only beside a single running revision.
     */
    nextRevision: revisionName("the revision after the running one, e.g. asm-1-30").optional(),
    ingressGateways: object({ external: boolean().default(true), internal: boolean().default(false) }).prefault({}),
    /** Mesh-wide outbound policy (shared MeshConfig and every app Sidecar). */
    outboundTrafficPolicy: oneOf(["REGISTRY_ONLY", "ALLOW_ANY"]).default("REGISTRY_ONLY"),
    /** Envoy access logs to stdout. */
    accessLogs: boolean().default(true),
    /** Render the fault injection the apps declare. */
    faultInjection: boolean().default(false),
    mtlsExceptions: list(mtlsException).default([]),
    resilience: resilience.prefault({}),
}, { required: "is required: set at least mesh.revisions, e.g. [asm-1-30]" }).superRefine((m, ctx) => {
    if (m.nextRevision === undefined) {
        return;
    }
    if (m.revisions.length !== 1) {
        ctx.addIssue({ code: "custom", path: ["nextRevision"], input: m.nextRevision, message: "prepares a canary upgrade, so it needs exactly one running revision; during a canary both revisions already have their ConfigMaps" });
        return;
    }
    const [problem] = revisionListProblems([m.revisions[0], m.nextRevision]);
    if (problem) {
        ctx.addIssue({ code: "custom", path: ["nextRevision"], input: m.nextRevision, message: problem });
    }
});

export type MeshConfig = z.output<typeof mesh>;
export type MtlsException = MeshConfig["mtlsExceptions"][number];
export type ResilienceConfig = MeshConfig["resilience"];
