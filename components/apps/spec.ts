/**
 * An app as data: its namespace, its services and who calls whom. One generic component
 * (components/app.ts) turns a spec into workloads, and the mesh layer derives routing and
 * least-privilege authorization from the same call graph. These are the components' own types;
 * config/apps.ts validates user specs into values of the same shape.
 */

/** Istio protocol prefixes for Service port names (`<protocol>[-suffix]`). */
export const PROTOCOLS = ["http", "http2", "https", "grpc", "tcp", "tls", "mongo", "redis", "mysql"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface PortSpec {
    /** Suffix of the Service port name: `<protocol>-<name>`; omit for just `<protocol>`. */
    readonly name?: string;
    readonly port: number;
    /** Container port; defaults to `port`. */
    readonly targetPort?: number;
    readonly protocol: Protocol;
}

export interface ProbeSpec {
    /** HTTP GET on a path and container port; exclusive with `tcpPort`. */
    readonly httpGet?: { readonly path: string; readonly port: number };
    /** TCP connect to a container port. */
    readonly tcpPort?: number;
    readonly initialDelaySeconds?: number;
    readonly periodSeconds?: number;
    readonly failureThreshold?: number;
}

export interface ResourceSpec {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly cpu: string; readonly memory: string };
}

/** A value from a Secret of the app (see `AppSpec.secrets`). */
export interface SecretRef {
    readonly secret: string;
    readonly key: string;
}

/** A container that must finish before the service starts (runs after the native sidecar). */
export interface InitContainerSpec {
    readonly name: string;
    readonly image: string;
    readonly command: readonly string[];
    readonly resources: ResourceSpec;
}

export interface ServiceSpec {
    readonly name: string;
    /** Deployment (default) or StatefulSet for stateful backends. */
    readonly workload?: "Deployment" | "StatefulSet";
    /** Image with a pinned tag or digest. */
    readonly image: string;
    /** Versions run side by side (Deployment `<name>-<version>`, label `version`); default [v1]. */
    readonly versions?: readonly { readonly name: string; readonly image?: string }[];
    readonly ports: readonly PortSpec[];
    /** Replicas per version; default 1 (at least 2 for Deployments under high availability). */
    readonly replicas?: number;
    /** Must run one pod at a time (e.g. a scheduler): exempt from high availability's replica floor. */
    readonly singleton?: boolean;
    readonly resources: ResourceSpec;
    readonly probes?: { readonly startup?: ProbeSpec; readonly readiness?: ProbeSpec; readonly liveness?: ProbeSpec };
    readonly env?: Readonly<Record<string, string>>;
    readonly secretEnv?: Readonly<Record<string, SecretRef>>;
    readonly securityContext?: { readonly runAsUser?: number; readonly runAsNonRoot?: boolean; readonly readOnlyRootFilesystem?: boolean };
    /** emptyDir volumes: volume name → mount path. */
    readonly emptyDirs?: Readonly<Record<string, string>>;
    /**
     * Configuration files mounted read-only into the container: absolute path → content. They live
     * in one ConfigMap per service, each mounted alone so the image's other files stay in place.
     */
    readonly files?: Readonly<Record<string, string>>;
    readonly podAnnotations?: Readonly<Record<string, string>>;
    /** ServiceAccount (the workload's mesh identity); default the service name. */
    readonly serviceAccount?: string;
    readonly initContainers?: readonly InitContainerSpec[];
    /**
     * A HorizontalPodAutoscaler per version's Deployment (not with `replicas`, `singleton` or a
     * StatefulSet): the HPA owns the replica count, so the Deployment leaves it unset.
     */
    readonly autoscaling?: AutoscalingSpec;
    /** Persistent volumes of a StatefulSet: a claim per pod from `volumeClaimTemplates`. */
    readonly volumeClaims?: readonly VolumeClaimSpec[];
}

/** CPU-based autoscaling (autoscaling/v2): replicas between the bounds, at a target average CPU utilization. */
export interface AutoscalingSpec {
    readonly minReplicas: number;
    readonly maxReplicas: number;
    /** Target average CPU utilization in percent of the containers' CPU requests. */
    readonly cpuUtilization: number;
}

