import { find, NS, ROOT } from "./fixtures/mesh";
import { cases } from "./helpers";

const sidecar = (selector?: Record<string, string>) => ({
    apiVersion: "networking.istio.io/v1",
    kind: "Sidecar",
    metadata: { name: "api", namespace: NS },
    spec: { ...(selector ? { workloadSelector: { labels: selector } } : {}), egress: [{ hosts: ["./*"] }] },
});
const telemetry = (namespace: string, selector: Record<string, string>) => ({
    apiVersion: "telemetry.istio.io/v1",
    kind: "Telemetry",
    metadata: { name: "api", namespace },
    spec: { selector: { matchLabels: selector }, accessLogging: [{ providers: [{ name: "envoy" }] }] },
});

describe("policy: workload-selector-matches", () => {
    cases([
        { name: "a Sidecar selecting a workload's labels matches", change: (o) => { o.push(sidecar({ app: "api" })); }, expect: [] },
        { name: "a Sidecar selecting no workload (IST0101)", change: (o) => { o.push(sidecar({ app: "payments" })); }, expect: ["workload-selector-matches:IST0101"] },
        { name: "a Sidecar selector matches only in its own namespace (IST0101)", change: (o) => { const s = sidecar({ app: "api" }); s.metadata.namespace = "other"; o.push(s); }, expect: ["workload-selector-matches:IST0101"] },
        { name: "a Telemetry selecting a pod template label matches", change: (o) => { o.push(telemetry(NS, { app: "api", version: "v2" })); }, expect: [] },
        { name: "a Telemetry selecting no workload (IST0101)", change: (o) => { o.push(telemetry(NS, { app: "api", version: "v3" })); }, expect: ["workload-selector-matches:IST0101"] },
        { name: "a Telemetry may select the AKS ingress gateway pods", change: (o) => { o.push(telemetry("aks-istio-ingress", { istio: "aks-istio-ingressgateway-external" })); }, expect: [] },
        { name: "a disabled ingress gateway has no pods (IST0101)", change: (o) => { o.push(telemetry("aks-istio-ingress", { istio: "aks-istio-ingressgateway-internal" })); }, expect: ["workload-selector-matches:IST0101"] },
    ]);
});

describe("policy: authorization-policy-workloads", () => {
    cases([
        { name: "a selector matching no pod of its namespace (IST0127)", change: (o) => { find(o, "AuthorizationPolicy", "api-from-web").spec.selector.matchLabels.app = "apii"; }, expect: ["authorization-policy-workloads:IST0127"] },
        {
            name: "a root-namespace policy selects across the mesh",
            change: (o) => { const ap = find(o, "AuthorizationPolicy", "api-from-web"); ap.metadata.namespace = ROOT; ap.spec.rules[0].from[0].source.principals = ["cluster.local/ns/shop/sa/web"]; },
            expect: [],
        },
        { name: "a namespace-wide policy in a namespace without workloads (IST0127)", change: (o) => { const ap = find(o, "AuthorizationPolicy", "web-from-ingress"); delete ap.spec.selector; ap.metadata.namespace = "empty"; }, expect: ["authorization-policy-workloads:IST0127"] },
    ]);
});
