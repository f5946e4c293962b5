import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as k8s from "@pulumi/kubernetes";
import { KIALI_NAMESPACE, PROGRAM_NAMESPACES, ROOT_NAMESPACE } from "../policy-pack/lib/aks";
import { REVISION_ANNOTATION } from "./app";
import { peerAuthentications, principal, sidecarSpec } from "./authz";
import { istioObject } from "./istio";
import { azureName } from "./observability";
import { roleDefinitionId, ROLES } from "./roles";

export { KIALI_NAMESPACE };
/** Kiali's Service and ServiceAccount (the chart's `deployment.instance_name`). */
const KIALI = "kiali";
const KIALI_PORT = 20001;
const PROXY = "prometheus-query-proxy";
const PROXY_PORT = 8082;
/** Kiali's Prometheus: the query proxy's Service, port 80. */
export const KIALI_PROMETHEUS_URL = `http://${PROXY}.${KIALI_NAMESPACE}.svc.cluster.local`;
export const KIALI_CHART = { chart: "kiali-server", repo: "https://kiali.org/helm-charts" } as const;
/** Where workload identity exchanges the service account token for an Entra ID token. */
const ENTRA_LOGIN_HOST = "login.microsoftonline.com";

/** Arguments of {@link Kiali}. */
export interface KialiArgs {
    /** Istio revision the namespace is labelled with. */
    readonly revision: string;
    /** Outbound policy of the namespace's Sidecar (the stack's mesh-wide one). */
    readonly outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY";
    /** Version of the kiali-server chart. */
    readonly chartVersion: string;
    /** Kiali's login strategy. */
    readonly auth: "token" | "anonymous";
    /** Image of the Entra ID auth proxy. */
    readonly queryProxyImage: string;
    /** Annotations of the kiali Namespace (the stack's stamp for the policy pack). */
    readonly namespaceAnnotations?: Readonly<Record<string, string>>;
    /** Two proxy replicas and a PodDisruptionBudget. */
    readonly highAvailability: boolean;
    /** Azure Monitor workspace the proxy's identity may read. */
    readonly workspaceId: pulumi.Input<string>;
    /** The workspace's Prometheus query endpoint (https URL). */
    readonly queryEndpoint: pulumi.Input<string>;
    /** OIDC issuer of the cluster, trusted by the proxy identity's federated credential. */
    readonly oidcIssuerUrl: pulumi.Input<string>;
    /** The cluster's name, used in the names of the Azure resources created beside it. */
    readonly clusterName: string;
    /** Azure region of the resources. */
    readonly location: pulumi.Input<string>;
    /** Resource group the resources are created in. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Tags for the Azure resources. */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Pod Security Admission labels of the namespace, as the app namespaces have them. */
    readonly podSecurityLabels?: Readonly<Record<string, string>>;
}

/**
 * Kiali from its Helm chart, reading the mesh's metrics from the Azure Monitor workspace.
 *
 * The workspace answers PromQL only with an Entra ID token, which Kiali cannot get, so Kiali talks
 * to an in-namespace Entra ID auth proxy that adds one: the proxy's pods use workload identity (a
 * user-assigned identity with a federated credential for their ServiceAccount, issued by the
 * cluster's OIDC issuer) and the identity has Monitoring Data Reader on the workspace.
 *
 * The namespace is in the mesh like an app's: STRICT mTLS, allow-nothing plus one ALLOW (Kiali to
 * the proxy), a Sidecar limited to the namespace, the control plane and the API server, and
 * ServiceEntries for the two Azure hosts the proxy calls. Kiali has a ClusterIP Service only:
 * it is reached with `kubectl port-forward`.
 */
export class Kiali extends pulumi.ComponentResource {
    /** The command that makes Kiali answer on http://localhost:20001/kiali. */
    public readonly portForwardCommand: string;

