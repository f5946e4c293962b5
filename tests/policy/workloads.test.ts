import * as assert from "assert";
import { KubeObject } from "../../policy-pack/rules";
import { deployment, edit, find, NS } from "./fixtures/mesh";
import { cases, remove, verdicts } from "./helpers";

type Objects = Parameters<typeof find>[0];
const web = (o: Objects) => find(o, "Deployment", "web-v1");
const template = (o: Objects) => web(o).spec.template;
const container = (o: Objects) => template(o).spec.containers[0];
const annotate = (o: Objects, key: string, value: string) => { template(o).metadata.annotations = { [key]: value }; };

describe("policy: workload-sidecar-injection", () => {
    cases([
        { name: "label sidecar.istio.io/inject=false is refused", change: (o) => { template(o).metadata.labels["sidecar.istio.io/inject"] = "false"; }, expect: ["workload-sidecar-injection"] },
        { name: "label sidecar.istio.io/inject=true is fine", change: (o) => { template(o).metadata.labels["sidecar.istio.io/inject"] = "true"; }, expect: [] },
        { name: "annotation sidecar.istio.io/inject=False is refused (and deprecated)", change: (o) => annotate(o, "sidecar.istio.io/inject", "False"), expect: ["workload-sidecar-injection", "deprecated-annotations:IST0135"] },
        { name: "excludeOutboundPorts bypasses capture", change: (o) => annotate(o, "traffic.sidecar.istio.io/excludeOutboundPorts", "5432"), expect: ["workload-sidecar-injection"] },
        { name: "excludeInboundPorts bypasses capture", change: (o) => annotate(o, "traffic.sidecar.istio.io/excludeInboundPorts", "8080"), expect: ["workload-sidecar-injection"] },
        { name: "excludeOutboundIPRanges bypasses capture", change: (o) => annotate(o, "traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/8"), expect: ["workload-sidecar-injection"] },
        { name: "includeInboundPorts narrower than * bypasses capture", change: (o) => annotate(o, "traffic.sidecar.istio.io/includeInboundPorts", "8080"), expect: ["workload-sidecar-injection"] },
        { name: "includeInboundPorts=* keeps full capture", change: (o) => annotate(o, "traffic.sidecar.istio.io/includeInboundPorts", "*"), expect: [] },
        { name: "interceptionMode NONE switches capture off", change: (o) => annotate(o, "sidecar.istio.io/interceptionMode", "NONE"), expect: ["workload-sidecar-injection"] },
        { name: "interceptionMode TPROXY still captures", change: (o) => annotate(o, "sidecar.istio.io/interceptionMode", "TPROXY"), expect: [] },
        { name: "hostNetwork is refused in a mesh namespace", change: (o) => { template(o).spec.hostNetwork = true; }, expect: ["workload-sidecar-injection"] },
        { name: "a system namespace is out of scope", change: (o) => { web(o).metadata.namespace = "kube-system"; template(o).spec.hostNetwork = true; }, expect: ["authorization-policy-workloads:IST0127"] },
    ]);

    it("checks every workload kind, through its pod template", () => {
        const spec = { metadata: { labels: { app: "x", "sidecar.istio.io/inject": "false" } }, spec: { containers: [] } };
        const kinds: KubeObject[] = [
            { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s", namespace: NS }, spec: { template: spec } },
            { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "d", namespace: NS }, spec: { template: spec } },
            { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "r", namespace: NS }, spec: { template: spec } },
            { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j", namespace: NS }, spec: { template: spec } },
            { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "c", namespace: NS }, spec: { jobTemplate: { spec: { template: spec } } } },
            { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: NS, ...spec.metadata }, spec: spec.spec },
        ];
        for (const k of kinds) {
            assert.deepStrictEqual(verdicts([k]).filter((v) => v.startsWith("workload-sidecar")), ["workload-sidecar-injection"], k.kind);
        }
    });
});

