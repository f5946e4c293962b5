/**
 * Typed reads over untrusted Kubernetes objects. Manifests come from YAML, from Pulumi inputs or
 * from the CrossGuard proxy (which throws on unknown values), so every read checks the type it
 * expects and nothing is copied or enumerated beyond what a rule needs.
 */
import { KubeObject } from "./types";

export type Json = Record<string, unknown>;

export function asRecord(v: unknown): Json | undefined {
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

export function asArray(v: unknown): unknown[] {
    return Array.isArray(v) ? v : [];
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes DNS-1123 label: a namespace, or a name that may not contain dots. */
export function isDns1123Label(value: string): boolean {
    return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** A Kubernetes DNS-1123 subdomain: most object names, label-key prefixes. */
export function isDns1123Subdomain(value: string): boolean {
    return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

export function asString(v: unknown): string | undefined {
    return typeof v === "string" ? v : undefined;
}

export function asStrings(v: unknown): string[] {
    return asArray(v).filter((x): x is string => typeof x === "string");
}

/** Reads a nested field: `at(obj, "spec", "selector")`. */
export function at(v: unknown, ...keys: string[]): unknown {
    let cur = v;
    for (const k of keys) {
        const r = asRecord(cur);
        if (!r) {
            return undefined;
        }
        cur = r[k];
    }
    return cur;
}

/** A label map: string values only (selectors, labels, annotations). */
export function stringMap(v: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    const r = asRecord(v);
    if (r) {
        for (const [k, x] of Object.entries(r)) {
            if (typeof x === "string") {
                out[k] = x;
            }
        }
    }
    return out;
}

/** `group/Kind` with `core` for the core group, as in Pulumi type tokens (`kubernetes:core/v1:Namespace`). */
export type GroupKind = string;

function apiGroup(obj: KubeObject): string {
    const v = asString(obj.apiVersion) ?? "";
    const i = v.indexOf("/");
    return i < 0 ? "core" : v.slice(0, i);
}

/** Istio objects match on group + kind, so every served version (v1, v1beta1, v1alpha3) is covered. */
export function groupKind(obj: KubeObject): GroupKind {
    return `${apiGroup(obj)}/${asString(obj.kind) ?? ""}`;
}

export const NETWORKING = "networking.istio.io";
const SECURITY = "security.istio.io";

export const GK = {
    namespace: "core/Namespace",
    service: "core/Service",
    configMap: "core/ConfigMap",
    pod: "core/Pod",
    deployment: "apps/Deployment",
    statefulSet: "apps/StatefulSet",
    daemonSet: "apps/DaemonSet",
    replicaSet: "apps/ReplicaSet",
    job: "batch/Job",
    cronJob: "batch/CronJob",
    pdb: "policy/PodDisruptionBudget",
    hpa: "autoscaling/HorizontalPodAutoscaler",
    gateway: `${NETWORKING}/Gateway`,
    virtualService: `${NETWORKING}/VirtualService`,
    destinationRule: `${NETWORKING}/DestinationRule`,
    serviceEntry: `${NETWORKING}/ServiceEntry`,
    sidecar: `${NETWORKING}/Sidecar`,
    envoyFilter: `${NETWORKING}/EnvoyFilter`,
    peerAuthentication: `${SECURITY}/PeerAuthentication`,
    authorizationPolicy: `${SECURITY}/AuthorizationPolicy`,
    requestAuthentication: `${SECURITY}/RequestAuthentication`,
    telemetry: "telemetry.istio.io/Telemetry",
    managedCluster: "containerservice.azure.com/ManagedCluster",
    agentPool: "containerservice.azure.com/AgentPool",
    maintenanceConfiguration: "containerservice.azure.com/MaintenanceConfiguration",
    managementLock: "authorization.azure.com/ManagementLock",
} as const;

/** Kinds whose pods a controller creates from a template (plus the Pod itself). */
export const WORKLOAD_KINDS: readonly GroupKind[] = [
    GK.deployment, GK.statefulSet, GK.daemonSet, GK.replicaSet, GK.job, GK.cronJob, GK.pod,
];

export function nameOf(obj: KubeObject): string | undefined {
    return asString(at(obj, "metadata", "name"));
}

/** Namespaced objects without a namespace land in `default` (kubectl and the Pulumi provider agree). */
export function namespaceOf(obj: KubeObject): string {
    return asString(at(obj, "metadata", "namespace")) ?? "default";
}

export function labelsOf(obj: unknown): Record<string, string> {
    return stringMap(at(obj, "metadata", "labels"));
}

export function annotationsOf(obj: unknown): Record<string, string> {
    return stringMap(at(obj, "metadata", "annotations"));
}

/** The pod template of a workload (metadata + spec), or the Pod itself. */
export function podTemplate(obj: KubeObject): Json | undefined {
    switch (groupKind(obj)) {
        case GK.pod:
            return obj;
        case GK.cronJob:
            return asRecord(at(obj, "spec", "jobTemplate", "spec", "template"));
        default:
            return WORKLOAD_KINDS.includes(groupKind(obj)) ? asRecord(at(obj, "spec", "template")) : undefined;
    }
}

/** A `matchLabels`-style selector matches when every key/value is present (an empty one matches all). */
export function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A full `LabelSelector` (matchLabels + matchExpressions), as in PodDisruptionBudget. */
export function labelSelectorMatches(selector: unknown, labels: Record<string, string>): boolean {
    if (!labelsMatch(stringMap(at(selector, "matchLabels")), labels)) {
        return false;
    }
    return asArray(at(selector, "matchExpressions")).every((e) => {
        const key = asString(at(e, "key")) ?? "";
        const values = asStrings(at(e, "values"));
        switch (asString(at(e, "operator"))) {
            case "In":
                return key in labels && values.includes(labels[key]);
            case "NotIn":
                return !(key in labels) || !values.includes(labels[key]);
            case "Exists":
                return key in labels;
            case "DoesNotExist":
                return !(key in labels);
            default:
                return false;
        }
    });
}

export function hasEntries(m: Record<string, string>): boolean {
    return Object.keys(m).length > 0;
}

export function ofKind(objects: readonly KubeObject[], ...kinds: GroupKind[]): KubeObject[] {
    return objects.filter((o) => kinds.includes(groupKind(o)));
}
