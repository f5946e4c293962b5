import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, PROJECT, refusePlaceholders } from "./config";
import { CATALOG } from "./components/apps/catalog";
import { AksCluster, MeshCluster } from "./components/cluster";
import { ExistingCluster } from "./components/existing-cluster";
import { MeshApp } from "./components/app";
import { Ingress } from "./components/ingress";
import { Kiali } from "./components/kiali";
import { MeshBaseline } from "./components/mesh";
import { Observability } from "./components/observability";
import { MeshTelemetry } from "./components/telemetry";
import { AppSecurityPolicy } from "./components/security";
import { egressHost } from "./components/authz";
import { AppTrafficPolicy } from "./components/traffic";
import { INGRESS_NAMESPACE } from "./policy-pack/lib/aks";

const config = loadStackConfig(CATALOG);
// Stop a real preview or up that still carries the repository's example values, before anything is registered.
refusePlaceholders(config);
const observability = config.observability;
const tags = { project: PROJECT, stack: config.stack, "managed-by": "pulumi" };
// Config requires a location unless the cluster is a kubeconfig, where nothing Azure is created.
const location = config.location ?? "";
const existing = config.cluster.existing;

const cluster: MeshCluster = existing ? new ExistingCluster("cluster", {
    aks: existing.aks,
    kubeconfig: existing.kubeconfig,
    revisions: config.mesh.revisions,
    ingressGateways: config.mesh.ingressGateways,
}) : new AksCluster("aks", {
    location,
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
    enableKeyVaultSecretsProvider: config.ingress.tls !== undefined,
    monitoringMetrics: observability.enabled,
    protect: config.cluster.protect,
    tags,
});
const kubernetes = { providers: { kubernetes: cluster.provider } };

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
const kiali = monitoring && azure && observability.kiali.enabled
    ? new Kiali("kiali", {
        revision: config.mesh.revisions[config.mesh.revisions.length - 1],
        outboundTrafficPolicy: config.mesh.outboundTrafficPolicy,
        chartVersion: observability.kiali.chartVersion,
        auth: observability.kiali.auth,
        queryProxyImage: observability.kiali.queryProxyImage,
        highAvailability: config.workloads.highAvailability,
        workspaceId: monitoring.workspaceId,
        queryEndpoint: monitoring.queryEndpoint,
        oidcIssuerUrl: azure.oidcIssuerUrl,
        clusterName: config.cluster.name,
        location,
        resourceGroupName: azure.resourceGroupName,
        tags,
    }, kubernetes)
    : undefined;

// The external gateway when enabled, else the internal one; apps get no ingress without either.
const gateway = cluster.ingressGateways[0];

const apps = config.apps.map((app) => new MeshApp(app.spec.name, {
    spec: app.spec,
    revision: app.revision,
    highAvailability: config.workloads.highAvailability,
    zoneSpread: config.cluster.systemPool.zones.length > 1,
    // Values from the stack's encrypted config: secret in the state and in every output that carries them.
    secretValues: Object.fromEntries(Object.entries(config.secrets.values[app.spec.name] ?? {}).map(([secret, keys]) =>
        [secret, Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, pulumi.secret(v)]))])),
}, kubernetes));

config.apps.forEach((app, i) => {
    const namespace = apps[i].namespace;
    new AppTrafficPolicy(app.spec.name, {
        spec: app.spec,
        namespace,
        traffic: app.traffic,
        resilience: config.mesh.resilience,
        faultInjection: config.mesh.faultInjection,
    }, kubernetes);
    new AppSecurityPolicy(app.spec.name, {
        spec: app.spec,
        namespace,
        mtlsExceptions: config.mesh.mtlsExceptions,
        gatewayPrincipal: gateway?.principal,
        outboundTrafficPolicy: config.mesh.outboundTrafficPolicy,
        // Proxies export spans to the collector, so it must be in every namespace's egress scope.
        extraEgressHosts: tracingCollector ? [egressHost(tracingCollector.service)] : [],
    }, kubernetes);
});

const servedApps = config.apps.flatMap((app, i) => {
    const host = config.ingress.hosts[app.spec.name];
    return host ? [{ spec: app.spec, namespace: apps[i].namespace, host, traffic: app.traffic }] : [];
});
const ingress = gateway && servedApps.length > 0
    ? new Ingress("ingress", {
        gateway,
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
const outputs: Record<string, unknown> = { resourceGroupName, clusterName, clusterId, revisions, ingressGateways, kubeconfig, namespaces, ingressAddress, appUrls, grafanaUrl, prometheusQueryEndpoint, kialiPortForward };
export = Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
