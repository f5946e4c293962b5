/**
 * What istioctl analyze needs besides the rendered objects to judge them as a cluster would: its analyzers
 * match selectors against Pods (never pod templates) and find the ingress gateway's ports on the Service
 * selecting the gateway's pods. So the workloads get one Pod each (what their controllers create), and the
 * AKS add-on's ingress gateways (pods + Services in aks-istio-ingress, which the program only reads) are added,
 * with the nodes (region/zone labels) the cluster's pools run, which istiod copies onto pod labels.
 */
import { INGRESS_GATEWAYS, INGRESS_NAMESPACE, IngressGatewayInfo, ROOT_NAMESPACE, sharedMeshConfigName } from "../../../policy-pack/lib/aks";
import { KubeObject } from "../../../policy-pack/rules";
import { asArray, asRecord, asString, at, groupKind, labelsOf, namespaceOf, nameOf, podTemplate, WORKLOAD_KINDS } from "../../../policy-pack/rules/k8s";
import { nodeTopologies } from "../../../policy-pack/rules/selectors";

/** The cluster's nodes (one per zone, with the region and zone labels AKS puts on them), when the set has a cluster. */
export function nodes(objects: readonly KubeObject[]): KubeObject[] {
    return nodeTopologies(objects).map((labels, i) => ({ apiVersion: "v1", kind: "Node", metadata: { name: `aks-node-${i}`, labels } }));
}

/** Pods per workload as its controller would create them (labels and spec from the template), one on each node. */
export function workloadPods(objects: readonly KubeObject[]): KubeObject[] {
    const nodeNames = nodes(objects).map((n) => n.metadata?.name as string);
    return objects.filter((o) => WORKLOAD_KINDS.includes(groupKind(o)) && o.kind !== "Pod").flatMap((w) => {
        const template = podTemplate(w) ?? {};
        const spec = asRecord(at(template, "spec")) ?? {};
        return (nodeNames.length > 0 ? nodeNames : [undefined]).map((node, i) => ({
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
                name: `${nameOf(w) ?? "workload"}-${i}`,
                namespace: namespaceOf(w),
                labels: labelsOf(template),
                ...(at(template, "metadata", "annotations") ? { annotations: at(template, "metadata", "annotations") as Record<string, string> } : {}),
            },
            spec: node ? { ...spec, nodeName: node } : spec,
        }));
    });
}

function gatewayObjects(gw: IngressGatewayInfo): KubeObject[] {
    const labels = { ...gw.podLabels };
    return [
        {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: `${gw.service}-0`, namespace: INGRESS_NAMESPACE, labels },
            spec: { containers: [{ name: "istio-proxy", image: "mcr.microsoft.com/oss/istio/proxyv2", ports: gw.ports.map((p) => ({ containerPort: p })) }] },
        },
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: gw.service, namespace: INGRESS_NAMESPACE },
            spec: {
                type: "LoadBalancer",
                selector: gw.selector,
                ports: [
                    { name: "status-port", port: 15021, targetPort: 15021, protocol: "TCP" },
                    ...gw.ports.map((p) => ({ name: p === 443 ? "https" : "http2", port: p, targetPort: p, protocol: "TCP" })),
                ],
            },
        },
    ];
}

/**
 * The add-on's ingress gateways the stack enables: from its ManagedCluster's serviceMeshProfile when the set
 * holds one (the pack's fixtures do), else from the gateways its Gateways select (a rendered stack's
 * manifests carry no ARM resource).
 */
export function addonObjects(objects: readonly KubeObject[]): KubeObject[] {
    const cluster = objects.find((o) => o.kind === "ManagedCluster");
    const modes = cluster
        ? asArray(at(cluster, "properties", "serviceMeshProfile", "istio", "components", "ingressGateways"))
            .filter((g) => at(g, "enabled") === true).map((g) => asString(at(g, "mode")))
        : Object.values(INGRESS_GATEWAYS)
            .filter((gw) => objects.some((o) => o.kind === "Gateway" && at(o, "spec", "selector", "istio") === gw.selector.istio))
            .map((gw) => gw.mode);
    return Object.values(INGRESS_GATEWAYS).filter((gw) => modes.includes(gw.mode)).flatMap(gatewayObjects);
}

/** Kubernetes objects istioctl can read: the ManagedCluster is an ARM resource, not a Kubernetes one. */
export function kubernetesOnly(objects: readonly KubeObject[]): KubeObject[] {
    return objects.filter((o) => o.kind !== "ManagedCluster");
}

/** The set istioctl analyze judges: the objects, the cluster's nodes, their pods and the add-on's gateways. */
export function analysisSet(objects: readonly KubeObject[]): KubeObject[] {
    return [...kubernetesOnly(objects), ...nodes(objects), ...workloadPods(objects), ...addonObjects(objects)];
}

/** The MeshConfig the add-on merges for a revision: the `mesh` key of istio-shared-configmap-<revision>, if any. */
export function meshConfigFor(objects: readonly KubeObject[], revision: string): string | undefined {
    const cm = objects.find((o) => o.kind === "ConfigMap" && nameOf(o) === sharedMeshConfigName(revision));
    return asString(at(cm, "data", "mesh"));
}

/**
 * The MeshConfig istiod runs with: the add-on's own defaults that matter to analyzers (the root namespace is
 * aks-istio-system) under the revision's shared MeshConfig, which the add-on merges over them.
 */
export function meshConfigFile(objects: readonly KubeObject[], revision: string): string {
    return `rootNamespace: ${ROOT_NAMESPACE}\n${meshConfigFor(objects, revision) ?? ""}`;
}

/** The revisions a set uses: shared MeshConfig ConfigMaps, namespace revision labels and the cluster's list. */
export function revisionsOf(objects: readonly KubeObject[]): string[] {
    const found = new Set<string>();
    for (const o of objects) {
        const cm = o.kind === "ConfigMap" ? /^istio-shared-configmap-(asm-\d+-\d+)$/.exec(nameOf(o) ?? "") : null;
        if (cm) found.add(cm[1]);
        const rev = o.kind === "Namespace" ? labelsOf(o)["istio.io/rev"] : undefined;
        if (rev) found.add(rev);
        if (o.kind === "ManagedCluster") {
            asArray(at(o, "properties", "serviceMeshProfile", "istio", "revisions")).forEach((r) => typeof r === "string" && found.add(r));
        }
    }
    return [...found].sort();
}
