import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { SUPPORTED_REVISIONS } from "../../policy-pack/lib/revisions";

/**
 * What the providers would answer, offline: stable ids, the outputs Azure computes for a cluster,
 * and a kubeconfig from listManagedClusterUserCredentials. Unknown invokes fail loudly.
 */

export const OFFLINE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
export const OFFLINE_TENANT = "11111111-1111-1111-1111-111111111111";
/** Documentation address (RFC 5737) standing in for the ingress gateway's public IP. */
export const OFFLINE_INGRESS_IP = "203.0.113.10";
/** Entra ID application of the AKS AAD server (the audience kubelogin asks tokens for). */
const AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

type Inputs = Record<string, any>;

function rgId(name: string): string {
    return `/subscriptions/${OFFLINE_SUBSCRIPTION}/resourceGroups/${name}`;
}

function guidFor(seed: string): string {
    let h = 0x811c9dc5;
    for (const c of seed) {
        h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    }
    const hex = h.toString(16).padStart(8, "0");
    return `${hex}-0000-4000-8000-${hex}0000`;
}

function managedCluster(name: string, inputs: Inputs): { id: string; state: Inputs } {
    const clusterName = inputs.resourceName ?? name;
    const addons = inputs.addonProfiles ? { ...inputs.addonProfiles } : undefined;
    if (addons?.azureKeyvaultSecretsProvider?.enabled) {
        addons.azureKeyvaultSecretsProvider = {
            ...addons.azureKeyvaultSecretsProvider,
            identity: { clientId: guidFor(`${clusterName}-kv-client`), objectId: guidFor(`${clusterName}-kv-object`) },
        };
    }
    return {
        id: `${rgId(inputs.resourceGroupName)}/providers/Microsoft.ContainerService/managedClusters/${clusterName}`,
        state: {
            ...inputs,
            name: clusterName,
            addonProfiles: addons,
            fqdn: `${inputs.dnsPrefix ?? clusterName}.hcp.${inputs.location}.azmk8s.io`,
            currentKubernetesVersion: inputs.kubernetesVersion,
            provisioningState: "Succeeded",
            identity: { ...inputs.identity, principalId: guidFor(`${clusterName}-principal`), tenantId: OFFLINE_TENANT },
            identityProfile: { kubeletidentity: { objectId: guidFor(`${clusterName}-kubelet`) } },
            oidcIssuerProfile: { ...inputs.oidcIssuerProfile, issuerURL: `https://${inputs.location}.oic.prod-aks.azure.com/${OFFLINE_TENANT}/${guidFor(clusterName)}/` },
        },
    };
}

/** Ids and computed outputs of the monitoring resources (Azure Monitor, Grafana, identities, roles). */
function monitoringResource(type: string, name: string, inputs: Inputs): { id: string; state: Inputs } | undefined {
    const arm = (provider: string, resourceName: string) => `${rgId(inputs.resourceGroupName)}/providers/${provider}/${resourceName}`;
    switch (type) {
        case "azure-native:monitor:AzureMonitorWorkspace": {
            const n = inputs.azureMonitorWorkspaceName ?? name;
            const hash = guidFor(n).slice(0, 8);
            return {
                id: arm("Microsoft.Monitor/accounts", n),
                state: { ...inputs, name: n, metrics: { internalId: `mac_${guidFor(n)}`, prometheusQueryEndpoint: `https://${n}-${hash}.${inputs.location}.prometheus.monitor.azure.com` } },
            };
        }
        case "azure-native:monitor:DataCollectionEndpoint": {
            const n = inputs.dataCollectionEndpointName ?? name;
            return { id: arm("Microsoft.Insights/dataCollectionEndpoints", n), state: { ...inputs, name: n, immutableId: `dce-${guidFor(n).replace(/-/g, "")}` } };
        }
        case "azure-native:monitor:DataCollectionRule": {
            const n = inputs.dataCollectionRuleName ?? name;
            return { id: arm("Microsoft.Insights/dataCollectionRules", n), state: { ...inputs, name: n, immutableId: `dcr-${guidFor(n).replace(/-/g, "")}` } };
        }
        case "azure-native:monitor:DataCollectionRuleAssociation": {
            const n = inputs.associationName ?? name;
            return { id: `${inputs.resourceUri}/providers/Microsoft.Insights/dataCollectionRuleAssociations/${n}`, state: { ...inputs, name: n } };
        }
        case "azure-native:alertsmanagement:PrometheusRuleGroup": {
            const n = inputs.ruleGroupName ?? name;
            return { id: arm("Microsoft.AlertsManagement/prometheusRuleGroups", n), state: { ...inputs, name: n } };
        }
        case "azure-native:dashboard:Grafana": {
            const n = inputs.workspaceName ?? name;
            return {
                id: arm("Microsoft.Dashboard/grafana", n),
                state: {
                    ...inputs,
                    name: n,
                    identity: { ...inputs.identity, principalId: guidFor(`${n}-principal`), tenantId: OFFLINE_TENANT },
                    properties: { ...inputs.properties, endpoint: `https://${n}-${guidFor(n).slice(0, 8)}.weu.grafana.azure.com`, provisioningState: "Succeeded" },
                },
            };
        }
        case "azure-native:managedidentity:UserAssignedIdentity": {
            const n = inputs.resourceName ?? name;
            return {
                id: arm("Microsoft.ManagedIdentity/userAssignedIdentities", n),
                state: { ...inputs, name: n, clientId: guidFor(`${n}-client`), principalId: guidFor(`${n}-principal`), tenantId: OFFLINE_TENANT },
            };
        }
        case "azure-native:managedidentity:FederatedIdentityCredential": {
            const n = inputs.federatedIdentityCredentialResourceName ?? name;
            return { id: arm(`Microsoft.ManagedIdentity/userAssignedIdentities/${inputs.resourceName}/federatedIdentityCredentials`, n), state: { ...inputs, name: n } };
        }
        case "azure-native:authorization:RoleAssignment": {
            const n = guidFor(`${inputs.scope}|${inputs.principalId}|${inputs.roleDefinitionId}`);
            return { id: `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${n}`, state: { ...inputs, name: n } };
        }
        default:
            return undefined;
    }
}

