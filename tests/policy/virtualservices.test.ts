import * as assert from "assert";
import { KubeObject } from "../../policy-pack/rules";
import { Editable, find, NS, virtualService } from "./fixtures/mesh";
import { cases, messages } from "./helpers";

type Objects = Parameters<typeof find>[0];
const ingress = (o: Objects) => find(o, "VirtualService", "web-ingress");
const ingressDest = (o: Objects) => ingress(o).spec.http[0].route[0].destination;
const api = (o: Objects) => find(o, "VirtualService", "api");
const apiDest = (o: Objects, i = 0) => api(o).spec.http[0].route[i].destination;

function apiCopy(name: string, extra: Record<string, unknown> = {}): KubeObject {
    return virtualService(name, { hosts: ["api"], http: [{ route: [{ destination: { host: "api", subset: "v1" } }] }], ...extra });
}

describe("policy: virtual-service-references", () => {
    cases([
        { name: "a missing gateway (IST0101)", change: (o) => { ingress(o).spec.gateways = ["web-gatway"]; }, expect: ["virtual-service-references:IST0101", "virtual-service-gateway-hosts:IST0132"] },
        { name: "a namespace-qualified gateway resolves", change: (o) => { ingress(o).spec.gateways = [`${NS}/web-gateway`]; }, expect: [] },
        { name: "a gateway in another namespace is another gateway (IST0101)", change: (o) => { ingress(o).spec.gateways = ["other/web-gateway"]; }, expect: ["virtual-service-references:IST0101", "virtual-service-gateway-hosts:IST0132"] },
        { name: "the mesh gateway needs no object", change: (o) => { ingress(o).spec.gateways.push("mesh"); }, expect: [] },
        { name: "an unknown destination host (IST0101)", change: (o) => { ingressDest(o).host = "webb"; }, expect: ["virtual-service-references:IST0101"] },
        { name: "the FQDN of the Service resolves", change: (o) => { ingressDest(o).host = `web.${NS}.svc.cluster.local`; }, expect: [] },
        { name: "name.namespace is not a Kubernetes FQDN for istioctl (IST0101)", change: (o) => { ingressDest(o).host = `web.${NS}`; }, expect: ["virtual-service-references:IST0101"] },
        { name: "a short name resolves only in the VirtualService's namespace (IST0101)", change: (o) => { find(o, "Service", "web").metadata.namespace = "front"; }, expect: ["virtual-service-references:IST0101"] },
        { name: "a destination port the Service lacks (IST0101)", change: (o) => { ingressDest(o).port.number = 8080; }, expect: ["virtual-service-references:IST0101"] },
        { name: "a subset no DestinationRule defines (IST0101)", change: (o) => { apiDest(o, 1).subset = "v3"; }, expect: ["virtual-service-references:IST0101"] },
        { name: "a mirror to an unknown host (IST0101)", change: (o) => { api(o).spec.http[0].mirror = { host: "shadow" }; }, expect: ["virtual-service-references:IST0101"] },
        { name: "a tcp route to an unknown host (IST0101)", change: (o) => { api(o).spec.tcp = [{ route: [{ destination: { host: "db", port: { number: 5432 } } }] }]; }, expect: ["virtual-service-references:IST0101"] },
        { name: "networking.istio.io/v1alpha3 is matched like v1 (IST0101)", change: (o) => { ingress(o).apiVersion = "networking.istio.io/v1alpha3"; ingressDest(o).host = "webb"; }, expect: ["virtual-service-references:IST0101"] },
        {
            name: "a host hidden by the Service's exportTo annotation (IST0101)",
            change: (o) => { find(o, "Service", "api").metadata.annotations = { "networking.istio.io/exportTo": "other" }; },
            expect: ["virtual-service-references:IST0101", "virtual-service-references:IST0101", "destination-rule-host:IST0174"],
        },
    ]);

    it("says what it looked for", () => {
        const objects = [virtualService("v", { hosts: ["x"], gateways: ["gw"], http: [{ route: [{ destination: { host: "nope" } }] }] })];
        assert.deepStrictEqual(messages(objects, "virtual-service-references"), [
            "gateway gw not found (looked for shop/gw)",
            "http[0].route[0]: host nope matches no Service or ServiceEntry visible from namespace shop",
        ]);
    });
});

