import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as k8s from "@pulumi/kubernetes";
import { parse, stringify } from "yaml";
import { INGRESS_GATEWAYS, IngressGatewayInfo } from "../policy-pack/lib/aks";
import { ConfigError } from "../policy-pack/lib/errors";
import type { MeshCluster } from "./cluster";
import { KubeloginMode, withKubeloginMode } from "./kubeconfig";

/** The stack-config keys the refusals name (the component itself takes typed Args only). */
export const EXISTING_CLUSTER_KEYS = {
    aks: "aks-istio-mesh:cluster.existing.aks",
    kubeconfig: "aks-istio-mesh:cluster.existing.kubeconfig",
    revisions: "aks-istio-mesh:mesh.revisions",
    ingressGateways: "aks-istio-mesh:mesh.ingressGateways",
} as const;

/** Arguments of {@link ExistingCluster}: exactly one of `aks` or `kubeconfig`. */
export interface ExistingClusterArgs {
    /** An AKS cluster with the Istio add-on, looked up by resource group and name (nothing Azure is created). */
    readonly aks?: {
        /** Resource group of the cluster. */
        readonly resourceGroupName: string;
        /** Name of the ManagedCluster. */
        readonly name: string;
        /** kubelogin login mode for Entra ID clusters. Default azurecli. */
        readonly kubeloginMode?: KubeloginMode;
    };
    /** Any cluster with the add-on's footprint, reached through a kubeconfig; no Azure resource at all. */
    readonly kubeconfig?: {
        /** Kubeconfig file, or several joined by the path delimiter. Default KUBECONFIG, else ~/.kube/config. */
        readonly path?: string;
        /** Context to use. Default the kubeconfig's current-context. */
        readonly context?: string;
    };
    /** Istio revisions the stack's namespaces use; an AKS cluster must run every one. */
    readonly revisions: readonly string[];
    /** Add-on ingress gateways the stack uses; an AKS cluster must run each one switched on. */
    readonly ingressGateways: { readonly external: boolean; readonly internal: boolean };
}

/** The part of a ManagedCluster's serviceMeshProfile the check reads. */
export interface ServiceMeshProfile {
    readonly mode?: string;
    readonly istio?: {
        readonly revisions?: readonly string[];
        readonly components?: { readonly ingressGateways?: readonly { readonly mode?: string; readonly enabled?: boolean }[] };
    };
}

/**
 * Refuses an AKS cluster whose Istio add-on does not run what the stack needs: the add-on itself,
 * every configured revision (the cluster may run more, e.g. mid-upgrade) and every configured
 * ingress gateway. Throws a ConfigError naming the key to change.
 */
export function checkServiceMesh(cluster: string, profile: ServiceMeshProfile | undefined, revisions: readonly string[], gateways: ExistingClusterArgs["ingressGateways"]): void {
    if (profile?.mode !== "Istio") {
        throw new ConfigError(EXISTING_CLUSTER_KEYS.aks, `AKS cluster ${cluster} does not run the Istio add-on (serviceMeshProfile.mode is ${profile?.mode ?? "unset"}); enable it with \`az aks mesh enable\` or name a cluster that runs it`);
    }
    const running = profile.istio?.revisions ?? [];
    const missing = revisions.filter((r) => !running.includes(r));
    if (missing.length > 0) {
        throw new ConfigError(EXISTING_CLUSTER_KEYS.revisions, `AKS cluster ${cluster} runs Istio revisions [${running.join(", ")}], not ${missing.join(", ")}; use revisions the cluster runs (or have ${EXISTING_CLUSTER_KEYS.aks} name one that runs them)`);
    }
    const enabled = new Set((profile.istio?.components?.ingressGateways ?? []).filter((g) => g.enabled).map((g) => g.mode));
    const wanted = (["External", "Internal"] as const).filter((m) => gateways[m === "External" ? "external" : "internal"]);
    const absent = wanted.filter((m) => !enabled.has(m));
    if (absent.length > 0) {
        throw new ConfigError(EXISTING_CLUSTER_KEYS.ingressGateways, `AKS cluster ${cluster} has no enabled ${absent.join(" or ")} ingress gateway; switch ${absent.map((m) => m.toLowerCase()).join(" and ")} off or enable it with \`az aks mesh enable-ingress-gateway --ingress-gateway-type ${absent[0].toLowerCase()}\``);
    }
}

type Named = { name?: string; [k: string]: unknown };
interface KubeconfigDoc {
    clusters?: Named[];
    contexts?: Named[];
    users?: Named[];
    "current-context"?: string;
}

