/** `aks-istio-mesh:mesh`: revisions, ingress gateways, mesh-wide traffic and security settings. */
import { z } from "zod";
import { revisionListProblems, SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { EGRESS_NAMESPACE, POD_SECURITY_LEVELS, PROXY_REDIRECTIONS, strictestPodSecurity } from "../policy-pack/lib/aks";
import { boolean, describe, duration, integer, list, object, oneOf, record, text } from "./schema";

/** Kubernetes DNS-1123 labels, as namespace and egress gateway names must be. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsName = (max: number, what: string) => text({
    hint: `${what}: lower-case letters, digits and '-', at most ${max} characters`,
    check: (s) => (DNS_LABEL.test(s) && s.length <= max ? undefined
        : `${describe(s)} is not a valid ${what}: lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters`),
});

/**
 * The add-on's egress gateway on Static Egress Gateway: a Gateway-mode node pool with a public IP
 * prefix, a StaticGatewayConfiguration naming it, and the gateway itself. Apps route declared external
 * hosts through it, so they leave the cluster from known IPs.
 */
const egressGateway = object({
    /** The gateway's name (its Service and `istio` pod label); AKS allows 1 to 53 characters. */
    name: dnsName(53, "egress gateway name"),
    /** Where the gateway (and its StaticGatewayConfiguration) runs. */
    namespace: dnsName(63, "namespace").default(EGRESS_NAMESPACE),
    /** Name of the StaticGatewayConfiguration; default `<name>-static`. */
    gatewayConfigurationName: dnsName(63, "StaticGatewayConfiguration name").optional(),
    /** The Gateway-mode pool: its nodes own the static public IPs (no autoscaling: the prefix caps the count). */
    pool: object({
        vmSize: text({ pattern: /^Standard_[A-Za-z0-9_]+$/, hint: "an Azure VM size such as Standard_D2ds_v5" }).default("Standard_D2ds_v5"),
        /** Two for high availability, at most the prefix's addresses. */
        count: integer(1, 16).default(2),
        /** Public IP prefix length: /31 is 2 addresses, /28 is 16. */
        publicIpPrefixSize: integer(28, 31).default(31),
        zones: list(oneOf(["1", "2", "3"])).default([]),
    }).prefault({}).superRefine((p, ctx) => {
        const capacity = 2 ** (32 - p.publicIpPrefixSize);
        if (p.count > capacity) {
            ctx.addIssue({ code: "custom", path: ["count"], input: p.count, message: `must be at most ${capacity}: a /${p.publicIpPrefixSize} prefix has ${capacity} addresses, one per gateway node; lower count or publicIpPrefixSize` });
        }
    }),
    /** Destinations that bypass the gateway's static IPs (e.g. private ranges). */
    excludeCidrs: list(text({ pattern: /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, hint: "an IPv4 CIDR range such as 10.0.0.0/8" })).default([]),
});

/** Plug-in CA: the mesh's root and intermediate from Key Vault instead of the add-on's self-signed root. */
const certificateAuthority = object({
    /** ARM id of the Key Vault holding the four objects. */
    keyVaultId: text({
        pattern: /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.KeyVault\/vaults\/[a-zA-Z0-9-]{3,24}$/i,
        hint: "a Key Vault resource id, /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>",
    }),
    rootCertObjectName: text().default("root-cert"),
    certObjectName: text().default("ca-cert"),
    keyObjectName: text().default("ca-key"),
    certChainObjectName: text().default("cert-chain"),
});

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
    /**
     * How the add-on redirects traffic into sidecars. AKS decides it (meshes installed at asm-1-30 or
     * later use Istio CNI; upgraded meshes keep init containers) and azure-native 3.28 cannot set it:
     * the stack states it so the namespaces' Pod Security level fits.
     */
    proxyRedirection: oneOf(PROXY_REDIRECTIONS).default("CNIChaining"),
    /** Pod Security Admission level enforced on app namespaces. Default: baseline (CNI), privileged (init containers). */
    podSecurity: oneOf(POD_SECURITY_LEVELS).optional(),
    /** The add-on's egress gateway (absent: none). */
    egressGateway: egressGateway.optional(),
    /** A plug-in CA from Key Vault (absent: the add-on's self-signed root). Only when the mesh is first enabled. */
    certificateAuthority: certificateAuthority.optional(),
}, { required: "is required: set at least mesh.revisions, e.g. [asm-1-30]" }).superRefine((m, ctx) => {
    if (m.podSecurity && m.proxyRedirection === "InitContainers" && m.podSecurity !== "privileged") {
        ctx.addIssue({ code: "custom", path: ["podSecurity"], input: m.podSecurity, message: `would refuse every injected pod: with mesh.proxyRedirection InitContainers the istio-init container adds NET_ADMIN and NET_RAW, which ${m.podSecurity} forbids; use privileged, or a mesh on Istio CNI (CNIChaining)` });
    }
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
export type EgressGatewayConfig = NonNullable<MeshConfig["egressGateway"]>;
export type CertificateAuthorityConfig = NonNullable<MeshConfig["certificateAuthority"]>;

/** The Pod Security level app namespaces enforce: the stated one, else the strictest every catalog app meets. */
export function podSecurityLevel(m: MeshConfig): (typeof POD_SECURITY_LEVELS)[number] {
    return m.podSecurity ?? (strictestPodSecurity(m.proxyRedirection) === "restricted" ? "baseline" : "privileged");
}
export type ResilienceConfig = MeshConfig["resilience"];
