import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { AppSpec, PortSpec, ProbeSpec, ServiceSpec } from "./apps/spec";

/** Pod template annotation carrying the namespace's revision: moving a namespace rolls its pods. */
export const REVISION_ANNOTATION = "aks-istio-mesh/revision";
/** Pod template annotation carrying a digest of the service's mounted files: a change rolls its pods. */
export const FILES_ANNOTATION = "aks-istio-mesh/files-sha256";
/** Volume holding a service's `files`. */
const FILES_VOLUME = "spec-files";

/** Arguments of {@link MeshApp}. */
export interface MeshAppArgs {
    /** The app as data (catalog or inline). */
    readonly spec: AppSpec;
    /** Istio revision the namespace is labelled with (`istio.io/rev`). */
    readonly revision: string;
    /**
     * Every Deployment (unless `singleton`) runs at least 2 replicas per version with a
     * PodDisruptionBudget. StatefulSets keep their declared replicas: more pods of a broker or a
     * database are not more availability unless the software clusters itself. Default false.
     */
    readonly highAvailability?: boolean;
    /** Spread highly available pods across availability zones (needs a zonal node pool). Default false. */
    readonly zoneSpread?: boolean;
    /**
     * Values for the spec's password keys (secret name → key → value), e.g. from the stack's encrypted config;
     * a key without one gets a generated random password. Stored only in Secrets, marked secret.
     */
    readonly secretValues?: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>>;
    /**
     * Pod Security Admission for the namespace: the level enforced, and the stricter level the API
     * server warns and audits against (so a pod that would fail it shows up before it is enforced).
     */
    readonly podSecurity?: { readonly enforce: string; readonly warn: string; readonly version: string };
    /** Annotations of the app's Namespace (the stack's stamp for the policy pack). */
    readonly namespaceAnnotations?: Readonly<Record<string, string>>;
}

/** The Pod Security Admission labels of a namespace (enforce, warn and audit, each pinned to a version). */
export function podSecurityLabels(p: NonNullable<MeshAppArgs["podSecurity"]>): Record<string, string> {
    const prefix = "pod-security.kubernetes.io";
    return {
        [`${prefix}/enforce`]: p.enforce,
        [`${prefix}/enforce-version`]: p.version,
        [`${prefix}/warn`]: p.warn,
        [`${prefix}/warn-version`]: p.version,
        [`${prefix}/audit`]: p.warn,
        [`${prefix}/audit-version`]: p.version,
    };
}

/** Istio's port naming convention: `<protocol>[-<suffix>]`. */
export function servicePortName(p: PortSpec): string {
    return p.name ? `${p.protocol}-${p.name}` : p.protocol;
}

export function serviceAccountName(s: ServiceSpec): string {
    return s.serviceAccount ?? s.name;
}

function probe(p: ProbeSpec | undefined): k8s.types.input.core.v1.Probe | undefined {
    return p && {
        httpGet: p.httpGet && { path: p.httpGet.path, port: p.httpGet.port },
        tcpSocket: p.tcpPort === undefined ? undefined : { port: p.tcpPort },
        initialDelaySeconds: p.initialDelaySeconds,
        periodSeconds: p.periodSeconds,
        failureThreshold: p.failureThreshold,
    };
}

/**
 * One app in the mesh, from its spec: a namespace labelled with its Istio revision (created before
 * any workload, so sidecars are injected at first start), a ServiceAccount per service (its mesh
 * identity), generated Secrets, a Deployment per version (or a StatefulSet with its volume claims),
 * a HorizontalPodAutoscaler per version where the spec autoscales, a Service with Istio-named ports
 * and, under high availability, PodDisruptionBudgets.
 */
export class MeshApp extends pulumi.ComponentResource {
    /** The namespace's name, known once the Namespace exists. */
    public readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: MeshAppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:apps:MeshApp", name, {}, opts);
        const { spec, revision } = args;

