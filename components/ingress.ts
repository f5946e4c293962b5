import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as k8s from "@pulumi/kubernetes";
import { GatewayMode, INGRESS_NAMESPACE, IngressGatewayInfo } from "../policy-pack/lib/aks";
import type { AppSpec } from "./apps/spec";
import type { AppTraffic } from "./apps/traffic";
import { istioObject } from "./istio";
import { roleDefinitionId, ROLES } from "./roles";
import { gatewaySpec, ingressVirtualService, ResilienceConfig } from "./routing";

/** Name of the Gateway in aks-istio-ingress and of the synced TLS secret beside it. */
const GATEWAY_NAME = "mesh-ingress";
const TLS_SECRET = "mesh-ingress-tls";

/** An app served through the ingress gateway. */
export interface IngressApp {
    /** The app as data: its services, call graph and ingress routes. */
    readonly spec: AppSpec;
    /** The app's namespace, as its Namespace resource outputs it. */
    readonly namespace: pulumi.Input<string>;
    /** Host the app is served on (unique across apps). */
    readonly host: string;
    /** The app's traffic settings (spec defaults merged with stack overrides). */
    readonly traffic: AppTraffic;
    /** The ingress gateways serving the app (each must be among `IngressArgs.gateways`). */
    readonly gateways: readonly GatewayMode[];
}

/** Arguments of {@link Ingress}. */
export interface IngressArgs {
    /**
     * The add-on ingress gateways the cluster enables (selector, Service name), the primary first: its
     * Gateway is `mesh-ingress` and its load balancer the `address`; another one's is `mesh-ingress-<mode>`.
     */
    readonly gateways: readonly IngressGatewayInfo[];
    /** The apps served through the gateway, one host each. */
    readonly apps: readonly IngressApp[];
    /** Timeouts and retries of the ingress routes. */
    readonly resilience: ResilienceConfig;
    /** HTTPS with a Key Vault certificate; omit for plain HTTP on port 80. */
    readonly tls?: {
        /** Resource id of the Key Vault holding the certificate. */
        readonly keyVaultId: string;
        /** The vault's name (last segment of its id), which the CSI driver takes. */
        readonly keyVaultName: string;
        /** Name of the Key Vault certificate, read as a secret (key and chain in PEM). */
        readonly certificateName: string;
        /** Identity of the cluster's Key Vault Secrets Store CSI add-on. */
        readonly secretsProviderIdentity: pulumi.Input<{ clientId?: string; objectId?: string } | undefined>;
    };
}

/**
 * North-south traffic: a Gateway on each add-on ingress gateway that serves an app (external,
 * internal or both, per app), a VirtualService per app on its host bound to its gateways, and, for HTTPS, the certificate synced from Key Vault into a TLS secret in
 * aks-istio-ingress by the Secrets Store CSI driver. Exposes the gateway's load balancer address.
 */
export class Ingress extends pulumi.ComponentResource {
    /** Public (or internal) IP of the gateway's load balancer; empty until Azure assigns it. */
    public readonly address: pulumi.Output<string>;

    constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:ingress:Ingress", name, {}, opts);

        const credentialName = args.tls && this.syncCertificate(name, args.tls);
        const primary = args.gateways[0];
        if (!primary) {
            throw new pulumi.ResourceError("ingress needs at least one enabled ingress gateway", this);
        }
        // The primary gateway keeps the name (and resource name) a single-gateway stack always had.
        const gatewayName = (g: IngressGatewayInfo) => (g === primary ? GATEWAY_NAME : `${GATEWAY_NAME}-${g.mode.toLowerCase()}`);
        for (const g of args.gateways) {
            const served = args.apps.filter((a) => a.gateways.includes(g.mode));
            if (served.length > 0) {
                istioObject(g === primary ? `${name}-gateway` : `${name}-gateway-${g.mode.toLowerCase()}`, "Gateway", { name: gatewayName(g), namespace: INGRESS_NAMESPACE },
                    gatewaySpec(g.selector, served.map((a) => ({ namespace: a.spec.namespace, host: a.host })), credentialName), { parent: this });
            }
        }
        for (const app of args.apps) {
            const refs = args.gateways.filter((g) => app.gateways.includes(g.mode)).map((g) => `${INGRESS_NAMESPACE}/${gatewayName(g)}`);
            istioObject(`${name}-${app.spec.name}`, "VirtualService", { name: `${app.spec.name}-ingress`, namespace: app.namespace },
                ingressVirtualService(app.spec, app.host, refs, app.traffic, args.resilience), { parent: this });
        }

        // The add-on owns this Service and creates it in its own reconcile, which may finish after
        // the cluster reports success; a read (`.get`) of a missing object fails at once and never
        // retries. Nothing here can derive the load balancer's address, so the read waits for a Job
        // that completes once the Service's DNS name resolves (the provider awaits Job success).
        const waitForService = this.serviceExists(name, primary.service);
        const service = k8s.core.v1.Service.get(`${name}-gateway-service`, `${INGRESS_NAMESPACE}/${primary.service}`, { parent: this, dependsOn: [waitForService] });
        this.address = service.status.loadBalancer.ingress.apply((i) => i?.[0]?.ip ?? i?.[0]?.hostname ?? "");

