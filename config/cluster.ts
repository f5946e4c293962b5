/** `aks-istio-mesh:cluster`: the AKS cluster the stack creates, or an existing cluster it deploys onto. */
import { z } from "zod";
import { SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { boolean, describe, integer, list, object, oneOf, text, unique } from "./schema";

export const KUBELOGIN_MODES = ["azurecli", "workloadidentity", "spn", "msi"] as const;
const GUID = { pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, hint: "an Entra ID object id (GUID)" };
export const guid = () => text(GUID);

/** When a name holds a resource id, say which part is the name. */
function resourceIdHint(s: string): string | undefined {
    return s.includes("/") ? `${describe(s)} looks like a resource id; give the name only (here "${s.split("/").filter(Boolean).pop()}")` : undefined;
}

/** Azure resource group names: 1 to 90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'. */
export const resourceGroupName = () => text({
    hint: "a resource group name: 1 to 90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'",
    check: (s) => resourceIdHint(s) ?? (/^[\p{L}\p{N}_\-.()]{1,90}$/u.test(s) && !s.endsWith(".") ? undefined
        : `${describe(s)} is not a resource group name Azure accepts: 1 to 90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'`),
});

/** AKS cluster names (also the DNS prefix here): lower-case letters, digits and '-', 2 to 63 characters. */
export const clusterName = () => text({
    hint: "lower-case letters, digits and '-', 2 to 63 characters",
    check: (s) => resourceIdHint(s) ?? (/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/.test(s) ? undefined
        : `${describe(s)} is not valid; expected lower-case letters, digits and '-', 2 to 63 characters, starting and ending with a letter or digit`),
});

/** An IPv4 address or CIDR range as AKS's authorized IP ranges take it. */
const ipv4Range = () => text({
    hint: "an IPv4 address or CIDR range such as 203.0.113.0/24",
    check: (s) => {
        const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s);
        if (!m) {
            return `${describe(s)} is not an IPv4 address or CIDR range (e.g. 203.0.113.0/24)`;
        }
        const octet = m.slice(1, 5).find((o) => Number(o) > 255);
        if (octet !== undefined) {
            return `${describe(s)} is not an IPv4 address: octet ${octet} is above 255`;
        }
        return m[5] !== undefined && Number(m[5]) > 32 ? `${describe(s)} is not a CIDR range: the prefix length /${m[5]} is above /32` : undefined;
    },
});

const vmSize = () => text({ pattern: /^Standard_[A-Za-z0-9_]+$/, hint: "an Azure VM size such as Standard_D4ds_v5" });

/** What every node pool has: size, count, zones, autoscaler bounds. */
const POOL_SHAPE = {
    vmSize: vmSize().default("Standard_D4ds_v5"),
    /** Node count; with autoscaling, the initial count. */
    count: integer(1, 100).default(1),
    zones: list(oneOf(["1", "2", "3"])).default([]),
    autoscaling: object({ minCount: integer(1, 1000), maxCount: integer(1, 1000) }).superRefine((a, ctx) => {
        if (a.maxCount < a.minCount) {
            ctx.addIssue({ code: "custom", path: ["maxCount"], input: a.maxCount, message: `must be an integer from ${a.minCount} to 1000; got ${a.maxCount}` });
        }
    }).optional(),
};
const pool = () => object(POOL_SHAPE);

/** The Gateway-mode pool the egress gateway's static IPs live on (name fixed: AKS pool names are short). */
export const EGRESS_POOL = "egress";

function poolCount(p: { count: number; zones: string[]; autoscaling?: { minCount: number; maxCount: number } }, ctx: z.RefinementCtx): void {
    unique(ctx, p.zones, ["zones"], "zone");
    if (p.autoscaling && (p.count < p.autoscaling.minCount || p.count > p.autoscaling.maxCount)) {
        ctx.addIssue({ code: "custom", path: ["count"], input: p.count, message: `must lie between autoscaling.minCount (${p.autoscaling.minCount}) and maxCount (${p.autoscaling.maxCount}); got ${p.count}` });
    }
}

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;

