import * as pulumi from "@pulumi/pulumi";
import { revisionListProblems } from "./policy-pack/lib/revisions";
import { boolean, fail, integer, list, object, oneOf, optional, record, string, unique } from "./components/validate";
import { CATALOG } from "./components/apps/catalog";
import { AppSpec, parseAppSpec } from "./components/apps/spec";
import { AppTraffic, duration, mergeTraffic, parseAppTraffic } from "./components/apps/traffic";

/** The project's config namespace (the `name` in Pulumi.yaml). */
export const PROJECT = "aks-istio-mesh";

const TIERS = ["Free", "Standard", "Premium"] as const;
const UPGRADE_CHANNELS = ["none", "patch", "stable", "rapid", "node-image"] as const;
const NODE_OS_CHANNELS = ["None", "Unmanaged", "NodeImage", "SecurityPatch"] as const;
const KUBELOGIN_MODES = ["azurecli", "workloadidentity", "spn", "msi"] as const;
const NETWORK_POLICIES = ["cilium", "azure", "calico", "none"] as const;
const ZONES = ["1", "2", "3"] as const;
const OUTBOUND_POLICIES = ["REGISTRY_ONLY", "ALLOW_ANY"] as const;
const GRAFANA_SKUS = ["Standard", "Essential"] as const;
const KIALI_AUTH = ["token", "anonymous"] as const;

export interface SystemPoolConfig {
    readonly vmSize: string;
    /** Node count; with autoscaling, the initial count. */
    readonly count: number;
    readonly zones: readonly string[];
    readonly autoscaling?: { readonly minCount: number; readonly maxCount: number };
}

export interface AadConfig {
    /** Entra ID groups that become cluster admins through Azure RBAC. */
    readonly adminGroupObjectIds: readonly string[];
    /** How kubelogin gets tokens for the Kubernetes provider (the engine host needs kubelogin). */
    readonly kubeloginMode: (typeof KUBELOGIN_MODES)[number];
}

export interface ClusterConfig {
    readonly name: string;
    readonly resourceGroupName: string;
    readonly kubernetesVersion: string;
    readonly tier: (typeof TIERS)[number];
    readonly systemPool: SystemPoolConfig;
    readonly networkPolicy: (typeof NETWORK_POLICIES)[number];
    /** Entra ID integration with Azure RBAC; undefined means Kubernetes RBAC with local accounts. */
    readonly aad?: AadConfig;
    readonly disableLocalAccounts: boolean;
    readonly authorizedIpRanges: readonly string[];
    readonly upgradeChannel: (typeof UPGRADE_CHANNELS)[number];
    readonly nodeOsUpgradeChannel: (typeof NODE_OS_CHANNELS)[number];
    /** Sets Pulumi's `protect` on the ManagedCluster so `pulumi destroy` cannot delete it by accident. */
    readonly protect: boolean;
}

/** A reviewed carve-out from STRICT mTLS: the selected workloads (or one port of them) accept plain text. */
export interface MtlsException {
    readonly namespace: string;
    /** Pod labels of the workloads relaxed; a namespace-wide exception is not offered. */
    readonly selector: Readonly<Record<string, string>>;
    /** Only this (container) port is PERMISSIVE; omit for every port of the workloads. */
    readonly port?: number;
    /** Why the exception exists, for reviewers. */
    readonly reason: string;
}

/** Timeouts, retries, connection pool and outlier detection every service gets. */
export interface ResilienceConfig {
    readonly timeout: string;
    readonly retries: { readonly attempts: number; readonly perTryTimeout: string; readonly retryOn: string };
    readonly connectionPool: { readonly maxConnections: number; readonly http1MaxPendingRequests: number; readonly http2MaxRequests: number };
    readonly outlierDetection: { readonly consecutive5xxErrors: number; readonly interval: string; readonly baseEjectionTime: string; readonly maxEjectionPercent: number };
}