        this.registerOutputs({ address: this.address });
    }

    /**
     * A Job in the gateway's namespace that succeeds once the Service's cluster DNS name resolves,
     * i.e. once the Service exists. It keeps no credentials and no API access. The first pod may
     * start before the Service exists, so it retries; on later updates the completed Job is left as
     * it is and the read runs at once.
     */
    private serviceExists(name: string, serviceName: string): k8s.batch.v1.Job {
        const labels = { app: "mesh-ingress-gateway-wait" };
        const fqdn = `${serviceName}.${INGRESS_NAMESPACE}.svc.cluster.local`;
        return new k8s.batch.v1.Job(`${name}-gateway-wait`, {
            metadata: { name: "mesh-ingress-gateway-wait", namespace: INGRESS_NAMESPACE, labels },
            spec: {
                backoffLimit: 3,
                activeDeadlineSeconds: 1200,
                template: {
                    metadata: { labels },
                    spec: {
                        restartPolicy: "Never",
                        nodeSelector: { "kubernetes.io/os": "linux" },
                        automountServiceAccountToken: false,
                        securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [{
                            name: "wait",
                            image: "busybox:1.37.0",
                            command: ["sh", "-c", `until nslookup ${fqdn} >/dev/null 2>&1; do echo waiting for ${fqdn}; sleep 5; done`],
                            resources: { requests: { cpu: "1m", memory: "8Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                        }],
                    },
                },
            },
        }, { parent: this, customTimeouts: { create: "20m" } });
    }

    /**
     * The AKS-documented path: the CSI driver add-on's identity may read the vault's secrets, a
     * SecretProviderClass mirrors the certificate into a kubernetes.io/tls secret, and a pod that
     * mounts it keeps the sync running (the driver syncs only while a pod mounts the volume).
     */
    private syncCertificate(name: string, tls: NonNullable<IngressArgs["tls"]>): string {
        const identity = pulumi.output(tls.secretsProviderIdentity).apply((id) => {
            if (!id?.clientId || !id.objectId) {
                throw new pulumi.ResourceError("ingress TLS needs the cluster's azureKeyvaultSecretsProvider add-on identity", this);
            }
            return { clientId: id.clientId, objectId: id.objectId };
        });
        const access = new authorization.RoleAssignment(`${name}-kv-secrets-user`, {
            scope: tls.keyVaultId,
            principalId: identity.objectId,
            principalType: "ServicePrincipal",
            roleDefinitionId: roleDefinitionId(tls.keyVaultId, ROLES.keyVaultSecretsUser),
        }, { parent: this });

        const client = authorization.getClientConfigOutput({ parent: this });
        const spc = new k8s.apiextensions.CustomResource(`${name}-tls-spc`, {
            apiVersion: "secrets-store.csi.x-k8s.io/v1",
            kind: "SecretProviderClass",
            metadata: { name: TLS_SECRET, namespace: INGRESS_NAMESPACE },
            spec: {
                provider: "azure",
                secretObjects: [{
                    secretName: TLS_SECRET,
                    type: "kubernetes.io/tls",
                    data: [{ objectName: tls.certificateName, key: "tls.key" }, { objectName: tls.certificateName, key: "tls.crt" }],
                }],
                parameters: {
                    useVMManagedIdentity: "true",
                    userAssignedIdentityID: identity.clientId,
                    keyvaultName: tls.keyVaultName,
                    tenantId: client.tenantId,
                    // Read as a secret, a Key Vault certificate holds the private key and the chain (PEM).
                    objects: `array:\n  - |\n    objectName: ${tls.certificateName}\n    objectType: secret\n`,
                },
            },
        }, { parent: this });

        const labels = { app: "mesh-ingress-tls-sync" };
        new k8s.apps.v1.Deployment(`${name}-tls-sync`, {
            metadata: { name: "mesh-ingress-tls-sync", namespace: INGRESS_NAMESPACE, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: labels },
                template: {
                    // app and version: the labels Istio keys its telemetry on (istioctl validate warns without them).
                    metadata: { labels: { ...labels, version: "v1" } },
                    spec: {
                        nodeSelector: { "kubernetes.io/os": "linux" },
                        automountServiceAccountToken: false,
                        securityContext: { runAsNonRoot: true, runAsUser: 65535, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [{
                            name: "pause",
                            image: "registry.k8s.io/pause:3.10",
                            resources: { requests: { cpu: "1m", memory: "8Mi" }, limits: { cpu: "10m", memory: "16Mi" } },
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                            volumeMounts: [{ name: "tls", mountPath: "/mnt/tls", readOnly: true }],
                        }],
                        volumes: [{
                            name: "tls",
                            csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: spc.metadata.name } },
                        }],
                    },
                },
            },
        }, { parent: this, dependsOn: [access] });
        return TLS_SECRET;
    }
}