/** The kubeconfig AKS would return: a client certificate, or an exec (kubelogin) user for AAD. */
export function offlineKubeconfig(clusterName: string, aad: boolean): string {
    const server = `https://${clusterName}.hcp.offline.azmk8s.io:443`;
    const user = aad
        ? {
            exec: {
                apiVersion: "client.authentication.k8s.io/v1beta1",
                command: "kubelogin",
                args: ["get-token", "--login", "devicecode", "--server-id", AKS_AAD_SERVER_ID, "--tenant-id", OFFLINE_TENANT, "--environment", "AzurePublicCloud"],
                interactiveMode: "IfAvailable",
                provideClusterInfo: false,
            },
        }
        : { "client-certificate-data": "T0ZGTElORQ==", "client-key-data": "T0ZGTElORQ==", token: "offline" };
    return stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { server, "certificate-authority-data": "T0ZGTElORQ==" } }],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: `clusterUser_${clusterName}` } }],
        "current-context": clusterName,
        users: [{ name: `clusterUser_${clusterName}`, user }],
    });
}

export const offlineMocks: pulumi.runtime.Mocks = {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Inputs } {
        const inputs = args.inputs as Inputs;
        if (args.type === "azure-native:resources:ResourceGroup") {
            const name = inputs.resourceGroupName ?? args.name;
            return { id: rgId(name), state: { ...inputs, name } };
        }
        if (args.type === "azure-native:containerservice:ManagedCluster") {
            return managedCluster(args.name, inputs);
        }
        const monitoring = monitoringResource(args.type, args.name, inputs);
        if (monitoring) {
            return monitoring;
        }
        if (args.type.startsWith("random:")) {
            // Stable stand-in values so offline output is reproducible; real ones come from the provider.
            return { id: `${args.name}-id`, state: { ...inputs, result: `offline-${args.name}` } };
        }
        if (args.type === "kubernetes:core/v1:Service" && args.id) {
            // A read of the add-on's ingress gateway Service, with its load balancer address.
            return { id: args.id, state: { ...inputs, status: { loadBalancer: { ingress: [{ ip: OFFLINE_INGRESS_IP }] } } } };
        }
        if (args.type.startsWith("kubernetes:")) {
            const md = inputs.metadata ?? {};
            const name = md.name ?? args.name;
            return { id: md.namespace ? `${md.namespace}/${name}` : name, state: { ...inputs } };
        }
        return { id: `${args.name}-id`, state: { ...inputs } };
    },
    call(args: pulumi.runtime.MockCallArgs): Inputs {
        const inputs = args.inputs as Inputs;
        switch (args.token) {
            case "azure-native:containerservice:listManagedClusterUserCredentials": {
                const kubeconfig = offlineKubeconfig(inputs.resourceName, inputs.format === "exec");
                return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(kubeconfig).toString("base64") }] };
            }
            case "azure-native:containerservice:getManagedCluster": {
                // An existing AKS cluster (cluster.existing.aks). Offline there is none to ask: it runs every
                // supported revision and both gateways, with the Key Vault add-on, so the stack's config decides.
                const name = inputs.resourceName;
                return {
                    id: `${rgId(inputs.resourceGroupName)}/providers/Microsoft.ContainerService/managedClusters/${name}`,
                    name,
                    location: "westeurope",
                    oidcIssuerProfile: { enabled: true, issuerURL: `https://westeurope.oic.prod-aks.azure.com/${OFFLINE_TENANT}/${guidFor(name)}/` },
                    addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, identity: { clientId: guidFor(`${name}-kv-client`), objectId: guidFor(`${name}-kv-object`) } } },
                    serviceMeshProfile: {
                        mode: "Istio",
                        istio: { revisions: SUPPORTED_REVISIONS.map((r) => r.revision), components: { ingressGateways: [{ mode: "External", enabled: true }, { mode: "Internal", enabled: true }] } },
                    },
                };
            }
            case "azure-native:authorization:getClientConfig":
                return { clientId: guidFor("client"), objectId: guidFor("object"), subscriptionId: OFFLINE_SUBSCRIPTION, tenantId: OFFLINE_TENANT };
            default:
                throw new Error(`offline mock has no answer for invoke ${args.token}`);
        }
    },
};