export interface MeshConfig {
    /** One revision, or two consecutive ones (old, new) during a canary upgrade. */
    readonly revisions: readonly string[];
    /**
     * The revision a canary upgrade will add: its shared MeshConfig ConfigMap is created first, as
     * AKS asks, before `revisions` names it. Only beside a single running revision.
     */
    readonly nextRevision?: string;
    readonly ingressGateways: { readonly external: boolean; readonly internal: boolean };
    /** Mesh-wide outbound policy (shared MeshConfig and every app Sidecar). Default REGISTRY_ONLY. */
    readonly outboundTrafficPolicy: (typeof OUTBOUND_POLICIES)[number];
    /** Envoy access logs to stdout. Default true. */
    readonly accessLogs: boolean;
    /** Render the fault injection the apps declare. Default false. */
    readonly faultInjection: boolean;
    readonly mtlsExceptions: readonly MtlsException[];
    readonly resilience: ResilienceConfig;
}

/** Ingress hosts per app and, for HTTPS, the certificate in Azure Key Vault. */
export interface IngressConfig {
    /** Host each app with ingress routes is served on, by app name. */
    readonly hosts: Readonly<Record<string, string>>;
    readonly tls?: {
        /** Resource id of the Key Vault holding the certificate. */
        readonly keyVaultId: string;
        readonly keyVaultName: string;
        /** Name of the Key Vault certificate (read as a secret: key and chain in PEM). */
        readonly certificateName: string;
    };
}

/** An app to deploy: its spec (catalog or inline) and the revision its namespace uses. */
export interface AppConfig {
    readonly spec: AppSpec;
    /** Revision label of the app's namespace; default the newest configured revision. */
    readonly revision: string;
    /** The spec's traffic defaults with the stack's overrides applied. */
    readonly traffic: AppTraffic;
}

export interface WorkloadsConfig {
    /** User-facing services get at least 2 replicas, a PodDisruptionBudget and zone spread. */
    readonly highAvailability: boolean;
}

/** Thresholds of the mesh's golden-signal alerts (Prometheus rule group on the Azure Monitor workspace). */
export interface AlertsConfig {
    /** Share of a service's requests answered 5xx, in percent, above which it alerts. Default 5. */
    readonly errorRatePercent: number;
    /** p99 request latency per service, in milliseconds, above which it alerts. Default 1000. */
    readonly latencyP99Ms: number;
    /** Fewer istiod instances up than this alerts. Default 1 (alert when none is up). */
    readonly istiodMinUp: number;
    /** CPU of one istio-proxy container, in millicores, above which it alerts. Default 500. */
    readonly sidecarCpuMillicores: number;
    /** How long a condition must hold before the alert fires, in minutes. Default 5. */
    readonly forMinutes: number;
    /** Azure Monitor action group the alerts notify; omit to only record them in Azure Monitor. */
    readonly actionGroupId?: string;
}

/** Distributed tracing through an OpenTelemetry collector the mesh's proxies export spans to. */
export interface TracingConfig {
    /** Share of requests traced, in percent (0 to 100). */
    readonly samplingPercent: number;
    /** The collector's OTLP/gRPC address: a Service FQDN and its port. */
    readonly collector: { readonly service: string; readonly port: number };
}

export interface ObservabilityConfig {
    /** Managed Prometheus, Grafana, alerts, Kiali and the Telemetry API. Default true. */
    readonly enabled: boolean;
    readonly grafana: {
        readonly sku: (typeof GRAFANA_SKUS)[number];
        readonly majorVersion: string;
        /** Entra ID object ids (users or groups) given the Grafana Admin role on the instance. */
        readonly adminObjectIds: readonly string[];
    };
    readonly alerts: AlertsConfig;
    readonly kiali: {
        readonly enabled: boolean;
        /** Version of the kiali-server Helm chart (and so of Kiali). */
        readonly chartVersion: string;
        /** Kiali login: a Kubernetes token, or none (anyone who can port-forward to it). Default token. */
        readonly auth: (typeof KIALI_AUTH)[number];
        /** Image of the Entra ID auth proxy in front of the workspace's query endpoint. */
        readonly queryProxyImage: string;
    };
    /** Omit for no tracing. */
    readonly tracing?: TracingConfig;
}

export interface StackConfig {
    readonly stack: string;
    readonly location: string;
    readonly cluster: ClusterConfig;
    readonly mesh: MeshConfig;
    readonly apps: readonly AppConfig[];
    readonly workloads: WorkloadsConfig;
    readonly ingress: IngressConfig;
    readonly observability: ObservabilityConfig;
}

