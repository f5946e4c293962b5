import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import * as k8s from "@pulumi/kubernetes";
import { INGRESS_GATEWAYS, IngressGatewayInfo } from "../policy-pack/lib/aks";
import { KubeloginMode, withKubeloginMode } from "./kubeconfig";
import { assignClusterReaders, roleDefinitionId, ROLES } from "./roles";

/** A node pool's size, count, zones and autoscaler bounds. */
export interface NodePoolArgs {
    /** VM size of the nodes. */
    readonly vmSize: pulumi.Input<string>;
    /** Node count; with autoscaling, the initial count. */
    readonly count: pulumi.Input<number>;
    /** Availability zones; empty for none. */
    readonly zones: readonly string[];
    /** Cluster autoscaler bounds; omit for a fixed count. */
    readonly autoscaling?: { readonly minCount: number; readonly maxCount: number };
}

/** A weekly planned-maintenance window. */
export interface MaintenanceWindowArgs {
    readonly day: string;
    /** HH:MM in `utcOffset`. */
    readonly startTime: string;
    readonly durationHours: number;
    readonly intervalWeeks: number;
    readonly utcOffset: string;
}

/** The taint that keeps all but critical add-on pods off the system pool. */
export const SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule";

/** AKS's names for the maintenance configurations of the two auto-upgrade channels. */
export const MAINTENANCE_CONFIGS = { autoUpgrade: "aksManagedAutoUpgradeSchedule", nodeOs: "aksManagedNodeOSUpgradeSchedule" } as const;

