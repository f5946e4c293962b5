import { edit, Editable, find, gateway, NS } from "./fixtures/mesh";
import { cases } from "./helpers";

type Objects = Parameters<typeof find>[0];
const gw = (o: Objects) => find(o, "Gateway", "web-gateway");
const server = (o: Objects, i: number) => gw(o).spec.servers[i];
const clusterIngress = (o: Objects) => find(o, "ManagedCluster", "aks").properties.serviceMeshProfile.istio.components.ingressGateways;

function copyOfGateway(name: string, change: (spec: Editable) => void = () => undefined): Editable {
    const g = edit(gateway());
    g.metadata.name = name;
    change(g.spec);
    return g;
}

describe("policy: gateway-selector", () => {
    cases([
        { name: "the upstream istio: ingressgateway matches nothing on AKS (IST0101)", change: (o) => { gw(o).spec.selector = { istio: "ingressgateway" }; }, expect: ["gateway-selector:IST0101"] },
        { name: "a selector without the istio label (IST0101)", change: (o) => { gw(o).spec.selector = { app: "aks-istio-ingressgateway-external" }; }, expect: ["gateway-selector:IST0101"] },
        { name: "networking.istio.io/v1beta1 is matched like v1 (IST0101)", change: (o) => { gw(o).apiVersion = "networking.istio.io/v1beta1"; gw(o).spec.selector = { istio: "ingressgateway" }; }, expect: ["gateway-selector:IST0101"] },
        { name: "a further selector label the AKS gateway pods lack matches nothing (IST0101)", change: (o) => { gw(o).spec.selector.app = "canary"; }, expect: ["gateway-selector:IST0101"] },
        { name: "a further selector label the AKS gateway pods carry still matches", change: (o) => { gw(o).spec.selector.app = "aks-istio-ingressgateway-external"; }, expect: [] },
        { name: "a configured egress gateway label is accepted", change: (o) => { gw(o).spec.selector = { istio: "shop-egress" }; }, config: { gatewaySelectors: ["aks-istio-ingressgateway-external", "shop-egress"] }, expect: [] },
    ]);
});

describe("policy: gateway-ingress-enabled", () => {
    cases([
        { name: "the internal gateway is not enabled on the cluster (IST0101)", change: (o) => { gw(o).spec.selector.istio = "aks-istio-ingressgateway-internal"; }, expect: ["gateway-ingress-enabled:IST0101"] },
        { name: "a disabled external gateway does not serve (IST0101)", change: (o) => { clusterIngress(o)[0].enabled = false; }, expect: ["gateway-ingress-enabled:IST0101"] },
        {
            name: "the internal gateway, when enabled, is fine",
            change: (o) => { gw(o).spec.selector.istio = "aks-istio-ingressgateway-internal"; clusterIngress(o)[0].mode = "Internal"; },
            expect: [],
        },
    ]);
});

describe("policy: gateway-ports", () => {
    cases([
        { name: "the upstream sample port 8080 is not on the AKS Service (IST0162)", change: (o) => { server(o, 0).port.number = 8080; }, expect: ["gateway-ports:IST0162"] },
        { name: "a port on a configured non-AKS gateway is not judged", change: (o) => { gw(o).spec.selector.istio = "mine"; server(o, 0).port.number = 8080; }, config: { gatewaySelectors: ["mine"] }, expect: [] },
    ]);
});

describe("policy: gateway-tls", () => {
    cases([
        { name: "HTTPS without tls is refused", change: (o) => { delete server(o, 1).tls; }, expect: ["gateway-tls"] },
        { name: "SIMPLE without credentialName is refused (and without certificate files, by istiod too)", change: (o) => { delete server(o, 1).tls.credentialName; }, expect: ["gateway-tls", "gateway-istiod", "gateway-istiod"] },
        { name: "credentialNames is accepted", change: (o) => { delete server(o, 1).tls.credentialName; server(o, 1).tls.credentialNames = ["rsa", "ecdsa"]; }, expect: [] },
        { name: "TLS 1.1 is refused", change: (o) => { server(o, 1).tls.minProtocolVersion = "TLSV1_1"; }, expect: ["gateway-tls"] },
        { name: "TLS_AUTO keeps Envoy's 1.2 minimum", change: (o) => { server(o, 1).tls.minProtocolVersion = "TLS_AUTO"; }, expect: [] },
        { name: "PASSTHROUGH needs no credential", change: (o) => { server(o, 1).tls = { mode: "PASSTHROUGH" }; server(o, 1).port.protocol = "TLS"; }, expect: [] },
    ]);
});

describe("policy: gateway-wildcard-host and gateway-wildcard-host-dev", () => {
    cases([
        { name: "a bare * host is refused in prod", change: (o) => { server(o, 0).hosts = ["*"]; }, expect: ["gateway-wildcard-host"] },
        { name: "*/* is a bare * too", change: (o) => { server(o, 0).hosts = ["*/*"]; }, expect: ["gateway-wildcard-host"] },
        { name: "a domain wildcard is fine", change: (o) => { server(o, 0).hosts = ["*.example.com"]; }, expect: [] },
        { name: "in dev a bare * is advisory", change: (o) => { server(o, 0).hosts = ["*"]; }, config: { environment: "dev" }, expect: ["gateway-wildcard-host-dev"] },
    ]);
});

describe("policy: gateway-conflicts", () => {
    cases([
        { name: "two gateways serving one host on the same selector and ports conflict (IST0145)", change: (o) => { o.push(copyOfGateway("web-gateway-2")); }, expect: Array(4).fill("gateway-conflicts:IST0145") },
        {
            name: "a wildcard overlapping a host conflicts (IST0145)",
            change: (o) => { o.push(copyOfGateway("catch-all", (s) => { s.servers = [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*.example.com"] }]; })); },
            expect: Array(2).fill("gateway-conflicts:IST0145"),
        },
        { name: "distinct hosts do not conflict", change: (o) => { o.push(copyOfGateway("admin", (s) => { s.servers.forEach((x: Editable) => { x.hosts = ["admin.example.com"]; }); })); }, expect: [] },
        {
            name: "another gateway workload does not conflict",
            change: (o) => { o.push(copyOfGateway("internal", (s) => { s.selector = { istio: "aks-istio-ingressgateway-internal" }; })); },
            expect: ["gateway-ingress-enabled:IST0101"],
        },
        {
            name: "a sub-selector binding the same gateway pods conflicts (IST0145)",
            change: (o) => { o.push(copyOfGateway("web-gateway-2", (s) => { s.selector = { app: "aks-istio-ingressgateway-external", istio: "aks-istio-ingressgateway-external" }; })); },
            expect: Array(4).fill("gateway-conflicts:IST0145"),
        },
        {
            name: "a sub-selector matching no pod does not conflict (but selects nothing: IST0101)",
            change: (o) => { o.push(copyOfGateway("web-gateway-2", (s) => { s.selector = { app: "canary", istio: "aks-istio-ingressgateway-external" }; })); },
            expect: ["gateway-selector:IST0101"],
        },
        {
            name: "the same gateway name in another namespace is another gateway (IST0145)",
            change: (o) => { const g = copyOfGateway("web-gateway"); g.metadata.namespace = `${NS}-2`; o.push(g); },
            expect: Array(4).fill("gateway-conflicts:IST0145"),
        },
    ]);
});