/** A weekly planned-maintenance window, as AKS's MaintenanceConfiguration takes it. */
const window = () => object({
    day: oneOf(DAYS),
    /** Local start time, HH:MM in `utcOffset`. */
    startTime: text({ pattern: /^([01]\d|2[0-3]):[0-5]\d$/, hint: "a time of day HH:MM from 00:00 to 23:59", example: "\"02:00\"" }),
    /** AKS accepts 4 to 24 hours. */
    durationHours: integer(4, 24).default(4),
    /** Every n weeks. */
    intervalWeeks: integer(1, 4).default(1),
    utcOffset: text({ pattern: /^[+-](0\d|1[0-4]):[0-5]\d$/, hint: "a UTC offset such as +00:00 or -07:00" }).default("+00:00"),
});

const existing = object({
    /** An AKS cluster with the Istio add-on, looked up by resource group and name (nothing Azure is created). */
    aks: object({
        resourceGroupName: resourceGroupName(),
        name: clusterName(),
        /** How kubelogin gets tokens for an Entra ID cluster. Default azurecli. */
        kubeloginMode: oneOf(KUBELOGIN_MODES).default("azurecli"),
    }).optional(),
    /** Any cluster with the add-on's footprint through a kubeconfig: no Azure resource at all. */
    kubeconfig: object({
        /** Kubeconfig file; default KUBECONFIG, else ~/.kube/config. */
        path: text().optional(),
        /** Context; default the kubeconfig's current-context. */
        context: text().optional(),
    }).optional(),
}).superRefine((e, ctx) => {
    if ((e.aks === undefined) === (e.kubeconfig === undefined)) {
        ctx.addIssue({ code: "custom", input: e, message: "needs exactly one of aks: { resourceGroupName, name } or kubeconfig: { path?, context? }" });
    }
});

/** Keys that describe a cluster the stack creates; with `existing` they have nothing to act on. */
export const CREATE_ONLY = ["name", "resourceGroupName", "tier", "systemPool", "networkPolicy", "aad", "disableLocalAccounts",
    "authorizedIpRanges", "upgradeChannel", "nodeOsUpgradeChannel", "protect", "userPools", "deleteLock", "maintenance"] as const;

/** The Kubernetes range of every supported revision, as `asm-1-30: 1.32 to 1.36`. */
export function kubernetesRanges(): string {
    return SUPPORTED_REVISIONS.map((r) => `${r.revision}: ${r.minKubernetes} to ${r.maxKubernetes}`).join(", ");
}

