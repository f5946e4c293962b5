import * as assert from "assert";
import { CATALOG } from "../components/apps/catalog";
import { AppEgress } from "../components/egress";
import { EGRESS_CALLERS_ANNOTATION, SYSTEM_CA_BUNDLE } from "../components/egress-hosts";
import { AppSecurityPolicy } from "../components/security";
import { evaluate, KubeObject, PolicyConfigInput, toPolicyObject, toPolicyPackConfig } from "../policy-pack/rules";
import { EGRESS_NAMESPACE, egressGateway as egressGatewayRef, INGRESS_GATEWAYS } from "../policy-pack/lib/aks";
import { packSettings } from "../config";
import { offlineMocks } from "../tools/offline/mocks";
import { meshGraph } from "../tools/offline/meshgraph";
import { StackRun } from "../tools/offline/runtime";
import { loadSchemaBundle, schemaDirForRevision, validateObjects } from "../tools/schema";
import { runComponents } from "./component-run";
import { assertRefused, configValues, kubeObjects, parseStackConfig, stackConfig, stackRun, variantRun } from "./helpers";

type Obj = Record<string, any>;
const APPS = "aks-istio-mesh:apps";
const ISTIO_GROUPS = /^(networking|security)\.istio\.io\//;
const STACKS = ["dev", "prod"] as const;

/** A small app of a team's own whose web calls bookinfo's ratings, across namespaces. */
const reviewsBoard = {
    name: "board",
    services: [
        { name: "web", image: "docker.io/nginxinc/nginx-unprivileged:1.27.3", ports: [{ port: 8080, protocol: "http" }],
            resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } } },
    ],
    calls: [{ from: "web", to: "bookinfo/ratings", port: 9080 }],
};

const withBoard = (v: Record<string, any>) => { v[APPS] = ["pets", "bookinfo", { name: "board", spec: structuredClone(reviewsBoard) }]; };

function objectsOf(run: StackRun): Obj[] {
    return run.resources.map((r) => toPolicyObject(r.type, r.name, structuredClone(r.inputs))).filter((o): o is KubeObject => o !== undefined) as Obj[];
}

const istioObjects = (objects: readonly Obj[]) => objects.filter((o) => ISTIO_GROUPS.test(String(o.apiVersion))) as KubeObject[];
const named = (objects: readonly Obj[], kind: string, ns: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata?.namespace === ns && o.metadata?.name === name);

function policyFile(stack: string) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`../policy-pack/config/${stack}.json`) as Record<string, PolicyConfigInput>;
}