        const ns = new k8s.core.v1.Namespace(`${name}-ns`, {
            metadata: { name: spec.namespace, labels: {
                "istio.io/rev": revision,
                "app.kubernetes.io/part-of": spec.name,
                ...(args.podSecurity ? podSecurityLabels(args.podSecurity) : {}),
            }, annotations: args.namespaceAnnotations },
        }, { parent: this });
        const namespace = ns.metadata.name;

        const secrets: k8s.core.v1.Secret[] = [];
        for (const secret of spec.secrets ?? []) {
            const stringData: Record<string, pulumi.Input<string>> = { ...secret.literals };
            for (const [key, length] of Object.entries(secret.random ?? {})) {
                stringData[key] = args.secretValues?.[secret.name]?.[key]
                    ?? new random.RandomPassword(`${name}-${secret.name}-${key}`, { length, special: false }, { parent: this }).result;
            }
            secrets.push(new k8s.core.v1.Secret(`${name}-${secret.name}`, {
                metadata: { name: secret.name, namespace },
                type: "Opaque",
                stringData: pulumi.secret(stringData),
            }, { parent: this }));
        }

        for (const svc of spec.services) {
            this.service(name, svc, namespace, args, secrets);
        }

        this.namespace = namespace;
        this.registerOutputs({ namespace: this.namespace });
    }

    /** `secrets`: the app's Secrets, which pods read by reference and so must not start before. */
    private service(name: string, svc: ServiceSpec, namespace: pulumi.Output<string>, args: MeshAppArgs, secrets: k8s.core.v1.Secret[]): void {
        const base = `${name}-${svc.name}`;
        const labels = { app: svc.name };
        const sa = new k8s.core.v1.ServiceAccount(`${base}-sa`, {
            metadata: { name: serviceAccountName(svc), namespace, labels },
        }, { parent: this });

        const ports = svc.ports.map((p) => ({ name: servicePortName(p), port: p.port, targetPort: p.targetPort ?? p.port, protocol: "TCP" }));
        new k8s.core.v1.Service(`${base}-svc`, {
            metadata: { name: svc.name, namespace, labels },
            spec: { type: "ClusterIP", selector: labels, ports },
        }, { parent: this });
        // A StatefulSet's governing Service must be headless to give each pod its stable DNS name;
        // clients keep using the ClusterIP Service above.
        const governing = svc.workload === "StatefulSet" ? `${svc.name}-headless` : undefined;
        if (governing) {
            new k8s.core.v1.Service(`${base}-headless`, {
                metadata: { name: governing, namespace, labels },
                spec: { type: "ClusterIP", clusterIP: "None", selector: labels, ports },
            }, { parent: this });
        }

        // Files are mounted one by one (subPath), which the kubelet never refreshes: the digest in
        // the pod template restarts the pods when the content changes instead.
        const files = Object.entries(svc.files ?? {}).map(([mountPath, content]) => ({ mountPath, key: mountPath.slice(mountPath.lastIndexOf("/") + 1), content }));
        const filesMap = files.length > 0
            ? new k8s.core.v1.ConfigMap(`${base}-files`, {
                metadata: { name: `${svc.name}-files`, namespace, labels },
                data: Object.fromEntries(files.map((f) => [f.key, f.content])),
            }, { parent: this })
            : undefined;
        const filesDigest = filesMap && createHash("sha256").update(JSON.stringify(files)).digest("hex");

        const ha = !!args.highAvailability && svc.workload !== "StatefulSet" && !svc.singleton;
        const replicas = ha ? Math.max(svc.replicas ?? 1, 2) : (svc.replicas ?? 1);
        // Under high availability the HPA never goes below the 2 replicas the PodDisruptionBudget relies on.
        const autoscaling = svc.autoscaling && { ...svc.autoscaling, minReplicas: ha ? Math.max(svc.autoscaling.minReplicas, 2) : svc.autoscaling.minReplicas };
        const claims = svc.volumeClaims ?? [];
        for (const version of svc.versions ?? [{ name: "v1" }]) {
            const podLabels = { ...labels, version: version.name };
            const template: k8s.types.input.core.v1.PodTemplateSpec = {
                metadata: {
                    labels: podLabels,
                    annotations: { [REVISION_ANNOTATION]: args.revision, ...(filesDigest ? { [FILES_ANNOTATION]: filesDigest } : {}), ...svc.podAnnotations },
                },
                spec: {
                    serviceAccountName: sa.metadata.name,
                    nodeSelector: { "kubernetes.io/os": "linux" },
                    initContainers: svc.initContainers?.map((c) => ({
                        name: c.name,
                        image: c.image,
                        command: [...c.command],
                        resources: c.resources,
                        securityContext: { allowPrivilegeEscalation: false },
                    })),
                    containers: [{
                        name: svc.name,
                        image: version.image ?? svc.image,
                        ports: svc.ports.map((p) => ({ containerPort: p.targetPort ?? p.port })),
                        env: [
                            ...Object.entries(svc.env ?? {}).map(([k, value]) => ({ name: k, value })),
                            ...Object.entries(svc.secretEnv ?? {}).map(([k, ref]) => ({ name: k, valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } } })),
                        ],
                        resources: svc.resources,
                        startupProbe: probe(svc.probes?.startup),
                        readinessProbe: probe(svc.probes?.readiness),
                        livenessProbe: probe(svc.probes?.liveness),
                        securityContext: { allowPrivilegeEscalation: false, ...svc.securityContext },
                        volumeMounts: [
                            ...Object.entries(svc.emptyDirs ?? {}).map(([volume, mountPath]) => ({ name: volume, mountPath })),
                            ...claims.map((c) => ({ name: c.name, mountPath: c.mountPath })),
                            ...files.map((f) => ({ name: FILES_VOLUME, mountPath: f.mountPath, subPath: f.key, readOnly: true })),
                        ],
                    }],
                    volumes: [
                        ...Object.keys(svc.emptyDirs ?? {}).map((volume) => ({ name: volume, emptyDir: {} })),
                        ...(filesMap ? [{ name: FILES_VOLUME, configMap: { name: filesMap.metadata.name } }] : []),
                    ],
                    topologySpreadConstraints: ha && args.zoneSpread
                        ? [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: podLabels } }]
                        : undefined,
                },
            };
            if (svc.workload === "StatefulSet") {
                new k8s.apps.v1.StatefulSet(`${base}-${version.name}`, {
                    metadata: { name: svc.name, namespace, labels: podLabels },
                    spec: {
                        serviceName: governing!, replicas, selector: { matchLabels: podLabels }, template,
                        volumeClaimTemplates: claims.length > 0 ? claims.map((c) => ({
                            metadata: { name: c.name, labels },
                            spec: { accessModes: ["ReadWriteOnce"], storageClassName: c.storageClassName, resources: { requests: { storage: c.size } } },
                        })) : undefined,
                    },
                }, { parent: this, dependsOn: secrets });
            } else {
                const deployment = new k8s.apps.v1.Deployment(`${base}-${version.name}`, {
                    metadata: { name: `${svc.name}-${version.name}`, namespace, labels: podLabels },
                    // Autoscaled: no replicas here, so a deployment never resets what the HPA chose.
                    spec: { replicas: autoscaling ? undefined : replicas, selector: { matchLabels: podLabels }, template },
                }, { parent: this, dependsOn: secrets });
                if (autoscaling) {
                    new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${base}-${version.name}-hpa`, {
                        metadata: { name: `${svc.name}-${version.name}`, namespace, labels: podLabels },
                        spec: {
                            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
                            minReplicas: autoscaling.minReplicas,
                            maxReplicas: autoscaling.maxReplicas,
                            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: autoscaling.cpuUtilization } } }],
                        },
                    }, { parent: this });
                }
            }
        }
        if (ha) {
            new k8s.policy.v1.PodDisruptionBudget(`${base}-pdb`, {
                metadata: { name: svc.name, namespace, labels },
                spec: { minAvailable: 1, selector: { matchLabels: labels } },
            }, { parent: this });
        }
    }
}