    constructor(name: string, args: KialiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:kiali:Kiali", name, {}, opts);

        const identity = new managedidentity.UserAssignedIdentity(`${name}-query-identity`, {
            resourceName: azureName("id-kiali-query", args.clusterName, 128),
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            tags: args.tags,
        }, { parent: this });
        const federation = new managedidentity.FederatedIdentityCredential(`${name}-query-federation`, {
            resourceGroupName: args.resourceGroupName,
            resourceName: identity.name,
            federatedIdentityCredentialResourceName: PROXY,
            issuer: args.oidcIssuerUrl,
            subject: `system:serviceaccount:${KIALI_NAMESPACE}:${PROXY}`,
            audiences: ["api://AzureADTokenExchange"],
        }, { parent: this });
        const reader = new authorization.RoleAssignment(`${name}-query-reader`, {
            scope: args.workspaceId,
            principalId: identity.principalId,
            principalType: "ServicePrincipal",
            roleDefinitionId: roleDefinitionId(args.workspaceId, ROLES.monitoringDataReader),
        }, { parent: this });

        const ns = new k8s.core.v1.Namespace(`${name}-ns`, {
            metadata: { name: KIALI_NAMESPACE, labels: { "istio.io/rev": args.revision, "app.kubernetes.io/part-of": PROGRAM_NAMESPACES[KIALI_NAMESPACE], ...args.podSecurityLabels }, annotations: args.namespaceAnnotations },
        }, { parent: this });
        const namespace = ns.metadata.name;

        const [strict] = peerAuthentications(KIALI_NAMESPACE, []);
        const mesh = [
            istioObject(`${name}-pa-default`, "PeerAuthentication", { name: strict.name, namespace }, strict.spec, { parent: this }),
            istioObject(`${name}-allow-nothing`, "AuthorizationPolicy", { name: "allow-nothing", namespace }, {}, { parent: this }),
            istioObject(`${name}-allow-${PROXY}`, "AuthorizationPolicy", { name: `allow-${PROXY}`, namespace }, {
                selector: { matchLabels: { app: PROXY } },
                action: "ALLOW",
                rules: [{ from: [{ source: { principals: [principal(KIALI_NAMESPACE, KIALI)] } }], to: [{ operation: { ports: [String(PROXY_PORT)] } }] }],
            }, { parent: this }),
            // Kiali reads the cluster through the API server, which is not in the namespace.
            istioObject(`${name}-sidecar`, "Sidecar", { name: "default", namespace },
                sidecarSpec(args.outboundTrafficPolicy, ["default/kubernetes.default.svc.cluster.local"]), { parent: this }),
            // The proxy originates TLS itself, so the sidecar passes it through by SNI.
            istioObject(`${name}-azure-egress`, "ServiceEntry", { name: "azure-monitor-query", namespace },
                pulumi.output(args.queryEndpoint).apply((endpoint) => ({
                    hosts: [new URL(endpoint).hostname, ENTRA_LOGIN_HOST],
                    exportTo: ["."],
                    location: "MESH_EXTERNAL" as const,
                    resolution: "DNS" as const,
                    ports: [{ number: 443, name: "tls", protocol: "TLS" }],
                })), { parent: this }),
        ];

        const labels = { app: PROXY };
        const sa = new k8s.core.v1.ServiceAccount(`${name}-${PROXY}-sa`, {
            metadata: { name: PROXY, namespace, annotations: { "azure.workload.identity/client-id": identity.clientId } },
        }, { parent: this });
        const proxy = new k8s.apps.v1.Deployment(`${name}-${PROXY}`, {
            metadata: { name: PROXY, namespace, labels },
            spec: {
                replicas: args.highAvailability ? 2 : 1,
                selector: { matchLabels: labels },
                template: {
                    // The workload identity webhook mounts the federated token into pods with this label;
                    // app and version are the labels Istio keys its telemetry on.
                    metadata: { labels: { ...labels, version: "v1", "azure.workload.identity/use": "true" }, annotations: { [REVISION_ANNOTATION]: args.revision } },
                    spec: {
                        serviceAccountName: sa.metadata.name,
                        securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [{
                            name: PROXY,
                            image: args.queryProxyImage,
                            ports: [{ name: "http", containerPort: PROXY_PORT }],
                            env: [
                                { name: "TARGET_HOST", value: args.queryEndpoint },
                                { name: "AUDIENCE", value: "https://prometheus.monitor.azure.com/.default" },
                                { name: "LISTENING_PORT", value: String(PROXY_PORT) },
                            ],
                            readinessProbe: { httpGet: { path: "/ready", port: PROXY_PORT }, periodSeconds: 10 },
                            livenessProbe: { httpGet: { path: "/health", port: PROXY_PORT }, periodSeconds: 20 },
                            resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                        }],
                    },
                },
            },
        // Started before its identity is trusted and authorised, the proxy's first token request would fail.
        }, { parent: this, dependsOn: [...mesh, federation, reader] });
        const service = new k8s.core.v1.Service(`${name}-${PROXY}-svc`, {
            metadata: { name: PROXY, namespace, labels },
            spec: { type: "ClusterIP", selector: labels, ports: [{ name: "http", port: 80, targetPort: PROXY_PORT }] },
        }, { parent: this });
        if (args.highAvailability) {
            new k8s.policy.v1.PodDisruptionBudget(`${name}-${PROXY}-pdb`, {
                metadata: { name: PROXY, namespace },
                spec: { minAvailable: 1, selector: { matchLabels: labels } },
            }, { parent: this });
        }

        new k8s.helm.v3.Release(`${name}-server`, {
            name: KIALI,
            namespace,
            chart: KIALI_CHART.chart,
            version: args.chartVersion,
            repositoryOpts: { repo: KIALI_CHART.repo },
            values: {
                auth: { strategy: args.auth },
                istio_namespace: ROOT_NAMESPACE,
                deployment: {
                    instance_name: KIALI,
                    service_type: "ClusterIP",
                    ingress: { enabled: false },
                    view_only_mode: true,
                    // Like the apps' pods: a revision move changes the template, so the pod rolls onto the new proxy.
                    pod_annotations: { [REVISION_ANNOTATION]: args.revision },
                },
                external_services: {
                    istio: { root_namespace: ROOT_NAMESPACE },
                    prometheus: { url: KIALI_PROMETHEUS_URL },
                    // Managed Grafana needs Entra ID sign-in, which Kiali cannot do; no tracing backend is queried.
                    grafana: { enabled: false },
                    tracing: { enabled: false },
                },
            },
        }, { parent: this, dependsOn: [...mesh, proxy, service] });

        this.portForwardCommand = `kubectl -n ${KIALI_NAMESPACE} port-forward svc/${KIALI} ${KIALI_PORT}:${KIALI_PORT}`;
        this.registerOutputs({ portForwardCommand: this.portForwardCommand });
    }
}
