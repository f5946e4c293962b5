import * as pulumi from "@pulumi/pulumi";
import { EGRESS_POOL, loadStackConfig, podSecurityLevel, PROJECT, refusePlaceholders, stackStamp } from "./config";
import { CATALOG } from "./components/apps/catalog";
import { AksCluster, MeshCluster } from "./components/cluster";
import { ExistingCluster } from "./components/existing-cluster";
import { StaticEgressGateway } from "./components/egress-gateway";
import { MeshApp, podSecurityLabels } from "./components/app";
import { Ingress } from "./components/ingress";
import { Kiali } from "./components/kiali";
import { MeshBaseline } from "./components/mesh";
import { Observability } from "./components/observability";
import { MeshTelemetry } from "./components/telemetry";
import { AppSecurityPolicy } from "./components/security";
import { egressHost } from "./components/authz";
import { AppTrafficPolicy } from "./components/traffic";
import { AppEgress } from "./components/egress";
import { INGRESS_NAMESPACE, POD_SECURITY_LEVELS, strictestPodSecurity } from "./policy-pack/lib/aks";

const config = loadStackConfig(CATALOG);
// Stop a real preview or up that still carries the repository's example values, before anything is registered.
refusePlaceholders(config);
for (const warning of config.warnings) {
    pulumi.log.warn(warning);
}
const observability = config.observability;
const tags = { project: PROJECT, stack: config.stack, "managed-by": "pulumi" };
// Config requires a location unless the cluster is a kubeconfig, where nothing Azure is created.
const location = config.location ?? "";
const existing = config.cluster.existing;
const egress = config.mesh.egressGateway && {
    ...config.mesh.egressGateway,
    gatewayConfigurationName: config.mesh.egressGateway.gatewayConfigurationName ?? `${config.mesh.egressGateway.name}-static`,
};

const cluster: MeshCluster = existing ? new ExistingCluster("cluster", {
    aks: existing.aks,
    kubeconfig: existing.kubeconfig,
    revisions: config.mesh.revisions,
    ingressGateways: config.mesh.ingressGateways,
}) : new AksCluster("aks", {
    location,
    resourceGroupName: config.cluster.resourceGroupName,
    clusterName: config.cluster.name,
    // Config requires the version unless the cluster exists (this branch creates it).
    kubernetesVersion: config.cluster.kubernetesVersion ?? "",
    tier: config.cluster.tier,
    systemPool: config.cluster.systemPool,
    userPools: config.cluster.userPools,
    revisions: config.mesh.revisions,
    ingressGateways: config.mesh.ingressGateways,
    egressGateway: egress && { ...egress, poolName: EGRESS_POOL },
    certificateAuthority: config.mesh.certificateAuthority,
    networkPolicy: config.cluster.networkPolicy,
    aad: config.cluster.aad,
    disableLocalAccounts: config.cluster.disableLocalAccounts,
    authorizedIpRanges: config.cluster.authorizedIpRanges,
    upgradeChannel: config.cluster.upgradeChannel,
    nodeOsUpgradeChannel: config.cluster.nodeOsUpgradeChannel,
    maintenance: config.cluster.maintenance,
    enableKeyVaultSecretsProvider: config.ingress.tls !== undefined,
    monitoringMetrics: observability.enabled,
    protect: config.cluster.protect,
    deleteLock: config.cluster.deleteLock,
    tags,
});
const aks = cluster instanceof AksCluster ? cluster : undefined;
const kubernetes = { providers: { kubernetes: cluster.provider } };
// Every Namespace the stack creates names the stack and its pack settings, so the pack can refuse a config made for other settings.
const namespaceAnnotations = stackStamp(config);

if (aks && egress) {
    new StaticEgressGateway("egress", {
        namespace: egress.namespace,
        configurationName: egress.gatewayConfigurationName,
        poolName: EGRESS_POOL,
        excludeCidrs: egress.excludeCidrs,
        pool: aks.egressPool,
    }, kubernetes);
}