/** Arguments of {@link AksCluster}. */
export interface AksClusterArgs {
    /** Azure region of the resource group and the cluster. */
    readonly location: pulumi.Input<string>;
    /** Name of the resource group to create. */
    readonly resourceGroupName: string;
    /** Cluster name (also its DNS prefix). */
    readonly clusterName: string;
    /** Kubernetes version, `major.minor` (latest patch) or a full patch version. */
    readonly kubernetesVersion: pulumi.Input<string>;
    /** AKS pricing tier; Standard adds the uptime SLA. */
    readonly tier: pulumi.Input<"Free" | "Standard" | "Premium">;
    /** The system node pool (the only inline pool: Azure cannot change inline pools later). */
    readonly systemPool: NodePoolArgs;
    /**
     * Pools the apps run on, each an AgentPool resource of mode User. With any, the system pool is
     * tainted CriticalAddonsOnly so only system pods (istiod and the gateways among them) stay there.
     */
    readonly userPools?: readonly (NodePoolArgs & { readonly name: string })[];
    /** A CanNotDelete management lock on the resource group. Default false. */
    readonly deleteLock?: boolean;
    /** Planned maintenance windows of the auto-upgrade and node OS channels. */
    readonly maintenance?: { readonly autoUpgrade?: MaintenanceWindowArgs; readonly nodeOs?: MaintenanceWindowArgs };
    /**
     * The add-on egress gateway on Static Egress Gateway: the cluster's static egress profile, a
     * Gateway-mode pool with a public IP prefix, and the gateway referring to its StaticGatewayConfiguration
     * (a Kubernetes object the stack creates once the cluster is up).
     */
    readonly egressGateway?: {
        readonly name: string;
        readonly namespace: string;
        readonly gatewayConfigurationName: string;
        /** Name of the Gateway-mode pool. */
        readonly poolName: string;
        readonly pool: { readonly vmSize: string; readonly count: number; readonly publicIpPrefixSize: number; readonly zones: readonly string[] };
    };
    /** Plug-in CA from Key Vault (root, intermediate, its key and the chain); only when the mesh is first enabled. */
    readonly certificateAuthority?: {
        readonly keyVaultId: string;
        readonly rootCertObjectName: string;
        readonly certObjectName: string;
        readonly keyObjectName: string;
        readonly certChainObjectName: string;
    };
    /** Istio add-on revisions: one, or two consecutive during a canary upgrade. */
    readonly revisions: readonly string[];
    /** Which add-on ingress gateways to run. The external one is on unless set false. */
    readonly ingressGateways: { readonly external: boolean; readonly internal: boolean };
    /** Network policy engine; Cilium runs as the Azure CNI overlay dataplane. Default cilium. */
    readonly networkPolicy?: "cilium" | "azure" | "calico" | "none";
    /** Entra ID integration with Azure RBAC. Omit for Kubernetes RBAC with local accounts. */
    readonly aad?: {
        readonly adminGroupObjectIds: readonly string[];
        /** kubelogin login mode the Kubernetes provider uses (see docs/mesh.md, the kubeconfig section). */
        readonly kubeloginMode: KubeloginMode;
        /** Service principals (CI preview identities) that may read this resource group and cluster, nothing else. */
        readonly readerPrincipalIds?: readonly string[];
    };
    /** Disable static local accounts (needs `aad`). Default false. */
    readonly disableLocalAccounts?: boolean;
    /** API server authorized IP ranges; empty for none. */
    readonly authorizedIpRanges?: readonly string[];
    /** Kubernetes auto-upgrade channel. Default patch. */
    readonly upgradeChannel?: pulumi.Input<string>;
    /** Node OS auto-upgrade channel. Default NodeImage. */
    readonly nodeOsUpgradeChannel?: pulumi.Input<string>;
    /** Run the Key Vault Secrets Store CSI driver add-on (ingress TLS certificates). Default false. */
    readonly enableKeyVaultSecretsProvider?: boolean;
    /** Run the managed Prometheus metrics add-on (ama-metrics); it needs a data collection rule association to ship anything. Default false. */
    readonly monitoringMetrics?: boolean;
    /** Protect the ManagedCluster against deletion. Default false. */
    readonly protect?: boolean;
    /** Tags for the Azure resources. */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * What the mesh, the apps and the stack outputs take from a cluster, whether the program creates it
 * ({@link AksCluster}) or finds it (ExistingCluster). Azure facts are undefined without Azure.
 */
export interface MeshCluster {
    /** Explicit Kubernetes provider for everything in the cluster. */
    readonly provider: k8s.Provider;
    /** Kubeconfig of the provider (secret). */
    readonly kubeconfig: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    /** Revisions the add-on runs. */
    readonly revisions: pulumi.Output<string[]>;
    /** The add-on's ingress gateways the stack uses, external first. */
    readonly ingressGateways: IngressGatewayInfo[];
    readonly resourceGroupName?: pulumi.Output<string>;
    /** ARM id of the ManagedCluster. */
    readonly clusterId?: pulumi.Output<string>;
    readonly oidcIssuerUrl?: pulumi.Output<string>;
    /** Identity of the Key Vault Secrets Store CSI add-on, when enabled. */
    readonly keyVaultSecretsProviderIdentity?: pulumi.Output<{ clientId?: string; objectId?: string } | undefined>;
}

/**
 * An AKS cluster with the managed Istio add-on, and the Kubernetes provider every in-cluster
 * resource uses.
 *
 * The service mesh profile (mode, revisions, ingress gateways) is set at creation, so istiod and
 * the gateways come up with the cluster in one Azure operation.
 */
export class AksCluster extends pulumi.ComponentResource implements MeshCluster {
    public readonly resourceGroupName: pulumi.Output<string>;
    public readonly clusterName: pulumi.Output<string>;
    public readonly clusterId: pulumi.Output<string>;
    /** Revisions the add-on runs, as Azure reports them. */
    public readonly revisions: pulumi.Output<string[]>;
    /** The add-on's ingress gateways that are enabled, external first. */
    public readonly ingressGateways: IngressGatewayInfo[];
    public readonly oidcIssuerUrl: pulumi.Output<string>;
    /** Identity of the Key Vault Secrets Store CSI add-on, when enabled. */
    public readonly keyVaultSecretsProviderIdentity: pulumi.Output<{ clientId?: string; objectId?: string } | undefined>;
    /** Kubeconfig for the provider (secret). For AAD clusters it runs kubelogin. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** Explicit Kubernetes provider for everything in the cluster. */
    public readonly provider: k8s.Provider;
    /** The Gateway-mode pool of the egress gateway, when there is one (its StaticGatewayConfiguration waits for it). */
    public readonly egressPool?: containerservice.AgentPool;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:cluster:AksCluster", name, {}, opts);
        if (args.disableLocalAccounts && !args.aad) {
            throw new pulumi.ResourceError("disableLocalAccounts needs aad: without Entra ID nobody could sign in", this);
        }

        const rg = new resources.ResourceGroup(`${name}-rg`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            tags: args.tags,
        }, { parent: this });