/** File references in a kubeconfig that client-go resolves against the file's directory. */
const FILE_KEYS = { cluster: ["certificate-authority"], user: ["client-certificate", "client-key", "tokenFile"] } as const;

function absolutize(entry: Named, field: "cluster" | "user", dir: string): Named {
    const body = { ...(entry[field] as Record<string, unknown> | undefined) };
    for (const k of FILE_KEYS[field]) {
        if (typeof body[k] === "string" && !path.isAbsolute(body[k] as string)) {
            body[k] = path.resolve(dir, body[k] as string);
        }
    }
    return { ...entry, [field]: body };
}

/**
 * One self-contained kubeconfig for one context, merged from the given files the way kubectl merges
 * KUBECONFIG (the first file to name an entry wins), relative file paths made absolute.
 */
export function selectKubeconfig(files: readonly string[], context: string | undefined, key: string): { kubeconfig: string; clusterName: string; server: string } {
    const merged = { clusters: new Map<string, Named>(), contexts: new Map<string, Named>(), users: new Map<string, Named>(), current: undefined as string | undefined };
    for (const file of files) {
        let doc: KubeconfigDoc;
        try {
            doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as KubeconfigDoc;
        } catch (e) {
            throw new ConfigError(key, `cannot read kubeconfig ${file}: ${(e as Error).message.split("\n")[0]}`);
        }
        const dir = path.dirname(path.resolve(file));
        for (const c of doc.clusters ?? []) {
            if (c.name && !merged.clusters.has(c.name)) {
                merged.clusters.set(c.name, absolutize(c, "cluster", dir));
            }
        }
        for (const u of doc.users ?? []) {
            if (u.name && !merged.users.has(u.name)) {
                merged.users.set(u.name, absolutize(u, "user", dir));
            }
        }
        for (const c of doc.contexts ?? []) {
            if (c.name && !merged.contexts.has(c.name)) {
                merged.contexts.set(c.name, c);
            }
        }
        merged.current ??= doc["current-context"] || undefined;
    }
    const name = context ?? merged.current;
    if (!name) {
        throw new ConfigError(`${key}.context`, `${files.join(", ")} sets no current-context; name one of: ${[...merged.contexts.keys()].join(", ") || "(no contexts)"}`);
    }
    const ctx = merged.contexts.get(name);
    if (!ctx) {
        throw new ConfigError(`${key}.context`, `no context "${name}" in ${files.join(", ")}; contexts: ${[...merged.contexts.keys()].join(", ") || "(none)"}`);
    }
    const ref = (ctx.context ?? {}) as { cluster?: string; user?: string };
    const cluster = ref.cluster ? merged.clusters.get(ref.cluster) : undefined;
    const server = (cluster?.cluster as { server?: string } | undefined)?.server;
    if (!cluster || !server) {
        throw new ConfigError(`${key}.context`, `context "${name}" refers to cluster "${ref.cluster ?? ""}", which has no entry with a server in ${files.join(", ")}`);
    }
    const user = ref.user ? merged.users.get(ref.user) : undefined;
    const kubeconfig = stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [cluster],
        contexts: [ctx],
        users: user ? [user] : [],
        "current-context": name,
    });
    return { kubeconfig, clusterName: String(ref.cluster), server };
}

/**
 * Stands in for AksCluster when the cluster already exists (a platform team owns it, the stack owns
 * the mesh and the apps): the same provider, kubeconfig and gateway facts, with no cluster created.
 *
 * - `aks`: looks the ManagedCluster up, refuses it unless its Istio add-on runs the stack's
 *   revisions and gateways, and builds the provider from its user credentials (kubelogin converted
 *   to a non-interactive mode, as AksCluster does). The check runs before the kubeconfig exists, so
 *   nothing reaches a cluster that fails it.
 * - `kubeconfig`: a provider from one context of a kubeconfig; no Azure call at all. Revisions are
 *   taken as given: without Azure there is no add-on profile to ask.
 */