const TOP_LEVEL_KEYS = ["cluster", "mesh", "apps", "workloads", "ingress", "observability"] as const;
const key = (k: string) => `${PROJECT}:${k}`;
const GUID = { pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, hint: "an Entra ID object id (GUID)" };

function parseCluster(raw: unknown, stack: string, mesh: Pick<MeshConfig, "revisions" | "nextRevision">): ClusterConfig {
    const path = key("cluster");
    const c = object(raw ?? {}, path, [
        "name", "resourceGroupName", "kubernetesVersion", "tier", "systemPool", "networkPolicy", "aad",
        "disableLocalAccounts", "authorizedIpRanges", "upgradeChannel", "nodeOsUpgradeChannel", "protect",
    ]);
    const dns = { pattern: /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/, hint: "lower-case letters, digits and '-', 2 to 63 characters" };
    const name = optional(c, "name", path, (v, p) => string(v, p, dns), `${PROJECT}-${stack}`);
    const kubernetesVersion = string(c.kubernetesVersion, `${path}.kubernetesVersion`, {
        pattern: /^\d+\.\d+(\.\d+)?$/,
        hint: "a Kubernetes version such as \"1.34\" or \"1.34.2\"",
    });

    const poolPath = `${path}.systemPool`;
    const p = object(c.systemPool ?? {}, poolPath, ["vmSize", "count", "zones", "autoscaling"]);
    const count = optional(p, "count", poolPath, (v, q) => integer(v, q, 1, 100), 1);
    const zones = optional(p, "zones", poolPath, (v, q) => list(v, q, (z, zp) => oneOf(z, zp, ZONES)), [] as string[]);
    unique(zones, `${poolPath}.zones`, "zone");
    const autoscaling = optional(p, "autoscaling", poolPath, (v, q) => {
        const a = object(v, q, ["minCount", "maxCount"]);
        const minCount = integer(a.minCount, `${q}.minCount`, 1, 1000);
        const maxCount = integer(a.maxCount, `${q}.maxCount`, minCount, 1000);
        if (count < minCount || count > maxCount) {
            fail(`${poolPath}.count`, `must lie between autoscaling.minCount (${minCount}) and maxCount (${maxCount}); got ${count}`);
        }
        return { minCount, maxCount };
    }, undefined);

    const aad = optional(c, "aad", path, (v, q) => {
        const a = object(v, q, ["adminGroupObjectIds", "kubeloginMode"]);
        return {
            adminGroupObjectIds: optional(a, "adminGroupObjectIds", q, (w, wp) => list(w, wp, (g, gp) => string(g, gp, GUID)), [] as string[]),
            kubeloginMode: optional(a, "kubeloginMode", q, (w, wp) => oneOf(w, wp, KUBELOGIN_MODES), "azurecli" as const),
        };
    }, undefined);
    const disableLocalAccounts = optional(c, "disableLocalAccounts", path, boolean, false);
    if (disableLocalAccounts && !aad) {
        fail(`${path}.disableLocalAccounts`, "needs cluster.aad (Entra ID integration); without it nobody could sign in");
    }

    const cluster: ClusterConfig = {
        name,
        resourceGroupName: optional(c, "resourceGroupName", path, (v, q) => string(v, q), `rg-${name}`),
        kubernetesVersion,
        tier: optional(c, "tier", path, (v, q) => oneOf(v, q, TIERS), "Free"),
        systemPool: {
            vmSize: optional(p, "vmSize", poolPath, (v, q) => string(v, q, { pattern: /^Standard_[A-Za-z0-9_]+$/, hint: "an Azure VM size such as Standard_D4ds_v5" }), "Standard_D4ds_v5"),
            count,
            zones,
            autoscaling,
        },
        networkPolicy: optional(c, "networkPolicy", path, (v, q) => oneOf(v, q, NETWORK_POLICIES), "cilium"),
        aad,
        disableLocalAccounts,
        authorizedIpRanges: optional(c, "authorizedIpRanges", path, (v, q) => list(v, q, (r, rp) => string(r, rp, {
            pattern: /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/, hint: "an IPv4 address or CIDR range",
        })), [] as string[]),
        upgradeChannel: optional(c, "upgradeChannel", path, (v, q) => oneOf(v, q, UPGRADE_CHANNELS), "patch"),
        nodeOsUpgradeChannel: optional(c, "nodeOsUpgradeChannel", path, (v, q) => oneOf(v, q, NODE_OS_CHANNELS), "NodeImage"),
        protect: optional(c, "protect", path, boolean, false),
    };
    const problems = revisionListProblems(mesh.revisions, kubernetesVersion);
    if (problems.length > 0) {
        fail(`${key("mesh")}.revisions`, problems.join("; "));
    }
    const [nextProblem] = mesh.nextRevision ? revisionListProblems([mesh.nextRevision], kubernetesVersion) : [];
    if (nextProblem) {
        fail(`${key("mesh")}.nextRevision`, nextProblem);
    }
    return cluster;
}