/** A persistent volume each pod of a StatefulSet claims, mounted at `mountPath`. */
export interface VolumeClaimSpec {
    readonly name: string;
    readonly mountPath: string;
    /** Requested size, e.g. 8Gi. */
    readonly size: string;
    /** StorageClass; the cluster's default when omitted (on AKS: managed-csi). */
    readonly storageClassName?: string;
}

/**
 * A call in the app's call graph: `from` calls `to` on a Service port. `to` is a service of the
 * app, or `<app>/<service>` for a service of another app of the stack.
 */
export interface CallSpec {
    readonly from: string;
    readonly to: string;
    readonly port: number;
}

/** Protocols of an external host as the caller speaks them (https and tls: the caller's own TLS). */
export const EGRESS_PROTOCOLS = ["http", "https", "tls"] as const;
export type EgressProtocol = (typeof EGRESS_PROTOCOLS)[number];

/** An external host the app calls (outside the cluster), and which of its services call it. */
export interface EgressSpec {
    /** DNS name of the host, e.g. api.example.com (no wildcard: the egress gateway resolves it by DNS). */
    readonly host: string;
    /** Port the caller connects to. */
    readonly port: number;
    readonly protocol: EgressProtocol;
    /** Services of the app that call the host (their ServiceAccounts are admitted on the egress gateway). */
    readonly from: readonly string[];
    /** The caller speaks plain HTTP on `port`; the mesh opens TLS to the host on 443 (http only). */
    readonly originateTls?: boolean;
}

/** An issuer of end-user JWTs and where its signing keys are published. */
export interface JwtIssuer {
    readonly issuer: string;
    /** HTTPS URL of the issuer's JSON Web Key Set. */
    readonly jwksUri: string;
}

/** How the ingress gateway reaches an entry service. */
export interface IngressSpec {
    readonly service: string;
    readonly port: number;
    readonly paths: readonly { readonly match: "exact" | "prefix"; readonly path: string }[];
    /** The issuer of this route's tokens; default the app's `auth`. */
    readonly auth?: JwtIssuer;
    /** Requests on these paths need a valid token of the issuer (a request principal). */
    readonly requireAuth?: boolean;
}

/** A Secret the app generates: literal keys and random passwords (never literal passwords). */
export interface SecretSpec {
    readonly name: string;
    readonly literals?: Readonly<Record<string, string>>;
    /** Keys filled with a random password of the given length. */
    readonly random?: Readonly<Record<string, number>>;
}

export interface AppSpec {
    readonly name: string;
    readonly namespace: string;
    readonly services: readonly ServiceSpec[];
    readonly calls: readonly CallSpec[];
    readonly ingress: readonly IngressSpec[];
    readonly secrets?: readonly SecretSpec[];
    /** External hosts the app calls: ServiceEntries, routed through the egress gateway when the stack has one. */
    readonly egress?: readonly EgressSpec[];
    /** The issuer of end-user tokens for the app's ingress routes (a route may name its own). */
    readonly auth?: JwtIssuer;
    /** Default routing per service (canary weights, header routes, faults, rate limit); stacks override it. */
    readonly traffic?: AppTraffic;
}

/** Requests whose headers all match exactly go to one version. */
export interface HeaderRoute {
    readonly headers: Readonly<Record<string, string>>;
    readonly version: string;
}

/** Faults for requests matching `headers` (all requests when omitted); on only where the stack enables faults. */
export interface FaultSpec {
    readonly headers?: Readonly<Record<string, string>>;
    readonly delay?: { readonly fixedDelay: string; readonly percent: number };
    readonly abort?: { readonly httpStatus: number; readonly percent: number };
}

/** Envoy local rate limit (token bucket) on the service's inbound sidecar. */
export interface RateLimitSpec {
    readonly maxTokens: number;
    readonly tokensPerFill: number;
    readonly fillInterval: string;
}

/** How a service's traffic is routed: canary weights, header routes, fault injection, a local rate limit. */
export interface ServiceTraffic {
    /** Percent of requests per version; integers summing to 100. Default: all to the first version. */
    readonly weights?: Readonly<Record<string, number>>;
    readonly headerRoutes?: readonly HeaderRoute[];
    readonly fault?: FaultSpec;
    readonly rateLimit?: RateLimitSpec;
}

/** Traffic settings by service name. */
export type AppTraffic = Readonly<Record<string, ServiceTraffic>>;