export class ExistingCluster extends pulumi.ComponentResource implements MeshCluster {
    public readonly provider: k8s.Provider;
    /** Kubeconfig of the provider (secret). */
    public readonly kubeconfig: pulumi.Output<string>;
    /** The ManagedCluster's name, or the kubeconfig context's cluster name. */
    public readonly clusterName: pulumi.Output<string>;
    /** Revisions the add-on runs (as Azure reports them), or the configured ones for a kubeconfig. */
    public readonly revisions: pulumi.Output<string[]>;
    /** The add-on's ingress gateways the stack uses, external first. */
    public readonly ingressGateways: IngressGatewayInfo[];
    /** Undefined for a kubeconfig. */
    public readonly resourceGroupName?: pulumi.Output<string>;
    /** ARM id of the ManagedCluster; undefined for a kubeconfig. */
    public readonly clusterId?: pulumi.Output<string>;
    /** OIDC issuer of the cluster; undefined for a kubeconfig. */
    public readonly oidcIssuerUrl?: pulumi.Output<string>;
    /** Identity of the Key Vault Secrets Store CSI add-on, when the AKS cluster runs it. */
    public readonly keyVaultSecretsProviderIdentity?: pulumi.Output<{ clientId?: string; objectId?: string } | undefined>;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:cluster:ExistingCluster", name, {}, opts);
        if ((args.aks === undefined) === (args.kubeconfig === undefined)) {
            throw new ConfigError("aks-istio-mesh:cluster.existing", "needs exactly one of aks (resource group and name) or kubeconfig (path and/or context)");
        }
        this.ingressGateways = [
            ...(args.ingressGateways.external ? [INGRESS_GATEWAYS.External] : []),
            ...(args.ingressGateways.internal ? [INGRESS_GATEWAYS.Internal] : []),
        ];

        if (args.aks) {
            const { resourceGroupName, name: clusterName } = args.aks;
            const mode = args.aks.kubeloginMode ?? "azurecli";
            const found = containerservice.getManagedClusterOutput({ resourceGroupName, resourceName: clusterName }, { parent: this });
            // Everything below derives from the checked cluster, so a refusal stops the program
            // before a provider (and so any Kubernetes object) is registered.
            const cluster = found.apply((c) => {
                checkServiceMesh(`${resourceGroupName}/${clusterName}`, c.serviceMeshProfile, args.revisions, args.ingressGateways);
                return c;
            });
            // Invoke arguments stay free of the check: a refusal there would be logged with a
            // stack trace; through the kubeconfig it reaches `pulumi up` as the message alone.
            const creds = containerservice.listManagedClusterUserCredentialsOutput({
                resourceGroupName,
                resourceName: clusterName,
                format: found.apply((c) => (c.aadProfile ? "exec" : undefined)),
            }, { parent: this });
            this.kubeconfig = pulumi.secret(pulumi.all([cluster, creds.kubeconfigs]).apply(([, k]) =>
                withKubeloginMode(Buffer.from(k[0].value, "base64").toString("utf8"), mode)));
            this.provider = new k8s.Provider(`${name}-k8s`, {
                kubeconfig: this.kubeconfig,
                clusterIdentifier: cluster.id,
            }, { parent: this });
            this.clusterName = cluster.name;
            this.clusterId = cluster.id;
            this.resourceGroupName = cluster.apply(() => resourceGroupName);
            this.revisions = cluster.apply((c) => [...(c.serviceMeshProfile?.istio?.revisions ?? [])]);
            this.oidcIssuerUrl = cluster.apply((c) => c.oidcIssuerProfile?.issuerURL ?? "");
            this.keyVaultSecretsProviderIdentity = cluster.apply((c) => {
                const id = c.addonProfiles?.azureKeyvaultSecretsProvider?.identity;
                return id && { clientId: id.clientId, objectId: id.objectId };
            });
        } else {
            const key = EXISTING_CLUSTER_KEYS.kubeconfig;
            const given = args.kubeconfig!.path ?? process.env.KUBECONFIG;
            const files = (given ?? path.join(os.homedir(), ".kube", "config")).split(path.delimiter).filter((f) => f !== "");
            const selected = selectKubeconfig(files, args.kubeconfig!.context, key);
            this.kubeconfig = pulumi.secret(selected.kubeconfig);
            this.provider = new k8s.Provider(`${name}-k8s`, {
                kubeconfig: this.kubeconfig,
                // The API server is the cluster's identity here: new credentials for the same
                // server keep every object; another server replaces them.
                clusterIdentifier: selected.server,
            }, { parent: this });
            this.clusterName = pulumi.output(selected.clusterName);
            this.revisions = pulumi.output([...args.revisions]);
        }

        this.registerOutputs({
            clusterName: this.clusterName,
            revisions: this.revisions,
            kubeconfig: this.kubeconfig,
            resourceGroupName: this.resourceGroupName,
            clusterId: this.clusterId,
            oidcIssuerUrl: this.oidcIssuerUrl,
        });
    }
}