describe("policy: virtual-service-destination-port", () => {
    cases([
        {
            name: "routes without a port to a multi-port Service (IST0112)",
            change: (o) => { find(o, "Service", "api").spec.ports.push({ name: "grpc", port: 9090, targetPort: 9090 }); },
            expect: ["virtual-service-destination-port:IST0112", "virtual-service-destination-port:IST0112"],
        },
        {
            name: "a port on the route satisfies it",
            change: (o) => { find(o, "Service", "web").spec.ports.push({ name: "grpc", port: 9090, targetPort: 9090 }); },
            expect: [],
        },
    ]);
});

describe("policy: virtual-service-gateway-hosts", () => {
    cases([
        { name: "a host the gateway does not serve (IST0132)", change: (o) => { ingress(o).spec.hosts = ["other.example.com"]; }, expect: ["virtual-service-gateway-hosts:IST0132"] },
        { name: "a wildcard gateway host serves the VirtualService host", change: (o) => { find(o, "Gateway", "web-gateway").spec.servers.forEach((s: Editable) => { s.hosts = ["*.example.com"]; }); }, expect: [] },
        { name: "./host serves the gateway's own namespace", change: (o) => { find(o, "Gateway", "web-gateway").spec.servers[0].hosts = ["./shop.example.com"]; }, expect: [] },
        {
            name: "ns/host serves only that namespace (IST0132)",
            change: (o) => { find(o, "Gateway", "web-gateway").spec.servers.forEach((s: Editable) => { s.hosts = ["front/shop.example.com"]; }); },
            expect: ["virtual-service-gateway-hosts:IST0132"],
        },
    ]);
});

describe("policy: virtual-service-mesh-host-conflicts", () => {
    cases([
        { name: "two mesh VirtualServices for one host (IST0109)", change: (o) => { o.push(apiCopy("api-2")); }, expect: ["virtual-service-mesh-host-conflicts:IST0109", "virtual-service-mesh-host-conflicts:IST0109"] },
        { name: "short name and FQDN are the same host (IST0109)", change: (o) => { o.push(apiCopy("api-2", { hosts: [`api.${NS}.svc.cluster.local`] })); }, expect: ["virtual-service-mesh-host-conflicts:IST0109", "virtual-service-mesh-host-conflicts:IST0109"] },
        {
            name: "a namespace-local copy still conflicts with one exported everywhere (IST0109)",
            change: (o) => { o.push(apiCopy("api-2", { exportTo: ["."] })); },
            expect: ["virtual-service-mesh-host-conflicts:IST0109", "virtual-service-mesh-host-conflicts:IST0109"],
        },
        {
            name: "disjoint exportTo scopes do not conflict",
            change: (o) => { api(o).spec.exportTo = ["."]; o.push(apiCopy("api-2", { exportTo: ["other"], hosts: [`api.${NS}.svc.cluster.local`] })); },
            expect: [],
        },
        {
            name: "a wildcard host exported everywhere covers a namespace-local host (IST0109)",
            change: (o) => { api(o).spec.exportTo = ["."]; o.push(apiCopy("api-2", { hosts: ["*.svc.cluster.local"] })); },
            expect: ["virtual-service-mesh-host-conflicts:IST0109", "virtual-service-mesh-host-conflicts:IST0109"],
        },
        { name: "a gateway-bound VirtualService does not conflict with the mesh one", change: (o) => { o.push(apiCopy("api-2", { gateways: ["web-gateway"], hosts: ["shop.example.com"] })); }, expect: [] },
    ]);
});