const positive = (max: number) => (v: unknown, p: string) => integer(v, p, 1, max);

function parseResilience(raw: unknown, path: string): ResilienceConfig {
    const r = object(raw ?? {}, path, ["timeout", "retries", "connectionPool", "outlierDetection"]);
    const sub = (k: string, keys: string[]) => object(r[k] ?? {}, `${path}.${k}`, keys);
    const rt = sub("retries", ["attempts", "perTryTimeout", "retryOn"]);
    const cp = sub("connectionPool", ["maxConnections", "http1MaxPendingRequests", "http2MaxRequests"]);
    const od = sub("outlierDetection", ["consecutive5xxErrors", "interval", "baseEjectionTime", "maxEjectionPercent"]);
    return {
        timeout: optional(r, "timeout", path, duration, "15s"),
        retries: {
            attempts: optional(rt, "attempts", `${path}.retries`, (v, p) => integer(v, p, 0, 10), 2),
            perTryTimeout: optional(rt, "perTryTimeout", `${path}.retries`, duration, "5s"),
            // Only failures where the request never reached the app, so a POST is not sent twice.
            retryOn: optional(rt, "retryOn", `${path}.retries`, (v, p) => string(v, p, {
                pattern: /^[a-z0-9-]+(,[a-z0-9-]+)*$/, hint: "Envoy retry conditions separated by commas, e.g. connect-failure,refused-stream",
            }), "connect-failure,refused-stream,unavailable,cancelled"),
        },
        connectionPool: {
            maxConnections: optional(cp, "maxConnections", `${path}.connectionPool`, positive(1_000_000), 100),
            http1MaxPendingRequests: optional(cp, "http1MaxPendingRequests", `${path}.connectionPool`, positive(1_000_000), 64),
            http2MaxRequests: optional(cp, "http2MaxRequests", `${path}.connectionPool`, positive(1_000_000), 1000),
        },
        outlierDetection: {
            consecutive5xxErrors: optional(od, "consecutive5xxErrors", `${path}.outlierDetection`, positive(1000), 5),
            interval: optional(od, "interval", `${path}.outlierDetection`, duration, "10s"),
            baseEjectionTime: optional(od, "baseEjectionTime", `${path}.outlierDetection`, duration, "30s"),
            maxEjectionPercent: optional(od, "maxEjectionPercent", `${path}.outlierDetection`, (v, p) => integer(v, p, 0, 100), 50),
        },
    };
}

function parseMtlsException(v: unknown, p: string): MtlsException {
    const e = object(v, p, ["namespace", "selector", "port", "reason"]);
    if (e.selector === undefined) {
        fail(`${p}.selector`, "is required: an exception names the workloads it relaxes (pod labels); a whole namespace is never relaxed");
    }
    const selector = record(e.selector, `${p}.selector`, (x, xp) => string(x, xp));
    if (Object.keys(selector).length === 0) {
        fail(`${p}.selector`, "needs at least one pod label");
    }
    return {
        namespace: string(e.namespace, `${p}.namespace`),
        selector,
        port: optional(e, "port", p, (x, xp) => integer(x, xp, 1, 65535), undefined),
        reason: string(e.reason, `${p}.reason`, { hint: "why plain text is needed, for reviewers" }),
    };
}