const tracingCollector = observability.enabled ? observability.tracing?.collector : undefined;
new MeshBaseline("mesh", {
    // The next revision's MeshConfig exists before its control plane does, as AKS asks.
    revisions: [...config.mesh.revisions, ...(config.mesh.nextRevision ? [config.mesh.nextRevision] : [])],
    outboundTrafficPolicy: config.mesh.outboundTrafficPolicy,
    // With observability on, the Telemetry API writes the access logs; MeshConfig stays silent so each request is logged once.
    accessLogs: config.mesh.accessLogs && !observability.enabled,
    tracingCollector,
}, kubernetes);

// The cluster's Azure ids; absent only for a kubeconfig cluster, where config refuses observability.
const azure = cluster.clusterId && cluster.resourceGroupName && cluster.oidcIssuerUrl
    ? { clusterId: cluster.clusterId, resourceGroupName: cluster.resourceGroupName, oidcIssuerUrl: cluster.oidcIssuerUrl }
    : undefined;
const monitoring = observability.enabled && azure
    ? new Observability("observability", {
        location,
        resourceGroupName: azure.resourceGroupName,
        clusterName: config.cluster.name,
        clusterId: azure.clusterId,
        grafana: observability.grafana,
        alerts: observability.alerts,
        tags,
    })
    : undefined;
if (monitoring) {
    new MeshTelemetry("telemetry", {
        accessLogs: config.mesh.accessLogs,
        tracingSamplingPercent: observability.tracing?.samplingPercent,
    }, kubernetes);
}
// Enforce the configured level; warn and audit at the strictest the sidecars allow, so pods that would fail it show up.
const enforce = podSecurityLevel(config.mesh);
const ceiling = strictestPodSecurity(config.mesh.proxyRedirection);
const podSecurity = {
    enforce,
    warn: POD_SECURITY_LEVELS.indexOf(ceiling) > POD_SECURITY_LEVELS.indexOf(enforce) ? ceiling : enforce,
    // An existing AKS cluster may leave its version out (it is read from the cluster): pin to the newest the API server knows.
    version: config.cluster.kubernetesVersion ? `v${config.cluster.kubernetesVersion.split(".").slice(0, 2).join(".")}` : "latest",
};
const kiali = monitoring && azure && observability.kiali.enabled
    ? new Kiali("kiali", {
        revision: config.mesh.revisions[config.mesh.revisions.length - 1],
        outboundTrafficPolicy: config.mesh.outboundTrafficPolicy,
        chartVersion: observability.kiali.chartVersion,
        auth: observability.kiali.auth,
        queryProxyImage: observability.kiali.queryProxyImage,
        namespaceAnnotations,
        highAvailability: config.workloads.highAvailability,
        workspaceId: monitoring.workspaceId,
        queryEndpoint: monitoring.queryEndpoint,
        oidcIssuerUrl: azure.oidcIssuerUrl,
        clusterName: config.cluster.name,
        location,
        resourceGroupName: azure.resourceGroupName,
        tags,
        podSecurityLabels: podSecurityLabels(podSecurity),
    }, kubernetes)
    : undefined;

// The enabled ingress gateways, external first; apps get no ingress without either.
const gatewayOf = (mode: string) => cluster.ingressGateways.find((g) => g.mode === mode);

const apps = config.apps.map((app) => new MeshApp(app.spec.name, {
    spec: app.spec,
    revision: app.revision,
    highAvailability: config.workloads.highAvailability,
    // Apps run on the user pools when there are any (the system pool is tainted), else on the system pool.
    zoneSpread: config.cluster.userPools.length > 0
        ? config.cluster.userPools.every((p) => p.zones.length > 1)
        : config.cluster.systemPool.zones.length > 1,
    podSecurity,
    namespaceAnnotations,
    // Values from the stack's encrypted config: secret in the state and in every output that carries them.
    secretValues: Object.fromEntries(Object.entries(config.secrets.values[app.spec.name] ?? {}).map(([secret, keys]) =>
        [secret, Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, pulumi.secret(v)]))])),
}, kubernetes));