export const cluster = object({
    /** Default `aks-istio-mesh-<stack>`. */
    name: clusterName().optional(),
    /** Default `rg-<name>`. */
    resourceGroupName: resourceGroupName().optional(),
    /** Required unless `existing.aks`, whose version the program reads from the cluster. */
    kubernetesVersion: text({ pattern: /^\d+\.\d+(\.\d+)?$/, hint: "a Kubernetes version such as \"1.34\" or \"1.34.2\"", example: "\"1.34\"" }).optional(),
    tier: oneOf(["Free", "Standard", "Premium"]).default("Free"),
    systemPool: pool().prefault({}).superRefine(poolCount),
    /**
     * Pools where the apps run, each its own AgentPool resource (it can change and scale later, unlike the
     * inline system pool). With any, the system pool is tainted CriticalAddonsOnly and keeps system pods only.
     */
    userPools: list(object({
        name: text({ pattern: /^[a-z][a-z0-9]{0,11}$/, hint: "lower-case letters and digits, starting with a letter, at most 12 characters" }),
        ...POOL_SHAPE,
    }).superRefine(poolCount)).default([]).superRefine((pools, ctx) => {
        unique(ctx, pools.map((p) => p.name), [], "pool name");
        const reserved = pools.findIndex((p) => p.name === "system" || p.name === EGRESS_POOL);
        if (reserved >= 0) {
            ctx.addIssue({ code: "custom", path: [reserved, "name"], input: pools[reserved].name, message: `"${pools[reserved].name}" is the name of a pool the stack makes itself; choose another` });
        }
    }),
    networkPolicy: oneOf(["cilium", "azure", "calico", "none"]).default("cilium"),
    /** Entra ID integration with Azure RBAC; omit for Kubernetes RBAC with local accounts. */
    aad: object({
        /** Entra ID groups that become cluster admins through Azure RBAC. */
        adminGroupObjectIds: list(guid()).default([]),
        /** Service principals (the stack's CI preview identity) given read-only access to this cluster only. */
        readerPrincipalIds: list(guid()).default([]),
        /** How kubelogin gets tokens for the Kubernetes provider (the engine host needs kubelogin). */
        kubeloginMode: oneOf(KUBELOGIN_MODES).default("azurecli"),
    }).optional(),
    disableLocalAccounts: boolean().default(false),
    authorizedIpRanges: list(ipv4Range()).default([]),
    upgradeChannel: oneOf(["none", "patch", "stable", "rapid", "node-image"]).default("patch"),
    nodeOsUpgradeChannel: oneOf(["None", "Unmanaged", "NodeImage", "SecurityPatch"]).default("NodeImage"),
    /** Sets Pulumi's `protect` on the ManagedCluster so `pulumi destroy` cannot delete it by accident. */
    protect: boolean().default(false),
    /** A CanNotDelete management lock on the resource group: Azure itself refuses to delete it or anything in it. */
    deleteLock: boolean().default(false),
    /** Planned maintenance windows for the auto-upgrade and node OS channels; a channel without one upgrades at any time. */
    maintenance: object({ autoUpgrade: window().optional(), nodeOs: window().optional() }).prefault({}),
    /** Deploy onto a cluster that already exists instead of creating one. */
    existing: existing.optional(),
}).superRefine((c, ctx) => {
    if (c.kubernetesVersion === undefined && !c.existing?.aks) {
        ctx.addIssue({ code: "custom", path: ["kubernetesVersion"], input: undefined, message: `is required${c.existing ? " with existing.kubeconfig (nothing can ask an Azure profile for it)" : ""}: the cluster's Kubernetes version, e.g. "1.34"` });
    }
    if (c.disableLocalAccounts && !c.aad) {
        ctx.addIssue({ code: "custom", path: ["disableLocalAccounts"], input: true, message: "needs cluster.aad (Entra ID integration); without it nobody could sign in" });
    }
    if (c.maintenance.autoUpgrade && c.upgradeChannel === "none") {
        ctx.addIssue({ code: "custom", path: ["maintenance", "autoUpgrade"], input: c.maintenance.autoUpgrade, message: "schedules the auto-upgrade channel, but cluster.upgradeChannel is none; set a channel (patch, stable, rapid, node-image) or remove the window" });
    }
    if (c.maintenance.nodeOs && (c.nodeOsUpgradeChannel === "None" || c.nodeOsUpgradeChannel === "Unmanaged")) {
        ctx.addIssue({ code: "custom", path: ["maintenance", "nodeOs"], input: c.maintenance.nodeOs, message: `schedules the node OS channel, but cluster.nodeOsUpgradeChannel is ${c.nodeOsUpgradeChannel}, which AKS does not schedule; set NodeImage or SecurityPatch, or remove the window` });
    }
});

/** The raw cluster value (before defaults), to tell which create-only keys a user set next to `existing`. */
export function createOnlyKeysSet(raw: unknown): string[] {
    return raw && typeof raw === "object" ? CREATE_ONLY.filter((k) => (raw as Record<string, unknown>)[k] !== undefined) : [];
}

export type ClusterInput = z.output<typeof cluster>;
