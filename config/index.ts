/**
 * The stack's config: read once, validated by one schema per key (config/*.ts), typed by inference.
 * Every refusal is one ConfigError naming the full key path and what is allowed. index.ts maps the
 * result to the components' Args; nothing here knows the components.
 */
import * as pulumi from "@pulumi/pulumi";
import { endOfLifeProblems, isCompatible, revisionListProblems, SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { SETTINGS_ANNOTATION, settingsDigest, STACK_ANNOTATION } from "../policy-pack/lib/stamp";
import { AppConfig, podLabels, resolveApps } from "./apps";
import { cluster, ClusterInput, createOnlyKeysSet, KUBELOGIN_MODES, kubernetesRanges } from "./cluster";
import { environment, EnvironmentConfig, packEnvironment, workloads } from "./environment";
import { GatewayMode, ingress, IngressConfig } from "./ingress";
import { EgressGatewayInfo, egressGateway } from "../policy-pack/lib/aks";
import { mesh, MeshConfig, MtlsException } from "./mesh";
import { observability, ObservabilityConfig } from "./observability";
import { resolveSecrets, SecretsConfig } from "./secrets";
import { AZURE_REGIONS, regionName } from "./regions";
import { closest, decodeText, describe, fail, key, parseWith, PROJECT, text, unknownKey } from "./schema";

export { PROJECT } from "./schema";
export type { AppConfig, AppSpec, ServiceSpec } from "./apps";
export type { AppTraffic, ServiceTraffic } from "./traffic";
export type { EnvironmentConfig } from "./environment";
export type { IngressConfig } from "./ingress";
export type { CertificateAuthorityConfig, EgressGatewayConfig, MeshConfig, MtlsException, ResilienceConfig } from "./mesh";
export { podSecurityLevel } from "./mesh";
export { EGRESS_POOL } from "./cluster";
export type { EgressGatewayInfo } from "../policy-pack/lib/aks";
export type { AlertsConfig, ObservabilityConfig } from "./observability";
export type { SecretsConfig, SecretValues } from "./secrets";

/** How the stack reaches its cluster: one it creates, an AKS cluster it looks up, or a kubeconfig. */
export type ExistingCluster =
    | { readonly aks: { readonly resourceGroupName: string; readonly name: string; readonly kubeloginMode: (typeof KUBELOGIN_MODES)[number] }; readonly kubeconfig?: undefined }
    | { readonly kubeconfig: { readonly path?: string; readonly context?: string }; readonly aks?: undefined };

export type ClusterConfig = Omit<ClusterInput, "name" | "resourceGroupName" | "existing"> & {
    readonly name: string;
    readonly resourceGroupName: string;
    /** Set when the stack deploys onto a cluster it does not create. */
    readonly existing?: ExistingCluster;
};

export interface StackConfig {
    readonly stack: string;
    /** Azure region; undefined only for a kubeconfig cluster (no Azure resource at all). */
    readonly location?: string;
    readonly environment: EnvironmentConfig;
    readonly cluster: ClusterConfig;
    readonly mesh: MeshConfig;
    readonly apps: readonly AppConfig[];
    readonly workloads: { readonly highAvailability: boolean };
    readonly ingress: IngressConfig;
    readonly observability: ObservabilityConfig;
    readonly secrets: SecretsConfig;
    /**
     * The add-on egress gateway apps route external hosts through (`mesh.egressGateway`), as apps
     * address it: its name (the Service), namespace and pod label selector. Undefined without one.
     */
    readonly egressGateway?: EgressGatewayInfo;
    /** What the stack may run but should change (e.g. a revision past its end of life in development), one line each. */
    readonly warnings: readonly string[];
}

const TOP_LEVEL_KEYS = ["cluster", "mesh", "apps", "workloads", "ingress", "observability", "environment", "secrets"] as const;

/** A top-level value, with a list or map stored as text read as what it holds. */
function decode(k: string, v: unknown): unknown {
    const decoded = decodeText(v);
    return "problem" in decoded ? fail(k, decoded.problem) : decoded.value;
}

/** Revisions against the Kubernetes version; with existing.aks and no version, the cluster's own (read by the program) is what it runs. */
function checkKubernetesVersion(c: ClusterInput, m: MeshConfig): void {
    const version = c.kubernetesVersion;
    if (version === undefined) {
        return;
    }
    if (!SUPPORTED_REVISIONS.some((r) => isCompatible(r.revision, version))) {
        fail(`${key("cluster")}.kubernetesVersion`, `no supported Istio revision runs on Kubernetes ${version} (${kubernetesRanges()}); choose a version in one of those ranges`);
    }
    const problems = revisionListProblems(m.revisions, version);
    if (problems.length > 0) {
        fail(`${key("mesh")}.revisions`, problems.join("; "));
    }
    const [nextProblem] = m.nextRevision ? revisionListProblems([m.nextRevision], version) : [];
    if (nextProblem) {
        fail(`${key("mesh")}.nextRevision`, nextProblem);
    }
}

function resolveCluster(raw: unknown, stack: string): ClusterConfig {
    const path = key("cluster");
    if (raw === undefined) {
        fail(path, "is required: set at least cluster.kubernetesVersion, e.g. \"1.34\" (or cluster.existing for a cluster that exists)");
    }
    const c = parseWith(cluster, raw, path);
    if (c.existing) {
        const set = createOnlyKeysSet(raw);
        if (set.length > 0) {
            fail(`${path}.${set[0]}`, `describes a cluster this stack creates; with cluster.existing the cluster is not managed here: remove ${set.map((k) => `cluster.${k}`).join(", ")}`);
        }
    }
    const name = c.existing?.aks?.name ?? c.name ?? `${PROJECT}-${stack}`;
    if (!c.name && !/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/.test(name)) {
        fail(`${path}.name`, `is required: the default ${describe(name)} (from the stack name) is not a valid cluster name; set lower-case letters, digits and '-', 2 to 63 characters`);
    }
    return {
        ...c,
        name,
        resourceGroupName: c.existing?.aks?.resourceGroupName ?? c.resourceGroupName ?? `rg-${name}`,
        existing: c.existing as ExistingCluster | undefined,
    };
}

/**
 * Every mTLS exception names an app namespace and selects at least one of its workloads (pods carry
 * `app: <service>` and `version: <version>`); an exception selecting nothing relaxes nothing.
 */
function checkMtlsExceptions(exceptions: readonly MtlsException[], apps: readonly AppConfig[]): void {
    exceptions.forEach((e, n) => {
        const path = `${key("mesh")}.mtlsExceptions[${n}]`;
        const app = apps.find((a) => a.spec.namespace === e.namespace);
        if (!app) {
            fail(`${path}.namespace`, `${describe(e.namespace)} is not allowed; allowed: ${apps.map((a) => a.spec.namespace).join(", ")}`);
        }
        const labels = app.spec.services.flatMap(podLabels);
        if (!labels.some((l) => Object.entries(e.selector).every(([k, v]) => l[k] === v))) {
            const known = app.spec.services.map((s) => `app: ${s.name}`).join(", ");
            fail(`${path}.selector`, `${describe(e.selector)} matches no workload in namespace ${e.namespace}; its pods carry ${known} (and version: <version>)`);
        }
    });
}

/**
 * Ingress: a host per app with ingress routes, unique across apps so no app's `/` prefix shadows
 * another's. With `tls`, hosts must be named (a certificate cannot cover `*`) and every app needs
 * one; without it an app left out is served on `<app>.internal`.
 */
function resolveIngress(raw: unknown, apps: readonly AppConfig[], catalog: Readonly<Record<string, unknown>>, env: EnvironmentConfig, m: MeshConfig): IngressConfig {
    const path = key("ingress");
    const i = parseWith(ingress, raw, path);
    const deployed = apps.map((a) => a.spec.name);
    const gatewaysOff = !m.ingressGateways.external && !m.ingressGateways.internal;
    if (gatewaysOff && raw !== undefined) {
        fail(`${key("mesh")}.ingressGateways`, `switches both the external and the internal gateway off, but ${path} is declared: nothing would serve it; set mesh.ingressGateways.external (or internal): true, or remove ${path}`);
    }
    const known = [...new Set([...Object.keys(catalog), ...deployed])];
    const enabled: GatewayMode[] = [...(m.ingressGateways.external ? ["External" as const] : []), ...(m.ingressGateways.internal ? ["Internal" as const] : [])];
    const gateways: Record<string, GatewayMode[]> = {};
    for (const [name, choice] of Object.entries(i.gateways)) {
        if (!known.includes(name)) {
            fail(`${path}.gateways.${name}`, `"${name}" is not an app; apps: ${known.join(", ")}`);
        }
        if (!apps.some((a) => a.spec.name === name && a.spec.ingress.length > 0)) {
            fail(`${path}.gateways.${name}`, `app "${name}" is not deployed with ingress routes (spec.ingress), so no gateway serves it; remove the entry`);
        }
        const wanted: GatewayMode[] = choice === "both" ? ["External", "Internal"] : [choice === "external" ? "External" : "Internal"];
        const off = wanted.filter((g) => !enabled.includes(g));
        if (off.length > 0) {
            fail(`${path}.gateways.${name}`, `"${choice}" needs the ${off.map((g) => g.toLowerCase()).join(" and ")} ingress gateway, which ${key("mesh")}.ingressGateways does not enable; enable it there or choose ${enabled.map((g) => `"${g.toLowerCase()}"`).join(" or ") || "nothing (no gateway is enabled)"}`);
        }
        gateways[name] = wanted;
    }
    for (const [name, host] of Object.entries(i.hosts)) {
        const app = apps.find((a) => a.spec.name === name);
        if (!app) {
            fail(`${path}.hosts.${name}`, `${describe(name)} is not an app this stack deploys (${key("apps")}: ${deployed.join(", ") || "none"})${name in catalog ? `; add ${name} to ${key("apps")}, or remove the host` : ""}`);
        }
        if (app.spec.ingress.length === 0) {
            fail(`${path}.hosts.${name}`, `app ${name} has no ingress routes (spec.ingress), so nothing would answer on ${describe(host)}; remove the host, or give the app routes`);
        }
        if (i.tls && host.startsWith("*")) {
            fail(`${path}.hosts.${name}`, `${describe(host)} is not allowed with ingress.tls: name the host the certificate covers`);
        }
    }
    // Without a gateway no app is served: no routes, no addresses to report.
    const served = gatewaysOff ? [] : apps.filter((a) => a.spec.ingress.length > 0);
    if (env.requireTls && served.length > 0 && !i.tls) {
        fail(`${path}.tls`, `is required: the stack's environment (${key("environment")}) requires TLS for the apps served through ingress (${served.map((a) => a.spec.name).join(", ")}); set ingress.tls, or environment.requireTls: false`);
    }
    const hosts: Record<string, string> = {};
    for (const app of served) {
        const name = app.spec.name;
        if (!i.hosts[name] && i.tls) {
            fail(`${path}.hosts.${name}`, "is required with ingress.tls: the host the certificate covers");
        }
        hosts[name] = i.hosts[name] ?? `${name}.internal`;
        gateways[name] ??= enabled.slice(0, 1);
    }
    const seen = new Set<string>();
    for (const h of Object.values(hosts)) {
        if (seen.has(h)) {
            fail(`${path}.hosts`, `duplicate host "${h}"`);
        }
        seen.add(h);
    }
    return { hosts, gateways: Object.fromEntries(served.map((a) => [a.spec.name, gateways[a.spec.name]])), tls: i.tls };
}

/** The environment as declared, or for stack files older than the key, inferred from workloads.highAvailability. */
function resolveEnvironment(rawEnv: unknown, rawWorkloads: unknown): EnvironmentConfig {
    const w = parseWith(workloads, rawWorkloads, key("workloads"));
    if (rawEnv === undefined) {
        const ha = w.highAvailability ?? false;
        return { kind: ha ? "production" : "development", highAvailability: ha, requireTls: false, declared: false };
    }
    const e = parseWith(environment, rawEnv, key("environment"));
    const production = e.kind === "production";
    const ha = e.highAvailability ?? w.highAvailability ?? production;
    if (w.highAvailability !== undefined && w.highAvailability !== ha) {
        fail(`${key("workloads")}.highAvailability`, `is ${w.highAvailability} but ${key("environment")}.highAvailability is ${ha}${e.highAvailability === undefined ? ` (the default in ${e.kind})` : ""}; set one of them, or both alike`);
    }
    return { kind: e.kind, highAvailability: ha, requireTls: e.requireTls ?? production, declared: true };
}

/**
 * Mesh profile settings of a cluster the stack does not create: it cannot change them. A plug-in CA in
 * particular only takes effect when the mesh is first enabled.
 */
function checkExistingMesh(c: ClusterConfig, m: MeshConfig): void {
    if (!c.existing) {
        return;
    }
    const how = c.existing.kubeconfig ? "with cluster.existing.kubeconfig there is no Azure" : "with cluster.existing the stack does not manage the cluster's mesh profile";
    if (m.certificateAuthority) {
        fail(`${key("mesh")}.certificateAuthority`, `the add-on cannot switch an existing mesh to a plug-in CA (${how}); create a new cluster with the plug-in CA and move the apps, or keep the add-on's CA: remove mesh.certificateAuthority`);
    }
    if (m.egressGateway) {
        fail(`${key("mesh")}.egressGateway`, `the egress gateway is part of the cluster's mesh profile and ${how}; enable it on the cluster (az aks mesh enable-egress-gateway) and remove mesh.egressGateway`);
    }
}

/**
 * A revision past its end of life: production is refused, development warned (the stack still
 * previews, so an upgrade can be tried there first), and so is a canary upgrade to a current
 * revision. Returns the warnings.
 */
function checkEndOfLife(m: MeshConfig, env: EnvironmentConfig): string[] {
    const problems = endOfLifeProblems(m.revisions);
    // During a canary upgrade away from it (the newest revision is current) production is warned too.
    const upgrading = endOfLifeProblems(m.revisions.slice(-1)).length === 0;
    if (problems.length > 0 && env.kind === "production" && !upgrading) {
        fail(`${key("mesh")}.revisions`, `${problems.join("; ")} (the stack's environment is production; a development stack is only warned)`);
    }
    return problems.map((p) => `${key("mesh")}.revisions: ${p}`);
}

/** Azure-only parts a kubeconfig cluster cannot have: refused by the key that switches them on. */
function checkKubeconfigMode(c: ClusterConfig, o: ObservabilityConfig, i: IngressConfig): void {
    if (!c.existing?.kubeconfig) {
        return;
    }
    const mode = `with ${key("cluster")}.existing.kubeconfig there is no Azure`;
    if (o.enabled) {
        fail(`${key("observability")}.enabled`, `managed Prometheus and Grafana are Azure services and ${mode}: set observability.enabled: false, or leave it out (a kubeconfig cluster has it off)`);
    }
    if (i.tls) {
        fail(`${key("ingress")}.tls`, `the certificate comes from Azure Key Vault and ${mode}: remove ingress.tls`);
    }
}

/**
 * Validates raw stack config (values as they come from Pulumi.<stack>.yaml) into a typed config.
 * Pure, so tests and tools call it directly; `catalog` holds the built-in app specs by name.
 * Throws ConfigError naming the key at fault.
 */
export function parseStackConfig(stack: string, rawValues: Record<string, unknown>, catalog: Readonly<Record<string, unknown>>): StackConfig {
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rawValues)) {
        const [ns, name] = k.split(":");
        if (ns === PROJECT && !(TOP_LEVEL_KEYS as readonly string[]).includes(name)) {
            fail(k, unknownKey(name, TOP_LEVEL_KEYS, k, key));
        }
        values[k] = ns === PROJECT ? decode(k, v) : v;
    }
    if (!Object.keys(values).some((k) => k.startsWith(`${PROJECT}:`))) {
        fail(`${PROJECT}:*`, `the stack's config holds no ${PROJECT} key at all; is the stack file's top-level key config: (and each key ${key("<name>")})?`);
    }
    const env = resolveEnvironment(values[key("environment")], values[key("workloads")]);
    const m = parseWith(mesh, values[key("mesh")], key("mesh"));
    const c = resolveCluster(values[key("cluster")], stack);
    checkKubernetesVersion(c, m);
    const warnings = checkEndOfLife(m, env);
    const location = c.existing?.kubeconfig ? undefined
        : parseWith(text({
            hint: "an Azure region such as westeurope",
            check: (l) => regionName(l) ? undefined : `${describe(l)} is not an Azure region${closest(l.toLowerCase().replace(/\s+/g, ""), AZURE_REGIONS) ? `; did you mean ${closest(l.toLowerCase().replace(/\s+/g, ""), AZURE_REGIONS)}?` : ""} (regions: az account list-locations -o table; a new one is added in config/regions.ts)`,
        }), values["azure-native:location"], "azure-native:location");
    const apps = resolveApps(values[key("apps")], catalog, m.revisions, env.highAvailability);
    checkMtlsExceptions(m.mtlsExceptions, apps);
    const i = resolveIngress(values[key("ingress")], apps, catalog, env, m);
    // Managed Prometheus and Grafana are Azure services: a kubeconfig cluster has them off unless asked for (and then refused).
    const rawObservability = values[key("observability")];
    const o = parseWith(observability, c.existing?.kubeconfig && (typeof rawObservability !== "object" || rawObservability === null || !("enabled" in rawObservability))
        ? { ...(rawObservability as object | undefined), enabled: false } : rawObservability, key("observability"));
    checkExistingMesh(c, m);
    const config: StackConfig = {
        stack, location, environment: env, cluster: c, mesh: m, apps,
        workloads: { highAvailability: env.highAvailability },
        ingress: i,
        observability: o,
        secrets: resolveSecrets(values[key("secrets")], apps),
        ...(m.egressGateway ? { egressGateway: egressGateway(m.egressGateway.name, m.egressGateway.namespace) } : {}),
        warnings,
    };
    checkKubeconfigMode(c, o, i);
    return config;
}