function parseMesh(raw: unknown): MeshConfig {
    const path = key("mesh");
    const m = object(raw, path, ["revisions", "nextRevision", "ingressGateways", "outboundTrafficPolicy", "accessLogs", "faultInjection", "mtlsExceptions", "resilience"]);
    const revisions = list(m.revisions, `${path}.revisions`, (v, p) => string(v, p, { hint: "a revision such as asm-1-30" }));
    const problems = revisionListProblems(revisions);
    if (problems.length > 0) {
        fail(`${path}.revisions`, problems.join("; "));
    }
    const nextRevision = optional(m, "nextRevision", path, (v, p) => {
        const next = string(v, p, { hint: "the revision after the running one, e.g. asm-1-30" });
        if (revisions.length !== 1) {
            fail(p, "prepares a canary upgrade, so it needs exactly one running revision; during a canary both revisions already have their ConfigMaps");
        }
        const [problem] = revisionListProblems([revisions[0], next]);
        if (problem) {
            fail(p, problem);
        }
        return next;
    }, undefined);
    const g = object(m.ingressGateways ?? {}, `${path}.ingressGateways`, ["external", "internal"]);
    return {
        revisions,
        nextRevision,
        ingressGateways: {
            external: optional(g, "external", `${path}.ingressGateways`, boolean, true),
            internal: optional(g, "internal", `${path}.ingressGateways`, boolean, false),
        },
        outboundTrafficPolicy: optional(m, "outboundTrafficPolicy", path, (v, p) => oneOf(v, p, OUTBOUND_POLICIES), "REGISTRY_ONLY"),
        accessLogs: optional(m, "accessLogs", path, boolean, true),
        faultInjection: optional(m, "faultInjection", path, boolean, false),
        mtlsExceptions: optional(m, "mtlsExceptions", path, (v, p) => list(v, p, parseMtlsException), [] as MtlsException[]),
        resilience: parseResilience(m.resilience, `${path}.resilience`),
    };
}

/**
 * Apps: a catalog name (`pets`), or `{ name, revision?, spec? }` where `spec` is a whole app spec
 * for an app of your own, validated like the catalog's.
 */
function parseApps(raw: unknown, mesh: MeshConfig): AppConfig[] {
    const path = key("apps");
    const newest = mesh.revisions[mesh.revisions.length - 1];
    const apps = list(raw ?? [], path, (v, p): AppConfig => {
        const entry = typeof v === "string" ? { name: v } : object(v, p, ["name", "revision", "spec", "traffic"]);
        const name = string(entry.name, typeof v === "string" ? p : `${p}.name`);
        const revision = optional(entry, "revision", p, (r, rp) => oneOf(r, rp, mesh.revisions), newest);
        let spec: AppSpec | undefined = CATALOG[name];
        if (entry.spec !== undefined) {
            spec = parseAppSpec(entry.spec, `${p}.spec`);
            if (spec.name !== name) {
                fail(`${p}.spec.name`, `must equal the entry's name "${name}"`);
            }
        }
        if (!spec) {
            fail(typeof v === "string" ? p : `${p}.name`, `${JSON.stringify(name)} is not a built-in app (${Object.keys(CATALOG).join(", ")}); give a spec for an app of your own`);
        }
        const overrides = optional(entry, "traffic", p, (t, tp) => parseAppTraffic(t, tp, spec.services), {});
        return { spec, revision, traffic: mergeTraffic(spec.traffic, overrides) };
    });
    unique(apps.map((a) => a.spec.name), path, "app");
    unique(apps.map((a) => a.spec.namespace), path, "app namespace");
    return apps;
}

const HOST = {
    pattern: /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+)$/,
    hint: "a DNS name such as shop.example.com, *.example.com, or * (any host, only without TLS)",
};
const KEY_VAULT_ID = /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.KeyVault\/vaults\/([a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9])$/i;

/**
 * Ingress: a host per app with ingress routes, unique across apps so no app's `/` prefix shadows
 * another's. With `tls`, hosts must be named (a certificate cannot cover `*`) and every app needs
 * one; without it an app left out is served on `<app>.internal`.
 */
