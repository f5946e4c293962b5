import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, PROJECT } from "./config";
import { AksCluster } from "./components/cluster";
import { MeshApp } from "./components/app";
import { INGRESS_NAMESPACE } from "./policy-pack/lib/aks";

const config = loadStackConfig();
const tags = { project: PROJECT, stack: config.stack, "managed-by": "pulumi" };

const cluster = new AksCluster("aks", {
    location: config.location,
    resourceGroupName: config.cluster.resourceGroupName,
    clusterName: config.cluster.name,
    kubernetesVersion: config.cluster.kubernetesVersion,
    tier: config.cluster.tier,
    systemPool: config.cluster.systemPool,
    revisions: config.mesh.revisions,
    ingressGateways: config.mesh.ingressGateways,
    networkPolicy: config.cluster.networkPolicy,
    aad: config.cluster.aad,
    disableLocalAccounts: config.cluster.disableLocalAccounts,
    authorizedIpRanges: config.cluster.authorizedIpRanges,
    upgradeChannel: config.cluster.upgradeChannel,
    nodeOsUpgradeChannel: config.cluster.nodeOsUpgradeChannel,
    protect: config.cluster.protect,
    tags,
});

const apps = config.apps.map((app) => new MeshApp(app.spec.name, {
    spec: app.spec,
    revision: app.revision,
    highAvailability: config.workloads.highAvailability,
    zoneSpread: config.cluster.systemPool.zones.length > 1,
}, { providers: { kubernetes: cluster.provider } }));

export const resourceGroupName = cluster.resourceGroupName;
export const clusterName = cluster.clusterName;
export const clusterId = cluster.clusterId;
export const revisions = cluster.revisions;
export const ingressGateways = cluster.ingressGateways.map((g) => ({
    service: g.service,
    namespace: INGRESS_NAMESPACE,
    selector: g.selector,
}));
export const kubeconfig = pulumi.secret(cluster.kubeconfig);
export const namespaces = apps.map((a) => a.namespace);