/** RFC 2606 names no one can own, so no certificate or DNS record for them can exist. */
const DOCUMENTATION_HOST = /(^|\.)(example|invalid|example\.(com|net|org))$/;
const ZERO_SUBSCRIPTION = /\/subscriptions\/0{8}-0{4}-0{4}-0{4}-0{12}(\/|$)/i;

/**
 * Values shipped as examples (the all-zero subscription, documentation domains) that a real
 * deployment cannot use: the keys to set before `pulumi up`, empty when there are none.
 */
export function placeholderKeys(config: StackConfig): string[] {
    const keys: string[] = [];
    const tls = config.ingress.tls;
    if (tls && ZERO_SUBSCRIPTION.test(tls.keyVaultId)) {
        keys.push(`${key("ingress")}.tls.keyVaultId`);
    }
    const ca = config.mesh.certificateAuthority;
    if (ca && ZERO_SUBSCRIPTION.test(ca.keyVaultId)) {
        keys.push(`${key("mesh")}.certificateAuthority.keyVaultId`);
    }
    for (const [app, host] of Object.entries(config.ingress.hosts)) {
        if (DOCUMENTATION_HOST.test(host)) {
            keys.push(`${key("ingress")}.hosts.${app}`);
        }
    }
    const actionGroup = config.observability.alerts.actionGroupId;
    if (config.observability.enabled && actionGroup && ZERO_SUBSCRIPTION.test(actionGroup)) {
        keys.push(`${key("observability")}.alerts.actionGroupId`);
    }
    return keys;
}