        const pool = args.systemPool;
        const userPools = args.userPools ?? [];
        const egress = args.egressGateway;
        const plugin = args.certificateAuthority;
        const cluster = new containerservice.ManagedCluster(`${name}-aks`, {
            resourceGroupName: rg.name,
            resourceName: args.clusterName,
            location: rg.location,
            dnsPrefix: args.clusterName,
            kubernetesVersion: args.kubernetesVersion,
            sku: { name: "Base", tier: args.tier },
            identity: { type: "SystemAssigned" },
            enableRBAC: true,
            agentPoolProfiles: [{
                name: "system",
                mode: "System",
                osType: "Linux",
                osSKU: "AzureLinux",
                type: "VirtualMachineScaleSets",
                vmSize: pool.vmSize,
                count: pool.count,
                availabilityZones: pool.zones.length > 0 ? [...pool.zones] : undefined,
                enableAutoScaling: pool.autoscaling !== undefined,
                minCount: pool.autoscaling?.minCount,
                maxCount: pool.autoscaling?.maxCount,
                nodeTaints: userPools.length > 0 ? [SYSTEM_POOL_TAINT] : undefined,
            }],
            networkProfile: {
                networkPlugin: "azure",
                networkPluginMode: "overlay",
                networkDataplane: (args.networkPolicy ?? "cilium") === "cilium" ? "cilium" : "azure",
                networkPolicy: args.networkPolicy ?? "cilium",
                loadBalancerSku: "standard",
                staticEgressGatewayProfile: egress ? { enabled: true } : undefined,
            },
            oidcIssuerProfile: { enabled: true },
            securityProfile: { workloadIdentity: { enabled: true } },
            aadProfile: args.aad && {
                managed: true,
                enableAzureRBAC: true,
                adminGroupObjectIDs: [...args.aad.adminGroupObjectIds],
            },
            disableLocalAccounts: args.disableLocalAccounts ?? false,
            apiServerAccessProfile: args.authorizedIpRanges?.length
                ? { authorizedIPRanges: [...args.authorizedIpRanges] }
                : undefined,
            autoUpgradeProfile: {
                upgradeChannel: args.upgradeChannel ?? "patch",
                nodeOSUpgradeChannel: args.nodeOsUpgradeChannel ?? "NodeImage",
            },
            addonProfiles: args.enableKeyVaultSecretsProvider || plugin
                ? { azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } } }
                : undefined,
            azureMonitorProfile: args.monitoringMetrics ? { metrics: { enabled: true } } : undefined,
            serviceMeshProfile: {
                mode: "Istio",
                istio: {
                    revisions: [...args.revisions],
                    components: {
                        ingressGateways: [
                            { mode: "External", enabled: args.ingressGateways.external },
                            ...(args.ingressGateways.internal ? [{ mode: "Internal", enabled: true }] : []),
                        ],
                        egressGateways: egress
                            ? [{ enabled: true, name: egress.name, namespace: egress.namespace, gatewayConfigurationName: egress.gatewayConfigurationName }]
                            : undefined,
                    },
                    certificateAuthority: plugin && { plugin: { ...plugin } },
                },
            },
            tags: args.tags,
        }, {
            parent: this,
            protect: args.protect ?? false,
            // With pools of their own, Azure lists them in agentPoolProfiles too: after a refresh, sending
            // the inline list would try to drop them, so the inline pool is left as created (Azure cannot
            // update it through the cluster anyway). Else the autoscaler owns the system pool's count:
            // sending the configured one after a refresh would fight it (and resize the pool).
            ignoreChanges: userPools.length > 0 || egress ? ["agentPoolProfiles"]
                : pool.autoscaling ? ["agentPoolProfiles[0].count"] : undefined,
        });

        // Readers exist only with Entra ID: on a cluster without it, the user credential is cluster-admin.
        assignClusterReaders(name, { resourceGroup: rg.id, cluster: cluster.id }, args.aad?.readerPrincipalIds ?? [], this);

        for (const p of userPools) {
            new containerservice.AgentPool(`${name}-pool-${p.name}`, {
                resourceGroupName: rg.name,
                resourceName: cluster.name,
                agentPoolName: p.name,
                mode: "User",
                osType: "Linux",
                osSKU: "AzureLinux",
                type: "VirtualMachineScaleSets",
                vmSize: p.vmSize,
                count: p.count,
                availabilityZones: p.zones.length > 0 ? [...p.zones] : undefined,
                enableAutoScaling: p.autoscaling !== undefined,
                minCount: p.autoscaling?.minCount,
                maxCount: p.autoscaling?.maxCount,
                tags: args.tags,
            }, { parent: this, ignoreChanges: p.autoscaling ? ["count"] : undefined });
        }

        if (egress) {
            // Its nodes own the static public IPs; AKS refuses autoscaling here (the prefix caps the count).
            this.egressPool = new containerservice.AgentPool(`${name}-pool-${egress.poolName}`, {
                resourceGroupName: rg.name,
                resourceName: cluster.name,
                agentPoolName: egress.poolName,
                mode: "Gateway",
                osType: "Linux",
                osSKU: "AzureLinux",
                type: "VirtualMachineScaleSets",
                vmSize: egress.pool.vmSize,
                count: egress.pool.count,
                availabilityZones: egress.pool.zones.length > 0 ? [...egress.pool.zones] : undefined,
                gatewayProfile: { publicIPPrefixSize: egress.pool.publicIpPrefixSize },
                tags: args.tags,
            }, { parent: this });
        }

        for (const [key, configName] of Object.entries(MAINTENANCE_CONFIGS) as [keyof typeof MAINTENANCE_CONFIGS, string][]) {
            const w = args.maintenance?.[key];
            if (w) {
                new containerservice.MaintenanceConfiguration(`${name}-maintenance-${key === "autoUpgrade" ? "upgrade" : "node-os"}`, {
                    resourceGroupName: rg.name,
                    resourceName: cluster.name,
                    configName,
                    maintenanceWindow: {
                        schedule: { weekly: { dayOfWeek: w.day, intervalWeeks: w.intervalWeeks } },
                        durationHours: w.durationHours,
                        startTime: w.startTime,
                        utcOffset: w.utcOffset,
                    },
                }, { parent: this });
            }
        }

        if (plugin) {
            // The add-on's CSI identity reads the four CA objects; istiod mounts them through it.
            new authorization.RoleAssignment(`${name}-mesh-ca-reader`, {
                scope: plugin.keyVaultId,
                principalId: cluster.addonProfiles.apply((a) => {
                    const id = a?.azureKeyvaultSecretsProvider?.identity?.objectId;
                    if (!id) {
                        throw new pulumi.ResourceError("the plug-in CA needs the cluster's azureKeyvaultSecretsProvider add-on identity", this);
                    }
                    return id;
                }),
                principalType: "ServicePrincipal",
                roleDefinitionId: roleDefinitionId(plugin.keyVaultId, ROLES.keyVaultSecretsUser),
            }, { parent: this });
        }

        if (args.deleteLock) {
            // After the cluster, so a destroy (once the lock is switched off) removes the lock first.
            new authorization.ManagementLockAtResourceGroupLevel(`${name}-lock`, {
                resourceGroupName: rg.name,
                lockName: "do-not-delete",
                level: "CanNotDelete",
                notes: "Production: remove cluster.deleteLock and run pulumi up before deleting anything here.",
            }, { parent: this, dependsOn: [cluster] });
        }

        // The user credential: for AAD clusters an exec kubeconfig (kubelogin), for others a
        // certificate. It works with local accounts disabled, unlike the admin credential.
        const creds = containerservice.listManagedClusterUserCredentialsOutput({
            resourceGroupName: rg.name,
            resourceName: cluster.name,
            format: args.aad ? "exec" : undefined,
        }, { parent: this });
        const mode = args.aad?.kubeloginMode;
        this.kubeconfig = pulumi.secret(creds.kubeconfigs.apply((k) => {
            const text = Buffer.from(k[0].value, "base64").toString("utf8");
            return mode ? withKubeloginMode(text, mode) : text;
        }));

        this.provider = new k8s.Provider(`${name}-k8s`, {
            kubeconfig: this.kubeconfig,
            // Replace the provider (and so every object) only when the cluster itself changes,
            // not when credentials rotate.
            clusterIdentifier: cluster.id,
        }, { parent: this });

        this.resourceGroupName = rg.name;
        this.clusterName = cluster.name;
        this.clusterId = cluster.id;
        this.revisions = cluster.serviceMeshProfile.apply((p) => p?.istio?.revisions ?? []);
        this.oidcIssuerUrl = cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? "");
        this.keyVaultSecretsProviderIdentity = cluster.addonProfiles.apply((a) => {
            const id = a?.azureKeyvaultSecretsProvider?.identity;
            return id && { clientId: id.clientId, objectId: id.objectId };
        });
        this.ingressGateways = [
            ...(args.ingressGateways.external ? [INGRESS_GATEWAYS.External] : []),
            ...(args.ingressGateways.internal ? [INGRESS_GATEWAYS.Internal] : []),
        ];

        this.registerOutputs({
            resourceGroupName: this.resourceGroupName,
            clusterName: this.clusterName,
            clusterId: this.clusterId,
            revisions: this.revisions,
            oidcIssuerUrl: this.oidcIssuerUrl,
            kubeconfig: this.kubeconfig,
        });
    }
}
