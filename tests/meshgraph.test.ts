import * as assert from "assert";
import { meshGraph, renderSvg, toDot } from "../tools/offline/meshgraph";

const ns = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "istio.io/rev": "asm-1-30" } } });
const svc = (name: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "shop" }, spec: { ports: [{ name: "http", port: 80 }] } });
const deploy = (app: string, version: string) => ({
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: `${app}-${version}`, namespace: "shop" },
    spec: { template: { metadata: { labels: { app, version } }, spec: { serviceAccountName: app } } },
});
const allow = (app: string, principals: string[]) => ({
    apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: app, namespace: "shop" },
    spec: { action: "ALLOW", selector: { matchLabels: { app } }, rules: [{ from: [{ source: { principals } }], to: [{ operation: { ports: ["80"] } }] }] },
});

const objects = [
    ns("shop"), svc("web"), svc("api"), deploy("web", "v1"), deploy("api", "v1"), deploy("api", "v2"),
    { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "default", namespace: "aks-istio-system" }, spec: { mtls: { mode: "STRICT" } } },
    { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "allow-nothing", namespace: "shop" }, spec: {} },
    allow("web", ["cluster.local/ns/aks-istio-ingress/sa/aks-istio-ingressgateway-external"]),
    allow("api", ["cluster.local/ns/shop/sa/web"]),
    { apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "ingress", namespace: "aks-istio-ingress" }, spec: { selector: { istio: "aks-istio-ingressgateway-external" }, servers: [] } },
    { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "web-ingress", namespace: "shop" },
        spec: { hosts: ["*"], gateways: ["aks-istio-ingress/ingress"], http: [{ match: [{ uri: { prefix: "/" } }], route: [{ destination: { host: "web" } }] }] } },
    { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "api", namespace: "shop" },
        spec: { hosts: ["api"], http: [
            { match: [{ headers: { "end-user": { exact: "jason" } } }], route: [{ destination: { host: "api", subset: "v2" } }] },
            { route: [{ destination: { host: "api", subset: "v1" }, weight: 90 }, { destination: { host: "api", subset: "v2" }, weight: 10 }], fault: { abort: { httpStatus: 500, percentage: { value: 100 } } } },
        ] } },
];

describe("mesh picture", () => {
    it("draws ingress → entry → callee with mTLS and authorization marks, weights, header routes and faults", () => {
        const g = meshGraph(objects);
        assert.deepStrictEqual(g.gateways, ["aks-istio-ingressgateway-external"]);
        const edges = g.edges.map((e) => [e.from, e.to, e.authorized, e.mtls]);
        assert.deepStrictEqual(edges, [
            ["gateway:aks-istio-ingressgateway-external", "shop/web", true, true],
            ["shop/web", "shop/api", true, true],
        ]);
        const api = g.nodes.find((n) => n.id === "shop/api")!;
        assert.deepStrictEqual(api.versions, [{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }]);
        assert.deepStrictEqual(api.notes, ["end-user=jason → v2", "fault: abort 500"]);
    });

    it("marks a call no policy allows, and plaintext when mTLS is not STRICT", () => {
        const g = meshGraph(objects.filter((o) => o.kind !== "PeerAuthentication" && !(o.kind === "AuthorizationPolicy" && o.metadata.name === "web")));
        const ingress = g.edges.find((e) => e.to === "shop/web")!;
        assert.strictEqual(ingress.authorized, false);
        assert.strictEqual(ingress.mtls, false);
    });

    it("marks plaintext where a workload exception relaxes the callee's port", () => {
        const exception = { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "mtls-exception-0", namespace: "shop" },
            spec: { selector: { matchLabels: { app: "api" } }, mtls: { mode: "STRICT" }, portLevelMtls: { 80: { mode: "PERMISSIVE" } } } };
        const g = meshGraph([...objects, exception]);
        assert.strictEqual(g.edges.find((e) => e.to === "shop/api")!.mtls, false);
        assert.strictEqual(g.edges.find((e) => e.to === "shop/web")!.mtls, true);
    });

    it("draws an external host from the services that declared it, marked unauthorized where the egress gateway's policy leaves a caller out", () => {
        const entry = { apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "egress-api-example-com", namespace: "shop", annotations: { "aks-istio-mesh/egress-from": "api,web" } },
            spec: { hosts: ["api.example.com"], location: "MESH_EXTERNAL", resolution: "DNS", ports: [{ number: 443, name: "https-443", protocol: "HTTPS" }] } };
        const direct = meshGraph([...objects, entry]);
        assert.deepStrictEqual(direct.externals, ["api.example.com"]);
        assert.deepStrictEqual(direct.edges.filter((e) => e.external).map((e) => [e.from, e.to, e.label, e.authorized, e.external!.tls]), [
            ["shop/api", "external:api.example.com", "https:443", true, true],
            ["shop/web", "external:api.example.com", "https:443", true, true],
        ]);
        const gateway = { apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "shop-api-example-com", namespace: "aks-istio-egress" },
            spec: { selector: { istio: "egress" }, servers: [{ port: { number: 443, name: "tls", protocol: "TLS" }, hosts: ["api.example.com"], tls: { mode: "ISTIO_MUTUAL" } }] } };
        const guard = { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "shop-api-example-com", namespace: "aks-istio-egress" },
            spec: { selector: { matchLabels: { istio: "egress" } }, rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/web"] } }], when: [{ key: "connection.sni", values: ["api.example.com"] }] }] } };
        const via = meshGraph([...objects, entry, gateway, guard]).edges.filter((e) => e.external);
        assert.deepStrictEqual(via.map((e) => [e.from, e.label, e.authorized]), [["shop/api", "via egress https:443", false], ["shop/web", "via egress https:443", true]]);
        assert.match(toDot(meshGraph([...objects, entry])), /"shop\/web" -> "external:api.example.com" \[label="https:443 TLS ✓"/);
    });

    it("renders SVG with Graphviz", async () => {
        const svg = await renderSvg(toDot(meshGraph(objects)));
        assert.match(svg, /^<\?xml/);
        assert.match(svg, /namespace shop/);
        assert.match(svg, /v1 90%/);
    });
});