const stackApps = config.apps.map((a) => a.spec);
config.apps.forEach((app, i) => {
    const namespace = apps[i].namespace;
    new AppTrafficPolicy(app.spec.name, {
        spec: app.spec,
        namespace,
        traffic: app.traffic,
        resilience: config.mesh.resilience,
        faultInjection: config.mesh.faultInjection,
        stackApps,
    }, kubernetes);
    new AppSecurityPolicy(app.spec.name, {
        spec: app.spec,
        namespace,
        mtlsExceptions: config.mesh.mtlsExceptions,
        gatewayPrincipals: (config.ingress.gateways[app.spec.name] ?? []).flatMap((m) => gatewayOf(m)?.principal ?? []),
        outboundTrafficPolicy: config.mesh.outboundTrafficPolicy,
        // Proxies export spans to the collector, so it must be in every namespace's egress scope.
        extraEgressHosts: tracingCollector ? [egressHost(tracingCollector.service)] : [],
        stackApps,
        // The add-on's egress gateway (mesh.egressGateway): apps route their external hosts through it.
        egressGateway: config.egressGateway,
    }, kubernetes);
    if ((app.spec.egress ?? []).length > 0) {
        new AppEgress(app.spec.name, { spec: app.spec, namespace, egressGateway: config.egressGateway }, kubernetes);
    }
});

const servedApps = config.apps.flatMap((app, i) => {
    const host = config.ingress.hosts[app.spec.name];
    return host ? [{ spec: app.spec, namespace: apps[i].namespace, host, traffic: app.traffic, gateways: config.ingress.gateways[app.spec.name] ?? [] }] : [];
});
const ingress = cluster.ingressGateways.length > 0 && servedApps.length > 0
    ? new Ingress("ingress", {
        gateways: cluster.ingressGateways,
        apps: servedApps,
        resilience: config.mesh.resilience,
        tls: config.ingress.tls && { ...config.ingress.tls, secretsProviderIdentity: cluster.keyVaultSecretsProviderIdentity },
    }, kubernetes)
    : undefined;

const resourceGroupName = cluster.resourceGroupName;
const clusterName = cluster.clusterName;
const clusterId = cluster.clusterId;
const revisions = cluster.revisions;
const ingressGateways = cluster.ingressGateways.map((g) => ({
    service: g.service,
    namespace: INGRESS_NAMESPACE,
    selector: g.selector,
}));
/** The add-on egress gateway apps route external hosts through: Service name, namespace, pod selector. */
const egressGateway = config.egressGateway;
const kubeconfig = pulumi.secret(cluster.kubeconfig);
const namespaces = apps.map((a) => a.namespace);
/** Address of the ingress gateway's load balancer; point the app hosts' DNS records at it. */
const ingressAddress = ingress?.address;
/** Where each app is served; an app on host "*" answers on the gateway's address. */
const appUrls = pulumi.output(ingressAddress).apply((address) => Object.fromEntries(servedApps.map((a) =>
    [a.spec.name, `${config.ingress.tls ? "https" : "http"}://${a.host === "*" ? address : a.host}/`])));
/** Azure Managed Grafana, with the workspace's managed Prometheus as a data source. */
const grafanaUrl = monitoring?.grafanaUrl;
/** PromQL endpoint of the Azure Monitor workspace (Entra ID auth). */
const prometheusQueryEndpoint = monitoring?.queryEndpoint;
/** Run this, then open http://localhost:20001/kiali. */
const kialiPortForward = kiali?.portForwardCommand;

/**
 * The stack outputs: an output a stack's mode or features do not have (clusterId on a kubeconfig cluster,
 * grafanaUrl without observability) is left out rather than exported undefined, which `pulumi up` warns about.
 */
const outputs: Record<string, unknown> = { resourceGroupName, clusterName, clusterId, revisions, ingressGateways, egressGateway, kubeconfig, namespaces, ingressAddress, appUrls, grafanaUrl, prometheusQueryEndpoint, kialiPortForward };
export = Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