describe("an open app model", () => {
    const bundle = loadSchemaBundle(schemaDirForRevision("asm-1-30"));

    describe("calls across apps", () => {
        for (const stack of STACKS) {
            it(`${stack}: admits the caller's identity at the callee, widens only the caller's Sidecar, and passes the pack and the CRDs`, async () => {
                const run = await variantRun(stack, withBoard);
                const objects = objectsOf(run);
                const ratings = named(objects, "AuthorizationPolicy", "bookinfo", "allow-ratings")!;
                assert.deepStrictEqual(ratings.spec.rules, [{
                    from: [{ source: { principals: ["cluster.local/ns/board/sa/web", "cluster.local/ns/bookinfo/sa/bookinfo-reviews"] } }],
                    to: [{ operation: { ports: ["9080"] } }],
                }]);
                const sidecar = (ns: string) => named(objects, "Sidecar", ns, "default")!.spec.egress[0].hosts;
                assert.deepStrictEqual(sidecar("board").slice(0, 3), ["./*", "aks-istio-system/*", "bookinfo/ratings.bookinfo.svc.cluster.local"]);
                assert.ok(!sidecar("bookinfo").some((h: string) => h.startsWith("board/")), "the callee's scope is unchanged");
                assert.ok(!sidecar("pets").some((h: string) => h.startsWith("bookinfo/")), "an app that calls nothing outside stays in its namespace");
                // The caller sees the callee's routes and subsets, so its calls follow the callee's traffic settings.
                assert.deepStrictEqual(named(objects, "VirtualService", "bookinfo", "ratings")!.spec.exportTo, [".", "board"]);
                assert.deepStrictEqual(named(objects, "DestinationRule", "bookinfo", "ratings")!.spec.exportTo, [".", "board"]);
                assert.deepStrictEqual(named(objects, "DestinationRule", "bookinfo", "details")!.spec.exportTo, ["."]);
                assert.deepStrictEqual(evaluate(objects as KubeObject[], { policies: policyFile(stack) }).filter((v) => v.enforcement === "mandatory"), []);
                assert.deepStrictEqual(validateObjects(istioObjects(objects), bundle!), []);
                const edge = meshGraph(objects).edges.find((e) => e.from === "board/web");
                assert.deepStrictEqual(edge && [edge.to, edge.authorized, edge.mtls], ["bookinfo/ratings", true, true]);
            });
        }

        const refusals: [string, (spec: Obj) => void, string, RegExp][] = [
            ["an app the stack does not deploy", (s) => { s.calls[0].to = "shop/cart"; }, `${APPS}[2].spec.calls[0].to`, /"shop\/cart" calls app "shop", which the stack does not deploy; apps: pets, bookinfo, board/],
            ["a service the other app lacks", (s) => { s.calls[0].to = "bookinfo/rating"; }, `${APPS}[2].spec.calls[0].to`, /"rating" is not a service of bookinfo; services: productpage, details, reviews, ratings/],
            ["a port the other app's service lacks", (s) => { s.calls[0].port = 9081; }, `${APPS}[2].spec.calls[0].to`, /bookinfo\/ratings has no port 9081; its ports: 9080/],
            ["the app itself named as another", (s) => { s.calls[0].to = "board/web"; }, `${APPS}[2].spec.calls[0].to`, /names the app itself; write the service alone: "web"/],
            ["a malformed reference", (s) => { s.calls[0].to = "bookinfo/ratings/v1"; }, `${APPS}[2].spec.calls[0].to`, /is not a service name or <app>\/<service>/],
        ];
        for (const [what, edit, key, says] of refusals) {
            it(`refuses a call to ${what} in one line`, () => {
                const spec = structuredClone(reviewsBoard) as Obj;
                edit(spec);
                assertRefused(() => parseStackConfig("dev", configValues("dev", (v) => { v[APPS] = ["pets", "bookinfo", { name: "board", spec }]; })), key, says);
            });
        }
    });

    describe("per-app ingress gateways", () => {
        const choose = (gateways: Record<string, string>, internal = true) => (v: Record<string, any>) => {
            v["aks-istio-mesh:mesh"].ingressGateways = { external: true, internal };
            v["aks-istio-mesh:ingress"].gateways = gateways;
        };
        for (const stack of STACKS) {
            it(`${stack}: bookinfo on the internal gateway, pets on both: a Gateway each, routes and authorization that follow`, async () => {
                const run = await variantRun(stack, choose({ bookinfo: "internal", pets: "both" }));
                const objects = objectsOf(run);
                const { hosts } = stackConfig(stack).ingress;
                const gateways = kubeObjects(run, "Gateway").map((g) => [g.metadata.name, g.spec.selector, g.spec.servers[0].hosts]);
                assert.deepStrictEqual(gateways, [
                    ["mesh-ingress", INGRESS_GATEWAYS.External.selector, [`pets/${hosts.pets}`]],
                    ["mesh-ingress-internal", INGRESS_GATEWAYS.Internal.selector, [`pets/${hosts.pets}`, `bookinfo/${hosts.bookinfo}`]],
                ]);
                assert.deepStrictEqual(named(objects, "VirtualService", "pets", "pets-ingress")!.spec.gateways, ["aks-istio-ingress/mesh-ingress", "aks-istio-ingress/mesh-ingress-internal"]);
                assert.deepStrictEqual(named(objects, "VirtualService", "bookinfo", "bookinfo-ingress")!.spec.gateways, ["aks-istio-ingress/mesh-ingress-internal"]);
                const principals = (ns: string, name: string) => named(objects, "AuthorizationPolicy", ns, name)!.spec.rules.flatMap((r: Obj) => r.from[0].source.principals);
                assert.deepStrictEqual(principals("bookinfo", "allow-productpage"), [INGRESS_GATEWAYS.Internal.principal], "the external gateway cannot reach bookinfo");
                assert.deepStrictEqual(principals("pets", "allow-store-front"), [INGRESS_GATEWAYS.External.principal, INGRESS_GATEWAYS.Internal.principal]);
                assert.deepStrictEqual(evaluate(objects as KubeObject[], { policies: policyFile(stack) }).filter((v) => v.enforcement === "mandatory"), []);
                assert.deepStrictEqual(validateObjects(istioObjects(objects), bundle!), []);
                const fromGateways = meshGraph(objects).edges.filter((e) => e.from.startsWith("gateway:")).map((e) => `${e.from} -> ${e.to} ${e.authorized}`).sort();
                assert.deepStrictEqual(fromGateways, [
                    "gateway:aks-istio-ingressgateway-external -> pets/store-front true",
                    "gateway:aks-istio-ingressgateway-internal -> bookinfo/productpage true",
                    "gateway:aks-istio-ingressgateway-internal -> pets/store-front true",
                ]);
            });
        }

        it("keeps the single external Gateway when nothing is chosen", async () => {
            const run = await stackRun("dev");
            assert.deepStrictEqual(kubeObjects(run, "Gateway").map((g) => g.metadata.name), ["mesh-ingress"]);
        });

        const refusals: [string, (v: Record<string, any>) => void, string, RegExp][] = [
            ["a gateway the mesh does not enable", choose({ bookinfo: "internal" }, false), "aks-istio-mesh:ingress.gateways.bookinfo",
                /"internal" needs the internal ingress gateway, which aks-istio-mesh:mesh\.ingressGateways does not enable; enable it there or choose "external"/],
            ["both gateways with one enabled", choose({ pets: "both" }, false), "aks-istio-mesh:ingress.gateways.pets", /needs the internal ingress gateway/],
            ["an unknown choice", choose({ pets: "public" }), "aks-istio-mesh:ingress.gateways.pets", /"public" is not allowed; allowed: external, internal, both/],
            ["an app that is not one", choose({ shop: "internal" }), "aks-istio-mesh:ingress.gateways.shop", /"shop" is not an app/],
            ["an app the stack does not deploy", (v) => { choose({ bookinfo: "internal" })(v); v[APPS] = ["pets"]; }, "aks-istio-mesh:ingress.gateways.bookinfo", /is not deployed with ingress routes/],
        ];
        for (const [what, edit, key, says] of refusals) {
            it(`refuses ${what} in one line`, () => {
                assertRefused(() => parseStackConfig("dev", configValues("dev", edit)), key, says);
            });
        }
    });

    describe("end-user auth", () => {
        const ISSUER = { issuer: "https://login.example.com/", jwksUri: "https://login.example.com/.well-known/jwks.json" };
        /** Bookinfo whose product API (the last ingress route) needs a token of the app's issuer. */
        const guarded = (edit: (s: Obj) => void = () => undefined) => (v: Record<string, any>) => {
            const spec = structuredClone(CATALOG.bookinfo) as Obj;
            spec.auth = { ...ISSUER };
            const [products] = spec.ingress[0].paths.splice(4, 1);
            spec.ingress.push({ service: "productpage", port: 9080, paths: [products], requireAuth: true });
            edit(spec);
            v[APPS] = ["pets", { name: "bookinfo", spec }];
        };
        for (const stack of STACKS) {
            it(`${stack}: a RequestAuthentication for the entry service, and the gateway admitted to the guarded route only with a token`, async () => {
                const run = await variantRun(stack, guarded());
                const objects = objectsOf(run);
                assert.deepStrictEqual(named(objects, "RequestAuthentication", "bookinfo", "end-user-productpage")!.spec,
                    { selector: { matchLabels: { app: "productpage" } }, jwtRules: [ISSUER] });
                const gateway = "cluster.local/ns/aks-istio-ingress/sa/aks-istio-ingressgateway-external";
                assert.deepStrictEqual(named(objects, "AuthorizationPolicy", "bookinfo", "allow-productpage")!.spec.rules, [
                    { from: [{ source: { principals: [gateway] } }], to: [{ operation: { ports: ["9080"], paths: ["/productpage", "/static*", "/login", "/logout"] } }] },
                    { from: [{ source: { principals: [gateway], requestPrincipals: ["https://login.example.com//*"] } }], to: [{ operation: { ports: ["9080"], paths: ["/api/v1/products*"] } }] },
                ]);
                assert.ok(!objects.some((o) => o.kind === "RequestAuthentication" && o.metadata.namespace === "pets"), "apps without auth get none");
                assert.deepStrictEqual(evaluate(objects as KubeObject[], { policies: policyFile(stack) }).filter((v) => v.enforcement === "mandatory"), []);
                assert.deepStrictEqual(validateObjects(istioObjects(objects), bundle!), []);
                const entry = meshGraph(objects).edges.find((e) => e.to === "bookinfo/productpage")!;
                assert.match(entry.label ?? "", /· token for \/api\/v1\/products\*$/);
            });
        }

        const refusals: [string, (s: Obj) => void, string, RegExp][] = [
            ["a required token without an issuer", (s) => { delete s.auth; }, `${APPS}[1].spec.ingress[1].requireAuth`, /needs an issuer: set auth \{ issuer, jwksUri \} on the route or on the app/],
            ["keys fetched over plain HTTP", (s) => { s.auth.jwksUri = "http://login.example.com/keys"; }, `${APPS}[1].spec.auth.jwksUri`, /is not an https URL/],
            ["an issuer on a route that requires nothing", (s) => { s.ingress[0].auth = { ...ISSUER }; }, `${APPS}[1].spec.ingress[0].auth`, /names an issuer the route does not require/],
            ["an app issuer no route uses", (s) => { s.ingress[1].auth = { ...ISSUER }; }, `${APPS}[1].spec.auth`, /is the issuer of no route/],
        ];
        for (const [what, edit, key, says] of refusals) {
            it(`refuses ${what} in one line`, () => {
                assertRefused(() => parseStackConfig("dev", configValues("dev", guarded(edit))), key, says);
            });
        }
    });

    describe("autoscaling and persistent volumes", () => {
        const resources = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
        const shop = {
            name: "shop",
            services: [
                { name: "web", image: "docker.io/nginxinc/nginx-unprivileged:1.27.3", ports: [{ port: 8080, protocol: "http" }], resources,
                    versions: [{ name: "v1" }, { name: "v2" }], autoscaling: { minReplicas: 1, maxReplicas: 6, cpuUtilization: 70 } },
                { name: "db", workload: "StatefulSet", image: "docker.io/library/postgres:17.2", ports: [{ port: 5432, protocol: "tcp" }], resources,
                    volumeClaims: [{ name: "data", mountPath: "/var/lib/postgresql/data", size: "8Gi", storageClassName: "managed-csi" }] },
            ],
            calls: [{ from: "web", to: "db", port: 5432 }],
        };
        const withShop = (spec: Obj) => (v: Record<string, any>) => {
            v[APPS] = [{ name: "shop", spec }];
            // The stack's hosts for pets and bookinfo would name apps it no longer deploys.
            v["aks-istio-mesh:ingress"].hosts = Object.fromEntries(Object.entries(v["aks-istio-mesh:ingress"].hosts ?? {}).filter(([app]) => app === "shop"));
        };
        for (const stack of STACKS) {
            it(`${stack}: an HPA (autoscaling/v2, CPU) per version owns the replicas, at least what the PDB needs; the StatefulSet claims its volume`, async () => {
                const run = await variantRun(stack, withShop(structuredClone(shop)));
                const ha = stackConfig(stack).environment.highAvailability;
                const hpas = kubeObjects(run, "HorizontalPodAutoscaler");
                assert.deepStrictEqual(hpas.map((h) => [h.apiVersion, h.metadata.name, h.spec.scaleTargetRef, h.spec.minReplicas, h.spec.maxReplicas, h.spec.metrics]),
                    ["v1", "v2"].map((v) => ["autoscaling/v2", `web-${v}`, { apiVersion: "apps/v1", kind: "Deployment", name: `web-${v}` }, ha ? 2 : 1, 6,
                        [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }]]));
                for (const d of kubeObjects(run, "Deployment").filter((x) => x.metadata.namespace === "shop")) {
                    assert.strictEqual(d.spec.replicas, undefined, `${d.metadata.name}: a replica count would fight the HPA`);
                }
                assert.deepStrictEqual(kubeObjects(run, "PodDisruptionBudget").filter((p) => p.metadata.namespace === "shop").map((p) => p.metadata.name), ha ? ["web"] : []);
                const db = kubeObjects(run, "StatefulSet").find((x) => x.metadata.name === "db")!;
                assert.deepStrictEqual(db.spec.volumeClaimTemplates, [{ metadata: { name: "data", labels: { app: "db" } },
                    spec: { accessModes: ["ReadWriteOnce"], storageClassName: "managed-csi", resources: { requests: { storage: "8Gi" } } } }]);
                assert.deepStrictEqual(db.spec.template.spec.containers[0].volumeMounts, [{ name: "data", mountPath: "/var/lib/postgresql/data" }]);
                const violations = evaluate(objectsOf(run) as KubeObject[], { policies: policyFile(stack) });
                assert.deepStrictEqual(violations.filter((v) => v.enforcement === "mandatory"), []);
                assert.ok(!violations.some((v) => v.policy === "workload-availability" && v.name?.startsWith("web-")), "the HPA's floor satisfies availability");
            });
        }

        const refusals: [string, string, (s: Obj) => void, string, RegExp][] = [
            ["replicas beside autoscaling", "dev", (s) => { s.services[0].replicas = 3; }, `${APPS}[0].spec.services[0].autoscaling`, /replicas would fight over the replica count/],
            ["autoscaling a StatefulSet", "dev", (s) => { s.services[1].autoscaling = { minReplicas: 1, maxReplicas: 3, cpuUtilization: 80 }; }, `${APPS}[0].spec.services[1].autoscaling`, /is for Deployments; a StatefulSet keeps its declared replicas/],
            ["autoscaling a singleton", "dev", (s) => { s.services[0].singleton = true; }, `${APPS}[0].spec.services[0].autoscaling`, /contradicts singleton/],
            ["a maxReplicas of zero", "dev", (s) => { s.services[0].autoscaling.maxReplicas = 0; s.services[0].autoscaling.minReplicas = 2; }, `${APPS}[0].spec.services[0].autoscaling.maxReplicas`, /must be an integer from 1 to 1000/],
            ["maxReplicas under minReplicas", "dev", (s) => { s.services[0].autoscaling.minReplicas = 4; s.services[0].autoscaling.maxReplicas = 3; }, `${APPS}[0].spec.services[0].autoscaling.maxReplicas`, /maxReplicas must be at least minReplicas/],
            ["a CPU target above 100%", "dev", (s) => { s.services[0].autoscaling.cpuUtilization = 150; }, `${APPS}[0].spec.services[0].autoscaling.cpuUtilization`, /from 1 to 100/],
            ["one replica at most under high availability", "prod", (s) => { s.services[0].autoscaling.maxReplicas = 1; }, `${APPS}[0].spec.services[0].autoscaling.maxReplicas`, /is 1, below the 2 replicas high availability keeps/],
            ["volume claims on a Deployment", "dev", (s) => { s.services[0].volumeClaims = [{ name: "data", mountPath: "/data", size: "1Gi" }]; }, `${APPS}[0].spec.services[0].volumeClaims`, /needs workload: StatefulSet/],
            ["a claim size without a unit", "dev", (s) => { s.services[1].volumeClaims[0].size = "8"; }, `${APPS}[0].spec.services[1].volumeClaims[0].size`, /a storage size such as 8Gi/],
            ["a claim named like an emptyDir", "dev", (s) => { s.services[1].emptyDirs = { data: "/tmp" }; }, `${APPS}[0].spec.services[1].volumeClaims`, /"data" is already a volume of the service/],
        ];
        for (const [what, stack, edit, key, says] of refusals) {
            it(`refuses ${what} in one line (${stack})`, () => {
                const spec = structuredClone(shop) as Obj;
                edit(spec);
                assertRefused(() => parseStackConfig(stack, configValues(stack, withShop(spec))), key, says);
            });
        }
    });

    describe("external hosts (egress)", () => {
        // Prod's own egress gateway left out: these cases are about a stack without one.
        const withoutGateway = (v: Record<string, any>) => { delete v["aks-istio-mesh:mesh"].egressGateway; };
        const prodEgress = (v: Record<string, any>) => {
            withoutGateway(v);
            v[APPS] = [{ name: "pets", egress: [{ host: "api.github.com", port: 443, protocol: "https", from: ["store-front"] }] }, "bookinfo"];
        };
        for (const stack of STACKS) {
            it(`${stack}: without an egress gateway, one ServiceEntry (DNS) exported to the app's namespace alone`, async () => {
                const run = stack === "dev" ? await stackRun("dev") : await variantRun("prod", prodEgress);
                const entries = kubeObjects(run, "ServiceEntry").filter((o) => o.metadata.namespace === "pets");
                assert.deepStrictEqual(entries.map((e) => [e.metadata.name, e.metadata.annotations[EGRESS_CALLERS_ANNOTATION], e.spec]), [["egress-api-github-com", "store-front", {
                    hosts: ["api.github.com"], location: "MESH_EXTERNAL", resolution: "DNS", ports: [{ number: 443, name: "https-443", protocol: "HTTPS" }], exportTo: ["."],
                }]]);
                assert.ok(!kubeObjects(run, "Gateway").some((g) => g.metadata.namespace === EGRESS_NAMESPACE), "no egress Gateway without an egress gateway");
                const objects = objectsOf(run);
                // The pack config npm run policy:config writes for the stack as run (prod's without its gateway).
                const policies = stack === "dev" ? policyFile("dev") : toPolicyPackConfig(packSettings(parseStackConfig("prod", configValues("prod", prodEgress)))) as Record<string, PolicyConfigInput>;
                assert.deepStrictEqual(evaluate(objects as KubeObject[], { policies }).filter((v) => v.enforcement === "mandatory"), []);
                assert.deepStrictEqual(validateObjects(istioObjects(objects), bundle!), []);
                const edge = meshGraph(objects).edges.find((e) => e.to === "external:api.github.com");
                assert.deepStrictEqual(edge && [edge.from, edge.label], ["pets/store-front", "https:443"]);
            });
        }

        it("without a gateway, TLS the sidecar originates verifies the host against the public roots", async () => {
            const run = await variantRun("prod", (v) => {
                withoutGateway(v);
                v[APPS] = [{ name: "pets", egress: [{ host: "status.example.org", port: 80, protocol: "http", originateTls: true, from: ["order-service"] }] }, "bookinfo"];
            });
            const se = kubeObjects(run, "ServiceEntry").find((o) => o.metadata.namespace === "pets")!;
            assert.deepStrictEqual(se.spec.ports, [{ number: 80, name: "http-80", protocol: "HTTP", targetPort: 443 }]);
            const dr = kubeObjects(run, "DestinationRule").find((o) => o.metadata.name === "egress-status-example-org")!;
            assert.deepStrictEqual(dr.spec.trafficPolicy.portLevelSettings, [{ port: { number: 80 }, tls: { mode: "SIMPLE", sni: "status.example.org", caCertificates: SYSTEM_CA_BUNDLE } }]);
            assert.deepStrictEqual(validateObjects(istioObjects(objectsOf(run)), bundle!), []);
        });

        for (const stack of STACKS) {
            it(`${stack}: through an egress gateway, only the declaring service's identity is admitted, and the pack and the CRDs accept it all`, async () => {
                const gateway = egressGatewayRef("mesh-egress");
                const pets = { ...stackConfig(stack).apps.find((a) => a.spec.name === "pets")!.spec };
                const spec = { ...pets, egress: [
                    { host: "api.github.com", port: 443, protocol: "https" as const, from: ["store-front"] },
                    { host: "status.example.org", port: 80, protocol: "http" as const, originateTls: true, from: ["order-service", "store-front"] },
                ] };
                const { resources } = await runComponents(offlineMocks, () => {
                    new AppEgress("pets", { spec, namespace: "pets", egressGateway: gateway });
                    new AppSecurityPolicy("pets", { spec, namespace: "pets", mtlsExceptions: [], outboundTrafficPolicy: "REGISTRY_ONLY", egressGateway: gateway, stackApps: [spec] });
                });
                const rendered = resources.map((r) => toPolicyObject(r.type, r.name, r.inputs)).filter((o): o is KubeObject => o !== undefined) as Obj[];
                const of = (kind: string, ns: string, name: string) => named(rendered, kind, ns, name)!;

                assert.deepStrictEqual(of("Gateway", EGRESS_NAMESPACE, "pets-api-github-com").spec, {
                    selector: { istio: "mesh-egress" },
                    servers: [{ port: { number: 443, name: "tls-api-github-com", protocol: "TLS" }, hosts: ["api.github.com"], tls: { mode: "ISTIO_MUTUAL" } }],
                });
                assert.deepStrictEqual(of("AuthorizationPolicy", EGRESS_NAMESPACE, "pets-api-github-com").spec.rules, [{
                    from: [{ source: { principals: ["cluster.local/ns/pets/sa/store-front"] } }], when: [{ key: "connection.sni", values: ["api.github.com"] }],
                }]);
                assert.deepStrictEqual(of("AuthorizationPolicy", EGRESS_NAMESPACE, "pets-status-example-org").spec.rules[0].from[0].source.principals,
                    ["cluster.local/ns/pets/sa/order-service", "cluster.local/ns/pets/sa/store-front"]);
                assert.deepStrictEqual(of("ServiceEntry", "pets", "egress-api-github-com").spec.exportTo, [".", EGRESS_NAMESPACE]);
                const http = of("VirtualService", "pets", "egress-status-example-org").spec.http;
                assert.deepStrictEqual(http.map((r: Obj) => [r.match[0].gateways, r.route[0].destination]), [
                    [["mesh"], { host: "mesh-egress.aks-istio-egress.svc.cluster.local", subset: "status-example-org", port: { number: 443 } }],
                    [["aks-istio-egress/pets-status-example-org"], { host: "status.example.org", port: { number: 443 } }],
                ]);
                assert.deepStrictEqual(of("DestinationRule", "pets", "egress-status-example-org").spec.exportTo, [EGRESS_NAMESPACE], "the gateway originates the TLS");
                assert.deepStrictEqual(of("DestinationRule", "pets", "egress-gateway").spec.subsets.map((s: Obj) => s.trafficPolicy.portLevelSettings[0].tls),
                    [{ mode: "ISTIO_MUTUAL", sni: "api.github.com" }, { mode: "ISTIO_MUTUAL", sni: "status.example.org" }]);
                assert.ok(of("Sidecar", "pets", "default").spec.egress[0].hosts.includes("aks-istio-egress/mesh-egress.aks-istio-egress.svc.cluster.local"));
                assert.deepStrictEqual(validateObjects(istioObjects(rendered), bundle!), []);

                // In the stack's context: the stack's own pets objects give way to these.
                const replaced = new Set(rendered.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`));
                const stackObjects = objectsOf(await stackRun(stack)).filter((o) => !replaced.has(`${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`));
                const objects = [...stackObjects, ...rendered];
                const violations = evaluate(objects as KubeObject[], { policies: policyFile(stack), egressGateways: [gateway] });
                assert.deepStrictEqual(violations.filter((v) => v.enforcement === "mandatory"), []);
                // A pack not told of the gateway (the add-on creates it, not the stack) finds nothing for these to bind.
                const untoldPolicies = Object.fromEntries(Object.entries(policyFile(stack)).map(([k, c]) =>
                    [k, Object.fromEntries(Object.entries(c as Record<string, unknown>).filter(([setting]) => setting !== "egressGateways"))])) as Record<string, PolicyConfigInput>;
                const untold = evaluate(objects as KubeObject[], { policies: untoldPolicies }).filter((v) => v.enforcement === "mandatory");
                assert.deepStrictEqual([...new Set(untold.map((v) => v.policy))].sort(), ["gateway-selector", "virtual-service-references"]);
                const edges = meshGraph(objects).edges.filter((e) => e.to.startsWith("external:"));
                assert.deepStrictEqual(edges.map((e) => [e.from, e.to, e.authorized, e.label]).sort(), [
                    ["pets/order-service", "external:status.example.org", true, "via mesh-egress http:80"],
                    ["pets/store-front", "external:api.github.com", true, "via mesh-egress https:443"],
                    ["pets/store-front", "external:status.example.org", true, "via mesh-egress http:80"],
                ]);
            });
        }

        const refusals: [string, (v: Record<string, any>) => void, string, RegExp][] = [
            ["a wildcard host", (v) => { v[APPS] = [{ name: "pets", egress: [{ host: "*.github.com", port: 443, protocol: "https", from: ["store-front"] }] }]; },
                `${APPS}[0].egress[0].host`, /"\*\.github\.com" is a wildcard; name each host/],
            ["a cluster Service as an external host", (v) => { v[APPS] = [{ name: "pets", egress: [{ host: "ratings.bookinfo.svc.cluster.local", port: 9080, protocol: "http", from: ["store-front"] }] }]; },
                `${APPS}[0].egress[0].host`, /is a cluster Service, not an external host; list it in calls as <app>\/<service>/],
            ["a caller that is not a service of the app", (v) => { v[APPS] = [{ name: "pets", egress: [{ host: "api.github.com", port: 443, protocol: "https", from: ["storefront"] }] }]; },
                `${APPS}[0].egress[0].from[0]`, /"storefront" is not a service of pets; services: store-front/],
            ["TLS origination for a caller that speaks TLS", (v) => { v[APPS] = [{ name: "pets", egress: [{ host: "api.github.com", port: 443, protocol: "https", originateTls: true, from: ["store-front"] }] }]; },
                `${APPS}[0].egress[0].originateTls`, /needs protocol http/],
            ["an unknown protocol", (v) => { v[APPS] = [{ name: "pets", egress: [{ host: "db.example.org", port: 5432, protocol: "postgres", from: ["order-service"] }] }]; },
                `${APPS}[0].egress[0].protocol`, /"postgres" is not allowed; allowed: http, https, tls/],
            ["the same host twice", (v) => { v[APPS] = [{ name: "pets", egress: [1, 2].map(() => ({ host: "api.github.com", port: 443, protocol: "https", from: ["store-front"] })) }]; },
                `${APPS}[0].egress`, /duplicate egress host "api\.github\.com"/],
            ["one host declared by two apps", (v) => { v[APPS] = [
                { name: "pets", egress: [{ host: "api.github.com", port: 443, protocol: "https", from: ["store-front"] }] },
                { name: "bookinfo", egress: [{ host: "api.github.com", port: 443, protocol: "https", from: ["ratings"] }] },
            ]; }, `${APPS}[1].egress[0].host`, /"api\.github\.com" is already declared by app pets; an external host belongs to one app/],
            ["a host an entry adds beside its spec's own, already another app's", (v) => { v[APPS] = [
                { name: "pets", egress: [{ host: "api.github.com", port: 443, protocol: "https", from: ["store-front"] }] },
                { name: "board", spec: { ...structuredClone(reviewsBoard), calls: [], egress: [{ host: "api.example.org", port: 443, protocol: "https", from: ["web"] }] },
                    egress: [{ host: "api.github.com", port: 443, protocol: "https", from: ["web"] }] },
            ]; }, `${APPS}[1].egress[0].host`, /"api\.github\.com" is already declared by app pets/],
            ["a caller without its service list", (v) => { v[APPS] = [{ name: "pets", egress: [{ host: "api.github.com", port: 443, protocol: "https", from: [] }] }]; },
                `${APPS}[0].egress[0].from`, /needs at least one service of the app/],
        ];
        for (const [what, edit, key, says] of refusals) {
            it(`refuses ${what} in one line`, () => {
                assertRefused(() => parseStackConfig("dev", configValues("dev", edit)), key, says);
            });
        }
    });
});