describe("policy: workload-reserved-uid", () => {
    cases([
        { name: "a container running as 1337 is refused (IST0144)", change: (o) => { container(o).securityContext.runAsUser = 1337; }, expect: ["workload-reserved-uid:IST0144"] },
        { name: "a pod securityContext of 1337 is refused (IST0144)", change: (o) => { template(o).spec.securityContext = { runAsUser: 1337 }; }, expect: ["workload-reserved-uid:IST0144"] },
    ]);

    it("leaves the proxy container and init containers alone (the Istio CNI workaround runs init as 1337)", () => {
        const d = deployment("web", "v1");
        const podSpec = edit(d).spec.template.spec;
        podSpec.containers.push({ name: "istio-proxy", image: "proxy", securityContext: { runAsUser: 1337 }, resources: { requests: { cpu: "1m", memory: "1Mi" } } });
        podSpec.initContainers = [{ name: "wait", image: "busybox", securityContext: { runAsUser: 1337 } }];
        assert.deepStrictEqual(verdicts([d]).filter((v) => v.includes("uid")), []);
    });
});

describe("policy: container-resource-requests", () => {
    cases([
        { name: "a container without requests is advised", change: (o) => { delete container(o).resources; }, expect: ["container-resource-requests"] },
        { name: "a container without a memory request is advised", change: (o) => { delete container(o).resources.requests.memory; }, expect: ["container-resource-requests"] },
    ]);
});

const hpa = (target: string, minReplicas: number, kind = "Deployment") => ({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "web", namespace: NS },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind, name: target }, minReplicas, maxReplicas: 5 } });

describe("policy: autoscaler-target", () => {
    cases([
        { name: "an HPA on a workload that leaves replicas unset is fine", change: (o) => { delete web(o).spec.replicas; o.push(hpa("web-v1", 2)); }, expect: [] },
        { name: "a workload setting replicas under an HPA is refused", change: (o) => { o.push(hpa("web-v1", 2)); }, expect: ["autoscaler-target"] },
        { name: "an HPA naming no workload of its namespace is refused", change: (o) => { delete web(o).spec.replicas; o.push(hpa("web", 2)); }, config: { environment: "dev" }, expect: ["autoscaler-target"] },
        { name: "an HPA naming the right name but the wrong kind is refused", change: (o) => { delete web(o).spec.replicas; o.push(hpa("web-v1", 2, "StatefulSet")); }, config: { environment: "dev" }, expect: ["autoscaler-target"] },
        { name: "an HPA alone in a namespace without workloads in the set is not judged", change: (o) => { const h = hpa("elsewhere", 2); h.metadata.namespace = "other"; o.push(h); }, expect: [] },
    ]);
});

describe("policy: workload-availability", () => {
    cases([
        { name: "one replica in prod is advised", change: (o) => { web(o).spec.replicas = 1; }, expect: ["workload-availability"] },
        { name: "an unset replica count means 1", change: (o) => { delete web(o).spec.replicas; }, expect: ["workload-availability"] },
        { name: "one replica in dev is fine", change: (o) => { web(o).spec.replicas = 1; }, config: { environment: "dev" }, expect: [] },
        { name: "a workload without a PodDisruptionBudget is advised", change: (o) => remove(o, "PodDisruptionBudget", "web"), expect: ["workload-availability"] },
        { name: "a PDB selecting other pods does not count", change: (o) => { find(o, "PodDisruptionBudget", "web").spec.selector.matchLabels.app = "other"; }, expect: ["workload-availability"] },
        {
            name: "an HPA keeping two replicas counts",
            change: (o) => {
                delete web(o).spec.replicas;
                o.push(hpa("web-v1", 2));
            },
            expect: [],
        },
        {
            name: "a PDB matchExpressions selector is understood",
            change: (o) => { find(o, "PodDisruptionBudget", "web").spec.selector = { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] }; },
            expect: [],
        },
    ]);
});
