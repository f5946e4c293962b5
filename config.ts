import * as pulumi from "@pulumi/pulumi";
import { revisionListProblems } from "./policy-pack/lib/revisions";
import { boolean, fail, integer, list, object, oneOf, optional, string, unique } from "./components/validate";
import { CATALOG } from "./components/apps/catalog";
import { AppSpec, parseAppSpec } from "./components/apps/spec";

/** The project's config namespace (the `name` in Pulumi.yaml). */
export const PROJECT = "aks-istio-mesh";

const TIERS = ["Free", "Standard", "Premium"] as const;
const UPGRADE_CHANNELS = ["none", "patch", "stable", "rapid", "node-image"] as const;
const NODE_OS_CHANNELS = ["None", "Unmanaged", "NodeImage", "SecurityPatch"] as const;
const KUBELOGIN_MODES = ["azurecli", "workloadidentity", "spn", "msi"] as const;
const NETWORK_POLICIES = ["cilium", "azure", "calico", "none"] as const;
const ZONES = ["1", "2", "3"] as const;

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

export interface MeshConfig {
    /** One revision, or two consecutive ones (old, new) during a canary upgrade. */
    readonly revisions: readonly string[];
    readonly ingressGateways: { readonly external: boolean; readonly internal: boolean };
}

/** An app to deploy: its spec (catalog or inline) and the revision its namespace uses. */
export interface AppConfig {
    readonly spec: AppSpec;
    /** Revision label of the app's namespace; default the newest configured revision. */
    readonly revision: string;
}

export interface WorkloadsConfig {
    /** User-facing services get at least 2 replicas, a PodDisruptionBudget and zone spread. */
    readonly highAvailability: boolean;
}

export interface StackConfig {
    readonly stack: string;
    readonly location: string;
    readonly cluster: ClusterConfig;
    readonly mesh: MeshConfig;
    readonly apps: readonly AppConfig[];
    readonly workloads: WorkloadsConfig;
}

const TOP_LEVEL_KEYS = ["cluster", "mesh", "apps", "workloads"] as const;
const key = (k: string) => `${PROJECT}:${k}`;

function parseCluster(raw: unknown, stack: string, mesh: { revisions: readonly string[] }): ClusterConfig {
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
        const guid = { pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, hint: "an Entra ID object id (GUID)" };
        return {
            adminGroupObjectIds: optional(a, "adminGroupObjectIds", q, (w, wp) => list(w, wp, (g, gp) => string(g, gp, guid)), [] as string[]),
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
    return cluster;
}

function parseMesh(raw: unknown): MeshConfig {
    const path = key("mesh");
    const m = object(raw, path, ["revisions", "ingressGateways"]);
    const revisions = list(m.revisions, `${path}.revisions`, (v, p) => string(v, p, { hint: "a revision such as asm-1-30" }));
    const problems = revisionListProblems(revisions);
    if (problems.length > 0) {
        fail(`${path}.revisions`, problems.join("; "));
    }
    const g = object(m.ingressGateways ?? {}, `${path}.ingressGateways`, ["external", "internal"]);
    return {
        revisions,
        ingressGateways: {
            external: optional(g, "external", `${path}.ingressGateways`, boolean, true),
            internal: optional(g, "internal", `${path}.ingressGateways`, boolean, false),
        },
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
        const entry = typeof v === "string" ? { name: v } : object(v, p, ["name", "revision", "spec"]);
        const name = string(entry.name, typeof v === "string" ? p : `${p}.name`);
        const revision = optional(entry, "revision", p, (r, rp) => oneOf(r, rp, mesh.revisions), newest);
        if (entry.spec !== undefined) {
            const spec = parseAppSpec(entry.spec, `${p}.spec`);
            if (spec.name !== name) {
                fail(`${p}.spec.name`, `must equal the entry's name "${name}"`);
            }
            return { spec, revision };
        }
        const spec = CATALOG[name];
        if (!spec) {
            fail(typeof v === "string" ? p : `${p}.name`, `${JSON.stringify(name)} is not a built-in app (${Object.keys(CATALOG).join(", ")}); give a spec for an app of your own`);
        }
        return { spec, revision };
    });
    unique(apps.map((a) => a.spec.name), path, "app");
    unique(apps.map((a) => a.spec.namespace), path, "app namespace");
    return apps;
}

function parseWorkloads(raw: unknown): WorkloadsConfig {
    const path = key("workloads");
    const w = object(raw ?? {}, path, ["highAvailability"]);
    return { highAvailability: optional(w, "highAvailability", path, boolean, false) };
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
    return { stack, location, cluster, mesh, apps: parseApps(values[key("apps")], mesh), workloads: parseWorkloads(values[key("workloads")]) };
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