function parseIngress(raw: unknown, apps: readonly AppConfig[]): IngressConfig {
    const path = key("ingress");
    const i = object(raw ?? {}, path, ["hosts", "tls"]);
    const tls = optional(i, "tls", path, (v, p) => {
        const t = object(v, p, ["keyVaultId", "certificateName"]);
        const keyVaultId = string(t.keyVaultId, `${p}.keyVaultId`, {
            pattern: KEY_VAULT_ID,
            hint: "a Key Vault resource id, /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>",
        });
        return {
            keyVaultId,
            keyVaultName: KEY_VAULT_ID.exec(keyVaultId)![1],
            certificateName: string(t.certificateName, `${p}.certificateName`, { pattern: /^[0-9a-zA-Z-]{1,127}$/, hint: "a Key Vault certificate name" }),
        };
    }, undefined);
    const configured = optional(i, "hosts", path, (v, p) => record(v, p, (h, hp) => {
        const host = string(h, hp, HOST);
        if (tls && host.startsWith("*")) {
            fail(hp, `${JSON.stringify(host)} is not allowed with ingress.tls: name the host the certificate covers`);
        }
        return host;
    }), {} as Record<string, string>);
    const known = new Set([...Object.keys(CATALOG), ...apps.map((a) => a.spec.name)]);
    for (const name of Object.keys(configured)) {
        if (!known.has(name)) {
            fail(`${path}.hosts.${name}`, `"${name}" is not an app; apps: ${[...known].join(", ")}`);
        }
    }
    const hosts: Record<string, string> = {};
    for (const app of apps.filter((a) => a.spec.ingress.length > 0)) {
        const name = app.spec.name;
        if (!configured[name] && tls) {
            fail(`${path}.hosts.${name}`, "is required with ingress.tls: the host the certificate covers");
        }
        hosts[name] = configured[name] ?? `${name}.internal`;
    }
    unique(Object.values(hosts), `${path}.hosts`, "host");
    return { hosts, tls };
}

function checkMtlsExceptions(mesh: MeshConfig, apps: readonly AppConfig[]): void {
    const namespaces = apps.map((a) => a.spec.namespace);
    mesh.mtlsExceptions.forEach((e, n) => oneOf(e.namespace, `${key("mesh")}.mtlsExceptions[${n}].namespace`, namespaces));
}

function parseWorkloads(raw: unknown): WorkloadsConfig {
    const path = key("workloads");
    const w = object(raw ?? {}, path, ["highAvailability"]);
    return { highAvailability: optional(w, "highAvailability", path, boolean, false) };
}

/** A number (not necessarily whole) from `min` to `max`. */
function decimal(min: number, max: number) {
    return (value: unknown, path: string): number => {
        if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
            fail(path, `must be a number from ${min} to ${max}; got ${value === undefined ? "nothing" : JSON.stringify(value)}`);
        }
        return value;
    };
}

const ACTION_GROUP_ID = {
    pattern: /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/microsoft\.insights\/actionGroups\/[^/]+$/i,
    hint: "an action group resource id, /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Insights/actionGroups/<name>",
};
/** The Entra ID auth proxy's last published image that authenticates with workload identity. */
const QUERY_PROXY_IMAGE = "mcr.microsoft.com/azuremonitor/auth-proxy/prod/aad-auth-proxy/images/aad-auth-proxy:0.1.0-main-01-10-2024-08b31473";

