/**
 * Workload selectors that select nothing, as istioctl analyze finds them: a Sidecar or Telemetry whose
 * selector matches no pod of its namespace (IST0101), an AuthorizationPolicy whose selector matches no pod
 * (IST0127; anywhere in the mesh for the root namespace) or a namespace-wide one in a namespace without pods.
 * Pods are the workloads' pod templates plus the AKS add-on's ingress gateway pods.
 */
import { INGRESS_GATEWAYS, INGRESS_NAMESPACE } from "../lib/aks";
import { asArray, asString, at, GK, hasEntries, labelsMatch, labelsOf, namespaceOf, ofKind, podTemplate, stringMap, WORKLOAD_KINDS } from "./k8s";
import { EgressGatewaySetting, egressGatewayLabels } from "./config";
import { Finding, StackRule } from "./rule";
import { KubeObject } from "./types";

export interface KnownPod {
    readonly namespace: string;
    readonly labels: Record<string, string>;
}

/**
 * The pods a set implies: one per workload template, plus the ingress gateways the add-on runs (those the
 * set's ManagedCluster enables, or both when the set holds no cluster) and the egress gateways named in
 * the settings.
 */
export function knownPods(objects: readonly KubeObject[], egressGateways: readonly EgressGatewaySetting[] = []): KnownPod[] {
    const clusters = ofKind(objects, GK.managedCluster);
    const enabled = clusters.flatMap((c) => asArray(at(c, "properties", "serviceMeshProfile", "istio", "components", "ingressGateways")))
        .filter((g) => at(g, "enabled") === true).map((g) => asString(at(g, "mode")));
    const gateways = Object.values(INGRESS_GATEWAYS).filter((g) => clusters.length === 0 || enabled.includes(g.mode));
    return [
        ...ofKind(objects, ...WORKLOAD_KINDS).map((w) => ({ namespace: namespaceOf(w), labels: labelsOf(podTemplate(w)) })),
        ...gateways.map((g) => ({ namespace: INGRESS_NAMESPACE, labels: { ...g.podLabels } })),
        ...egressGateways.map((g) => ({ namespace: g.namespace, labels: { ...egressGatewayLabels(g) } })),
    ];
}

/** Node labels istiod copies onto a pod's labels when matching subsets (pilot's AugmentLabels). */
export const TOPOLOGY = { region: "topology.kubernetes.io/region", zone: "topology.kubernetes.io/zone" } as const;

/**
 * The topology labels of the cluster's nodes, one entry per zone (AKS labels zone `<location>-<n>`), from the
 * set's ManagedCluster: its location and the availability zones of its pools. Empty without a cluster.
 */
export function nodeTopologies(objects: readonly KubeObject[]): Record<string, string>[] {
    return ofKind(objects, GK.managedCluster).flatMap((c): Record<string, string>[] => {
        const location = asString(at(c, "properties", "location"));
        const zones = [...new Set(asArray(at(c, "properties", "agentPoolProfiles")).flatMap((p) => asArray(at(p, "availabilityZones"))).map(String))].sort();
        const region: Record<string, string> = location ? { [TOPOLOGY.region]: location } : {};
        return zones.length > 0 && location ? zones.map((z) => ({ ...region, [TOPOLOGY.zone]: `${location}-${z}` })) : [region];
    });
}

/** Each pod as it could run on each of the cluster's nodes, its labels augmented with the node's topology. */
export function podsOnNodes(pods: readonly KnownPod[], topologies: readonly Record<string, string>[]): KnownPod[] {
    return topologies.length === 0 ? [...pods] : pods.flatMap((p) => topologies.map((t) => ({ namespace: p.namespace, labels: { ...p.labels, ...t } })));
}

function describeSelector(selector: Record<string, string>): string {
    return Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(",");
}

const SELECTOR_PATHS: Record<string, readonly string[]> = {
    [GK.sidecar]: ["spec", "workloadSelector", "labels"],
    [GK.telemetry]: ["spec", "selector", "matchLabels"],
};

export const workloadSelectorMatches: StackRule = {
    name: "workload-selector-matches",
    description: "A Sidecar's workloadSelector or a Telemetry's selector matches at least one workload in its namespace; otherwise the configuration applies to nothing.",
    severity: "medium",
    enforcement: "mandatory",
    remediation: "Make the selector labels match the pod template labels of a workload in the same namespace (or drop the selector to configure the whole namespace).",
    code: "IST0101",
    scope: "stack",
    settings: ["egressGateways"],
    kinds: [GK.sidecar, GK.telemetry, GK.managedCluster, ...WORKLOAD_KINDS],
    check(objects, s) {
        const pods = knownPods(objects, s.egressGateways);
        const findings: Finding[] = [];
        for (const o of ofKind(objects, GK.sidecar, GK.telemetry)) {
            const kind = o.kind === "Sidecar" ? GK.sidecar : GK.telemetry;
            const selector = stringMap(at(o, ...SELECTOR_PATHS[kind]));
            if (hasEntries(selector) && !pods.some((p) => p.namespace === namespaceOf(o) && labelsMatch(selector, p.labels))) {
                findings.push({ object: o, code: "IST0101", message: `selector ${describeSelector(selector)} matches no workload in namespace ${namespaceOf(o)}` });
            }
        }
        return findings;
    },
};

export const authorizationPolicyWorkloads: StackRule = {
    name: "authorization-policy-workloads",
    description: "An AuthorizationPolicy applies to some workload: its selector matches a pod of its namespace (any namespace for a root-namespace policy), and a namespace-wide policy sits in a namespace with workloads.",
    severity: "low",
    enforcement: "advisory",
    remediation: "Fix spec.selector to match the pod template labels of the workload to protect, or remove the policy.",
    code: "IST0127",
    scope: "stack",
    settings: ["rootNamespace", "egressGateways"],
    kinds: [GK.authorizationPolicy, GK.managedCluster, ...WORKLOAD_KINDS],
    check(objects, s) {
        const pods = knownPods(objects, s.egressGateways);
        const findings: Finding[] = [];
        for (const ap of ofKind(objects, GK.authorizationPolicy)) {
            const ns = namespaceOf(ap);
            const hasSelector = at(ap, "spec", "selector") !== undefined;
            const selector = stringMap(at(ap, "spec", "selector", "matchLabels"));
            const inScope = (p: KnownPod) => ns === s.rootNamespace || p.namespace === ns;
            if (hasSelector && !pods.some((p) => inScope(p) && labelsMatch(selector, p.labels))) {
                findings.push({ object: ap, code: "IST0127", message: `selector ${describeSelector(selector) || "{}"} matches no workload${ns === s.rootNamespace ? " in the mesh" : ` in namespace ${ns}`}` });
            } else if (!hasSelector && ns !== s.rootNamespace && !pods.some((p) => p.namespace === ns)) {
                findings.push({ object: ap, code: "IST0127", message: `namespace ${ns} has no workload for this namespace-wide policy to apply to` });
            }
        }
        return findings;
    },
};