/**
 * The offline tools (preview, policy config) run the program under the SDK's mock runtime and set
 * this flag first; a run without it is the real engine (`pulumi preview` or `pulumi up`).
 */
export const OFFLINE_FLAG = Symbol.for("aks-istio-mesh.offline");

export function isOffline(): boolean {
    return (globalThis as Record<symbol, unknown>)[OFFLINE_FLAG] === true;
}

/** Stops a real preview or deployment that still carries example values, naming every key to set. */
export function refusePlaceholders(config: StackConfig, offline = isOffline()): void {
    const keys = placeholderKeys(config);
    if (keys.length > 0 && !offline) {
        const what = pulumi.runtime.isDryRun() ? "preview" : "deploy";
        fail(keys.join(", "), `still hold${keys.length === 1 ? "s" : ""} the example value${keys.length === 1 ? "" : "s"} from the repository (all-zero subscription, *.example hosts); set your own with pulumi config set --path before you ${what} (see docs/configuration.md)`);
    }
}

/** The policy pack's settings for the stack, from its environment and its mTLS exceptions, with their digest (see stackStamp). */
export function packSettings(config: StackConfig): {
    environment: "prod" | "dev"; mtlsExceptions?: MtlsException[]; allowedRevisions?: string[]; proxyRedirection?: "CNIChaining" | "InitContainers";
    egressGateways?: { name: string; namespace: string }[]; settingsDigest: string;
} {
    const exceptions = config.mesh.mtlsExceptions;
    const settings = {
        environment: packEnvironment(config.environment.kind),
        ...(exceptions.length > 0 ? { mtlsExceptions: [...exceptions] } : {}),
        // Without a ManagedCluster in the stack the pack cannot narrow revisions itself.
        ...(config.cluster.existing?.kubeconfig ? { allowedRevisions: [...config.mesh.revisions] } : {}),
        // The pack assumes Istio CNI; a mesh on init containers says so, or its namespaces' level is misjudged.
        ...(config.mesh.proxyRedirection !== "CNIChaining" ? { proxyRedirection: config.mesh.proxyRedirection } : {}),
        // The add-on runs the egress gateway, not the stack: the pack learns it exists from here.
        ...(config.egressGateway ? { egressGateways: [{ name: config.egressGateway.name, namespace: config.egressGateway.namespace }] } : {}),
    };
    return { ...settings, settingsDigest: settingsDigest(settings) };
}

/**
 * Annotations for every Namespace the program creates: the stack's name and the digest of its pack
 * settings, which the pack compares with the digest in its config (policy-pack/lib/stamp.ts).
 */
export function stackStamp(config: StackConfig): Record<string, string> {
    return { [STACK_ANNOTATION]: config.stack, [SETTINGS_ANNOTATION]: packSettings(config).settingsDigest };
}

/** The stack's validated config, from every value the engine passed in (structured ones as JSON text). The only place the program reads config. */
export function loadStackConfig(catalog: Readonly<Record<string, unknown>>): StackConfig {
    return parseStackConfig(pulumi.getStack(), pulumi.runtime.allConfig(), catalog);
}