function parseObservability(raw: unknown): ObservabilityConfig {
    const path = key("observability");
    const o = object(raw ?? {}, path, ["enabled", "grafana", "alerts", "kiali", "tracing"]);
    const sub = (k: string, keys: string[]) => object(o[k] ?? {}, `${path}.${k}`, keys);
    const g = sub("grafana", ["sku", "majorVersion", "adminObjectIds"]);
    const a = sub("alerts", ["errorRatePercent", "latencyP99Ms", "istiodMinUp", "sidecarCpuMillicores", "forMinutes", "actionGroupId"]);
    const k = sub("kiali", ["enabled", "chartVersion", "auth", "queryProxyImage"]);
    const [gp, ap, kp] = [`${path}.grafana`, `${path}.alerts`, `${path}.kiali`];
    return {
        enabled: optional(o, "enabled", path, boolean, true),
        grafana: {
            sku: optional(g, "sku", gp, (v, p) => oneOf(v, p, GRAFANA_SKUS), "Standard"),
            majorVersion: optional(g, "majorVersion", gp, (v, p) => string(v, p, { pattern: /^\d+$/, hint: "a Grafana major version such as \"11\"" }), "11"),
            adminObjectIds: optional(g, "adminObjectIds", gp, (v, p) => list(v, p, (x, xp) => string(x, xp, GUID)), [] as string[]),
        },
        alerts: {
            errorRatePercent: optional(a, "errorRatePercent", ap, decimal(0.01, 100), 5),
            latencyP99Ms: optional(a, "latencyP99Ms", ap, positive(600_000), 1000),
            istiodMinUp: optional(a, "istiodMinUp", ap, positive(10), 1),
            sidecarCpuMillicores: optional(a, "sidecarCpuMillicores", ap, positive(64_000), 500),
            forMinutes: optional(a, "forMinutes", ap, positive(1440), 5),
            actionGroupId: optional(a, "actionGroupId", ap, (v, p) => string(v, p, ACTION_GROUP_ID), undefined),
        },
        kiali: {
            enabled: optional(k, "enabled", kp, boolean, true),
            chartVersion: optional(k, "chartVersion", kp, (v, p) => string(v, p, { pattern: /^\d+\.\d+\.\d+$/, hint: "a chart version such as 2.24.0" }), "2.24.0"),
            auth: optional(k, "auth", kp, (v, p) => oneOf(v, p, KIALI_AUTH), "token"),
            queryProxyImage: optional(k, "queryProxyImage", kp, (v, p) => string(v, p, {
                pattern: /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/, hint: "an image reference with a tag or digest",
            }), QUERY_PROXY_IMAGE),
        },
        tracing: optional(o, "tracing", path, (v, p) => {
            const t = object(v, p, ["samplingPercent", "collector"]);
            if (t.collector === undefined) {
                fail(`${p}.collector`, "is required: the OpenTelemetry collector (service, port) the proxies send spans to");
            }
            const c = object(t.collector, `${p}.collector`, ["service", "port"]);
            return {
                samplingPercent: optional(t, "samplingPercent", p, decimal(0, 100), 1),
                collector: {
                    service: string(c.service, `${p}.collector.service`, {
                        pattern: /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, hint: "a Service FQDN such as otel-collector.observability.svc.cluster.local",
                    }),
                    port: integer(c.port, `${p}.collector.port`, 1, 65535),
                },
            };
        }, undefined),
    };
}

/**
 * Validates raw stack config (values as they come from Pulumi.<stack>.yaml) into a typed config.
 * Pure, so tests and tools can call it directly. Throws ConfigError naming the key at fault.
 */
export function parseStackConfig(stack: string, values: Record<string, unknown>): StackConfig {
    for (const k of Object.keys(values)) {
        const [ns, name] = k.split(":");
        if (ns === PROJECT && !(TOP_LEVEL_KEYS as readonly string[]).includes(name)) {
            fail(k, `unknown key; allowed keys: ${TOP_LEVEL_KEYS.map(key).join(", ")}`);
        }
    }
    const location = string(values["azure-native:location"], "azure-native:location", { hint: "an Azure region such as westeurope" });
    if (values[key("mesh")] === undefined) {
        fail(key("mesh"), "is required: set at least mesh.revisions, e.g. [asm-1-30]");
    }
    const mesh = parseMesh(values[key("mesh")]);
    if (values[key("cluster")] === undefined) {
        fail(key("cluster"), "is required: set at least cluster.kubernetesVersion, e.g. \"1.34\"");
    }
    const cluster = parseCluster(values[key("cluster")], stack, mesh);
    const apps = parseApps(values[key("apps")], mesh);
    checkMtlsExceptions(mesh, apps);
    return {
        stack, location, cluster, mesh, apps,
        workloads: parseWorkloads(values[key("workloads")]),
        ingress: parseIngress(values[key("ingress")], apps),
        observability: parseObservability(values[key("observability")]),
    };
}

/** Every config value the engine passed in; structured values arrive as JSON text. */
function rawConfig(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(pulumi.runtime.allConfig())) {
        const structured = v.startsWith("{") || v.startsWith("[");
        out[k] = structured ? JSON.parse(v) : v;
    }
    return out;
}

/** The stack's validated config. The only place the program reads config. */
export function loadStackConfig(): StackConfig {
    return parseStackConfig(pulumi.getStack(), rawConfig());
}
