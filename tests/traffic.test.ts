import * as assert from "assert";
import { parse } from "yaml";
import { REVISION_ANNOTATION } from "../components/app";
import { INGRESS_GATEWAYS, ROOT_NAMESPACE } from "../policy-pack/lib/aks";
import type { KubeObject } from "../policy-pack/rules/types";
import { OFFLINE_INGRESS_IP } from "../tools/offline/mocks";
import { loadSchemaBundle, schemaDirForRevision, validateObjects } from "../tools/schema";
import { assertRefused, configValues, kubeObjects, ofType, one, parseStackConfig, stackConfig, stackRun, STACKS, variantRun } from "./helpers";

const APPS = "aks-istio-mesh:apps";
const MESH = "aks-istio-mesh:mesh";
const INGRESS = "aks-istio-mesh:ingress";
const ISTIO_KINDS = ["Gateway", "VirtualService", "DestinationRule", "Sidecar", "EnvoyFilter", "PeerAuthentication", "AuthorizationPolicy"];
type Run = Awaited<ReturnType<typeof stackRun>>;

const istioObjects = (run: Run) => ISTIO_KINDS.flatMap((k) => kubeObjects(run, k));
const byName = (objs: Record<string, any>[], ns: string, name: string) => objs.find((o) => o.metadata.namespace === ns && o.metadata.name === name)!;
const meshRoutes = (run: Run, ns: string, svc: string) => byName(kubeObjects(run, "VirtualService"), ns, svc).spec.http;

/** Where the default route of a service sends requests: subset → weight. */
function split(route: any): Record<string, number> {
    return Object.fromEntries(route.route.map((d: any) => [d.destination.subset, d.weight ?? 100]));
}

/** Bookinfo with its traffic overridden in the stack's app entry. */
function withTraffic(traffic: unknown) {
    return (v: Record<string, any>) => { v[APPS] = ["pets", { name: "bookinfo", traffic }]; };
}

/** Asserts the stack-config edit is refused with one message that starts with `key` and says `says`. */
function refused(edit: (v: Record<string, any>) => void, key: string, says: RegExp, stack = "dev"): void {
    assertRefused(() => parseStackConfig(stack, configValues(stack, edit)), key, says);
}

describe("mesh traffic", () => {
    const bundle = loadSchemaBundle(schemaDirForRevision("asm-1-30"));

    for (const stack of STACKS) {
        describe(`${stack} stack`, () => {
            it("uses networking.istio.io/v1 and security.istio.io/v1 (EnvoyFilter v1alpha3) for every Istio object", async () => {
                const objs = istioObjects(await stackRun(stack));
                assert.ok(objs.length > 30);
                for (const o of objs) {
                    const want = o.kind === "EnvoyFilter" ? "networking.istio.io/v1alpha3"
                        : ["PeerAuthentication", "AuthorizationPolicy"].includes(o.kind) ? "security.istio.io/v1" : "networking.istio.io/v1";
                    assert.strictEqual(o.apiVersion, want, `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
                    assert.ok(o.metadata.name && o.metadata.namespace, "explicit name and namespace");
                }
            });

            it("renders Istio objects the asm-1-30 CRDs accept (strict fields, CEL rules)", async () => {
                assert.ok(bundle, "the Istio 1.30 schema bundle is present");
                const objs = istioObjects(await stackRun(stack)) as KubeObject[];
                assert.deepStrictEqual(validateObjects(objs, bundle), []);
            });

            it("binds one Gateway to the external AKS gateway on 80/443 only, a host per app", async () => {
                const run = await stackRun(stack);
                const [gw] = kubeObjects(run, "Gateway");
                assert.strictEqual(kubeObjects(run, "Gateway").length, 1);
                assert.deepStrictEqual(gw.spec.selector, INGRESS_GATEWAYS.External.selector);
                assert.ok(gw.spec.servers.every((s: any) => INGRESS_GATEWAYS.External.ports.includes(s.port.number)));
                const { hosts: byApp, tls } = stackConfig(stack).ingress;
                const hosts = [`pets/${byApp.pets}`, `bookinfo/${byApp.bookinfo}`];
                for (const s of gw.spec.servers) {
                    assert.deepStrictEqual(s.hosts, hosts);
                }
                if (tls) {
                    assert.deepStrictEqual(gw.spec.servers.map((s: any) => [s.port.number, s.tls]), [
                        [80, { httpsRedirect: true }],
                        [443, { mode: "SIMPLE", credentialName: "mesh-ingress-tls", minProtocolVersion: "TLSV1_2" }],
                    ]);
                } else {
                    assert.deepStrictEqual(gw.spec.servers.map((s: any) => [s.port.number, s.tls]), [[80, undefined]]);
                }
            });

            it("sends each app's ingress paths to its entry service", async () => {
                const run = await stackRun(stack);
                const route = (ns: string) => {
                    const vs = byName(kubeObjects(run, "VirtualService"), ns, `${ns}-ingress`);
                    assert.deepStrictEqual(vs.spec.gateways, ["aks-istio-ingress/mesh-ingress"]);
                    assert.strictEqual(vs.spec.http.length, 1);
                    const h = vs.spec.http[0];
                    return { hosts: vs.spec.hosts, match: h.match, to: h.route.map((d: any) => `${d.destination.host}:${d.destination.port.number}`) };
                };
                assert.deepStrictEqual(route("pets"), {
                    hosts: [stackConfig(stack).ingress.hosts.pets],
                    match: [{ uri: { prefix: "/" } }],
                    to: ["store-front.pets.svc.cluster.local:8080"],
                });
                assert.deepStrictEqual(route("bookinfo"), {
                    hosts: [stackConfig(stack).ingress.hosts.bookinfo],
                    match: [{ uri: { exact: "/productpage" } }, { uri: { prefix: "/static" } }, { uri: { exact: "/login" } }, { uri: { exact: "/logout" } }, { uri: { prefix: "/api/v1/products" } }],
                    to: ["productpage.bookinfo.svc.cluster.local:9080"],
                });
            });

            it("exports the ingress address read from the add-on's gateway Service", async () => {
                const run = await stackRun(stack);
                const read = run.resources.filter((r) => r.read);
                assert.deepStrictEqual(read.map((r) => [r.type, r.id]), [["kubernetes:core/v1:Service", "aks-istio-ingress/aks-istio-ingressgateway-external"]]);
                assert.strictEqual(run.outputs.ingressAddress, OFFLINE_INGRESS_IP);
                const { hosts, tls } = stackConfig(stack).ingress;
                const url = (host: string) => `${tls ? "https" : "http"}://${host === "*" ? OFFLINE_INGRESS_IP : host}/`;
                assert.deepStrictEqual(run.outputs.appUrls, { pets: url(hosts.pets), bookinfo: url(hosts.bookinfo) });
            });

            it("reads the add-on's gateway Service only once it exists, so a first up cannot race the add-on", async () => {
                const run = await stackRun(stack);
                const read = run.resources.find((r) => r.read && r.type === "kubernetes:core/v1:Service")!;
                const waits = run.resources.filter((r) => r.type === "kubernetes:batch/v1:Job" && read.dependencies.includes(r.urn));
                assert.strictEqual(waits.length, 1, "the read depends on a Job the provider awaits");
                const job = waits[0].inputs as any;
                assert.strictEqual(job.metadata.namespace, "aks-istio-ingress");
                assert.strictEqual(job.spec.template.spec.restartPolicy, "Never");
                assert.strictEqual(job.spec.ttlSecondsAfterFinished, undefined, "a Job deleted after it finished would be recreated on every up");
                // Succeeds only once the Service's DNS name resolves, i.e. once the add-on created it.
                assert.match(job.spec.template.spec.containers[0].command.join(" "), /until nslookup aks-istio-ingressgateway-external\.aks-istio-ingress\.svc\.cluster\.local\b/);
                assert.strictEqual(job.spec.template.spec.automountServiceAccountToken, false);
            });

            it("routes only to subsets a DestinationRule of the same host defines", async () => {
                const run = await stackRun(stack);
                const subsets = new Map(kubeObjects(run, "DestinationRule").map((d) => [d.spec.host, d.spec.subsets.map((s: any) => s.name)]));
                let checked = 0;
                for (const vs of kubeObjects(run, "VirtualService")) {
                    for (const d of vs.spec.http.flatMap((h: any) => h.route)) {
                        assert.ok(subsets.get(d.destination.host)?.includes(d.destination.subset), `${vs.metadata.name} → ${d.destination.host}/${d.destination.subset}`);
                        checked++;
                    }
                }
                assert.ok(checked >= 10);
            });

            it("gives every service subsets per version and circuit breaking, never disabling TLS", async () => {
                const run = await stackRun(stack);
                const drs = kubeObjects(run, "DestinationRule");
                assert.strictEqual(drs.length, 8);
                const reviews = byName(drs, "bookinfo", "reviews");
                assert.deepStrictEqual(reviews.spec.subsets, ["v1", "v2", "v3"].map((v) => ({ name: v, labels: { version: v } })));
                for (const dr of drs) {
                    const tp = dr.spec.trafficPolicy;
                    assert.strictEqual(tp.tls, undefined, "TLS is left to Istio's auto mTLS");
                    assert.deepStrictEqual(tp.connectionPool, { tcp: { maxConnections: 100 }, http: { http1MaxPendingRequests: 64, http2MaxRequests: 1000 } });
                    assert.deepStrictEqual(tp.outlierDetection, { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 });
                }
            });

            it("puts a timeout and safe retries on every HTTP route", async () => {
                for (const vs of kubeObjects(await stackRun(stack), "VirtualService")) {
                    for (const h of vs.spec.http) {
                        assert.strictEqual(h.timeout, "15s");
                        assert.deepStrictEqual(h.retries, { attempts: 2, perTryTimeout: "5s", retryOn: "connect-failure,refused-stream,unavailable,cancelled" });
                    }
                }
            });

            it("splits reviews 90/10 and pins end-user jason to v2", async () => {
                const http = meshRoutes(await stackRun(stack), "bookinfo", "reviews");
                const jason = http.find((h: any) => h.match?.[0].headers);
                assert.deepStrictEqual(jason.match, [{ headers: { "end-user": { exact: "jason" } } }]);
                assert.deepStrictEqual(split(jason), { v2: 100 });
                assert.deepStrictEqual(split(http[http.length - 1]), { v1: 90, v2: 10 });
                assert.strictEqual(http[http.length - 1].match, undefined, "the last route catches everything");
            });

            it(`${stackConfig(stack).mesh.faultInjection ? "injects" : "does not inject"} ratings faults for jason`, async () => {
                const run = await stackRun(stack);
                const faults = kubeObjects(run, "VirtualService").flatMap((vs) => vs.spec.http.filter((h: any) => h.fault).map((h: any) => [vs.metadata.name, h]));
                if (!stackConfig(stack).mesh.faultInjection) {
                    assert.deepStrictEqual(faults, []);
                    return;
                }
                assert.deepStrictEqual(faults.map(([name]) => name), ["ratings"]);
                const [, h] = faults[0];
                assert.deepStrictEqual(h.match, [{ headers: { "end-user": { exact: "jason" } } }]);
                assert.deepStrictEqual(h.fault, { delay: { fixedDelay: "7s", percentage: { value: 100 } }, abort: { httpStatus: 500, percentage: { value: 100 } } });
            });

            it("rate-limits productpage with Envoy's local rate limit on its inbound sidecar", async () => {
                const efs = kubeObjects(await stackRun(stack), "EnvoyFilter");
                assert.deepStrictEqual(efs.map((e) => `${e.metadata.namespace}/${e.metadata.name}`), ["bookinfo/productpage-local-ratelimit"]);
                const { spec } = efs[0];
                assert.deepStrictEqual(spec.workloadSelector, { labels: { app: "productpage" } });
                const [patch] = spec.configPatches;
                assert.strictEqual(patch.applyTo, "HTTP_FILTER");
                assert.strictEqual(patch.match.context, "SIDECAR_INBOUND");
                assert.strictEqual(patch.match.listener.filterChain.filter.name, "envoy.filters.network.http_connection_manager");
                assert.strictEqual(patch.patch.operation, "INSERT_BEFORE");
                assert.strictEqual(patch.patch.value.name, "envoy.filters.http.local_ratelimit");
                assert.deepStrictEqual(patch.patch.value.typed_config.value.token_bucket, { max_tokens: 100, tokens_per_fill: 100, fill_interval: "60s" });
            });

            it("writes the shared MeshConfig of the revision with allowed fields only", async () => {
                const cms = kubeObjects(await stackRun(stack), "ConfigMap").filter((c) => c.metadata.namespace === ROOT_NAMESPACE);
                assert.deepStrictEqual(cms.map((c) => `${c.metadata.namespace}/${c.metadata.name}`), [`${ROOT_NAMESPACE}/istio-shared-configmap-asm-1-30`]);
                assert.deepStrictEqual(parse(cms[0].data.mesh), {
                    // With observability the Telemetry API writes the access logs (tests/observability.test.ts).
                    accessLogFile: stackConfig(stack).observability.enabled ? "" : "/dev/stdout",
                    outboundTrafficPolicy: { mode: stackConfig(stack).mesh.outboundTrafficPolicy },
                    defaultConfig: { holdApplicationUntilProxyStarts: true },
                });
            });
        });
    }

    it("prod syncs the Key Vault certificate into aks-istio-ingress through the CSI add-on", async () => {
        const run = await stackRun("prod");
        const cluster = one(run, "azure-native:containerservice:ManagedCluster").inputs as any;
        assert.strictEqual(cluster.addonProfiles.azureKeyvaultSecretsProvider.enabled, true);
        const vault = configValues("prod")[INGRESS].tls.keyVaultId;
        const ra = ofType(run, "azure-native:authorization:RoleAssignment").map((r) => r.inputs as any).find((r) => r.scope === vault)!;
        assert.ok(ra, "a role assignment on the vault");
        assert.match(ra.roleDefinitionId, /\/roleDefinitions\/4633458b-17de-408a-b874-0445c86b69e6$/);
        assert.strictEqual(ra.principalType, "ServicePrincipal");
        assert.match(ra.principalId, /^[0-9a-f-]{36}$/);
        const [spc] = kubeObjects(run, "SecretProviderClass");
        assert.strictEqual(spc.apiVersion, "secrets-store.csi.x-k8s.io/v1");
        assert.strictEqual(spc.metadata.namespace, "aks-istio-ingress");
        assert.deepStrictEqual(spc.spec.secretObjects, [{
            secretName: "mesh-ingress-tls",
            type: "kubernetes.io/tls",
            data: [{ objectName: "contoso-ingress", key: "tls.key" }, { objectName: "contoso-ingress", key: "tls.crt" }],
        }]);
        assert.strictEqual(spc.spec.parameters.keyvaultName, "kv-aks-istio-mesh-prod");
        assert.match(spc.spec.parameters.tenantId, /^[0-9a-f-]{36}$/);
        const sync = kubeObjects(run, "Deployment").find((d) => d.metadata.namespace === "aks-istio-ingress")!;
        assert.deepStrictEqual(sync.spec.template.spec.volumes[0].csi.volumeAttributes, { secretProviderClass: "mesh-ingress-tls" });
        assert.strictEqual(kubeObjects(await stackRun("dev"), "SecretProviderClass").length, 0, "dev serves plain HTTP");
        assert.ok(ofType(await stackRun("dev"), "azure-native:authorization:RoleAssignment").every((r) => !String(r.inputs.scope).includes("Microsoft.KeyVault")));
    });

    describe("canary and header routing from config", () => {
        it("promotes by editing weights: v1 50 / v3 50, then v3 only", async () => {
            const half = await variantRun("dev", withTraffic({ reviews: { weights: { v1: 50, v3: 50 } } }));
            const http = meshRoutes(half, "bookinfo", "reviews");
            assert.deepStrictEqual(split(http[http.length - 1]), { v1: 50, v3: 50 });
            assert.ok(http.some((h: any) => h.match), "the spec's header route stays unless overridden");
            const done = await variantRun("dev", withTraffic({ reviews: { weights: { v3: 100 }, headerRoutes: [] } }));
            assert.deepStrictEqual(meshRoutes(done, "bookinfo", "reviews").map(split), [{ v3: 100 }]);
        });

        it("switches a spec's fault or rate limit off per stack", async () => {
            const run = await variantRun("dev", withTraffic({ ratings: { fault: false }, productpage: { rateLimit: false } }));
            assert.ok(kubeObjects(run, "VirtualService").every((vs) => vs.spec.http.every((h: any) => !h.fault)));
            assert.deepStrictEqual(kubeObjects(run, "EnvoyFilter"), []);
        });

        const path = `${APPS}[1].traffic.reviews`;
        const cases: [string, unknown, string, RegExp][] = [
            ["weights summing to 90", { reviews: { weights: { v1: 80, v2: 10 } } }, `${path}.weights`, /must sum to 100; got 90 \(v1: 80, v2: 10\)/],
            ["an unknown version", { reviews: { weights: { v1: 90, v4: 10 } } }, `${path}.weights.v4`, /"v4" is not allowed; allowed: v1, v2, v3/],
            ["a non-integer weight", { reviews: { weights: { v1: 89.5, v2: 10.5 } } }, `${path}.weights.v1`, /must be an integer from 0 to 100; got 89.5/],
            ["a negative weight", { reviews: { weights: { v2: -10, v1: 110 } } }, `${path}.weights.v2`, /must be an integer from 0 to 100/],
            ["a header route to an unknown version", { reviews: { headerRoutes: [{ headers: { "end-user": "jason" }, version: "v9" }] } }, `${path}.headerRoutes[0].version`, /"v9" is not allowed/],
            ["a header name in capitals", { reviews: { headerRoutes: [{ headers: { "End-User": "jason" }, version: "v2" }] } }, `${path}.headerRoutes[0].headers.End-User`, /lower-case HTTP header name/],
            ["an unknown service", { review: { weights: { v1: 100 } } }, `${APPS}[1].traffic.review`, /"review" is not a service of the app; services: productpage, details, reviews, ratings/],
            ["a fault without delay or abort", { ratings: { fault: { headers: { "end-user": "jason" } } } }, `${APPS}[1].traffic.ratings.fault`, /needs a delay, an abort or both/],
            ["a bad duration", { ratings: { fault: { delay: { fixedDelay: "7 seconds", percent: 100 } } } }, `${APPS}[1].traffic.ratings.fault.delay.fixedDelay`, /a duration such as 500ms/],
            ["an unknown field", { reviews: { weight: { v1: 100 } } }, `${path}.weight`, /unknown key; did you mean weights\? \(allowed keys: weights, headerRoutes, fault, rateLimit\)/],
        ];
        for (const [what, traffic, key, says] of cases) {
            it(`refuses ${what}`, () => refused(withTraffic(traffic), key, says));
        }

        it("refuses traffic routing on a TCP service", () => {
            refused((v) => { v[APPS] = [{ name: "pets", traffic: { rabbitmq: { weights: { v1: 100 } } } }]; }, `${APPS}[0].traffic.rabbitmq`, /non-HTTP ports/);
        });
    });

    describe("ingress and mesh config", () => {
        it("refuses '*' and unnamed hosts with TLS, duplicate hosts, unknown apps and a bad vault id", () => {
            refused((v) => { v[INGRESS].hosts.pets = "*"; }, `${INGRESS}.hosts.pets`, /"\*" is not allowed with ingress.tls/, "prod");
            refused((v) => { delete v[INGRESS].hosts.bookinfo; }, `${INGRESS}.hosts.bookinfo`, /is required with ingress.tls/, "prod");
            refused((v) => { v[INGRESS].hosts.bookinfo = "store.contoso.example"; }, `${INGRESS}.hosts`, /duplicate host "store.contoso.example"/, "prod");
            refused((v) => { v[INGRESS].hosts.petz = "petz.example"; }, `${INGRESS}.hosts.petz`, /"petz" is not an app/);
            refused((v) => { v[INGRESS].tls.keyVaultId = "kv-prod"; }, `${INGRESS}.tls.keyVaultId`, /a Key Vault resource id/, "prod");
            refused((v) => { v[INGRESS].hosts.pets = "Store.Example"; }, `${INGRESS}.hosts.pets`, /a DNS name/);
        });

        it("refuses bad mesh settings by name", () => {
            refused((v) => { v[MESH].outboundTrafficPolicy = "DENY"; }, `${MESH}.outboundTrafficPolicy`, /allowed: REGISTRY_ONLY, ALLOW_ANY/);
            refused((v) => { v[MESH].resilience = { retries: { attempts: 11 } }; }, `${MESH}.resilience.retries.attempts`, /from 0 to 10/);
            refused((v) => { v[MESH].resilience = { timeot: "1s" }; }, `${MESH}.resilience.timeot`, /unknown key/);
            refused((v) => { v[MESH].revisions = ["asm-1-29", "asm-1-30", "asm-1-31"]; }, `${MESH}.revisions`, /two consecutive revisions/);
        });

        it("serves an app without a configured host on <app>.internal when there is no TLS", async () => {
            const run = await variantRun("dev", (v) => { delete v[INGRESS]; });
            assert.deepStrictEqual(kubeObjects(run, "Gateway")[0].spec.servers[0].hosts, ["pets/pets.internal", "bookinfo/bookinfo.internal"]);
        });

        it("takes resilience defaults from config", async () => {
            const run = await variantRun("dev", (v) => { v[MESH].resilience = { timeout: "3s", outlierDetection: { consecutive5xxErrors: 2 } }; });
            assert.ok(kubeObjects(run, "VirtualService").every((vs) => vs.spec.http.every((h: any) => h.timeout === "3s")));
            assert.ok(kubeObjects(run, "DestinationRule").every((d) => d.spec.trafficPolicy.outlierDetection.consecutive5xxErrors === 2 && d.spec.trafficPolicy.outlierDetection.interval === "10s"));
        });
    });

    describe("revision canary upgrade as config edits", () => {
        /** The stack with `revisions` and a revision per app namespace (absent: the newest). */
        function step(revisions: string[], apps: Record<string, string> = {}, nextRevision?: string) {
            return variantRun("dev", (v) => {
                v[MESH].revisions = revisions;
                v[MESH].nextRevision = nextRevision;
                v[APPS] = ["pets", "bookinfo"].map((name) => (apps[name] ? { name, revision: apps[name] } : name));
            });
        }
        /** What the step renders: control planes, shared ConfigMaps, namespace labels and pod-template revisions. */
        async function rendered(run: Run) {
            const cluster = one(run, "azure-native:containerservice:ManagedCluster").inputs as any;
            const pods: Record<string, Set<string>> = {};
            const isApp = (ns: string) => ["pets", "bookinfo"].includes(ns);
            for (const w of [...kubeObjects(run, "Deployment"), ...kubeObjects(run, "StatefulSet")].filter((x) => isApp(x.metadata.namespace))) {
                (pods[w.metadata.namespace] ??= new Set()).add(w.spec.template.metadata.annotations[REVISION_ANNOTATION]);
            }
            return {
                controlPlanes: cluster.serviceMeshProfile.istio.revisions,
                configMaps: kubeObjects(run, "ConfigMap").filter((c) => c.metadata.namespace === ROOT_NAMESPACE).map((c) => c.metadata.name),
                namespaces: Object.fromEntries(kubeObjects(run, "Namespace").filter((n) => isApp(n.metadata.name)).map((n) => [n.metadata.name, n.metadata.labels["istio.io/rev"]])),
                pods: Object.fromEntries(Object.entries(pods).map(([ns, revs]) => [ns, [...revs]])),
            };
        }
        const cm = (r: string) => `istio-shared-configmap-${r}`;

        it("0. runs on asm-1-29", async () => {
            assert.deepStrictEqual(await rendered(await step(["asm-1-29"])), {
                controlPlanes: ["asm-1-29"], configMaps: [cm("asm-1-29")],
                namespaces: { pets: "asm-1-29", bookinfo: "asm-1-29" }, pods: { pets: ["asm-1-29"], bookinfo: ["asm-1-29"] },
            });
        });

        it("1. prepares: the new revision's ConfigMap exists before its control plane, nothing else moves", async () => {
            assert.deepStrictEqual(await rendered(await step(["asm-1-29"], {}, "asm-1-30")), {
                controlPlanes: ["asm-1-29"], configMaps: [cm("asm-1-29"), cm("asm-1-30")],
                namespaces: { pets: "asm-1-29", bookinfo: "asm-1-29" }, pods: { pets: ["asm-1-29"], bookinfo: ["asm-1-29"] },
            });
        });

        it("refuses a next revision that is not the one after the running one, or during a canary", () => {
            refused((v) => { v[MESH].revisions = ["asm-1-30"]; v[MESH].nextRevision = "asm-1-29"; }, `${MESH}.nextRevision`, /must be consecutive and in order/);
            refused((v) => { v[MESH].revisions = ["asm-1-29", "asm-1-30"]; v[MESH].nextRevision = "asm-1-30"; }, `${MESH}.nextRevision`, /needs exactly one running revision/);
            refused((v) => { v[MESH].revisions = ["asm-1-29"]; v[MESH].nextRevision = "asm-1-30"; v["aks-istio-mesh:cluster"].kubernetesVersion = "1.31"; }, `${MESH}.nextRevision`, /not compatible with Kubernetes 1\.31/);
        });

        it("2. starts the canary: both control planes and ConfigMaps, namespaces pinned to the old one", async () => {
            assert.deepStrictEqual(await rendered(await step(["asm-1-29", "asm-1-30"], { pets: "asm-1-29", bookinfo: "asm-1-29" })), {
                controlPlanes: ["asm-1-29", "asm-1-30"], configMaps: [cm("asm-1-29"), cm("asm-1-30")],
                namespaces: { pets: "asm-1-29", bookinfo: "asm-1-29" }, pods: { pets: ["asm-1-29"], bookinfo: ["asm-1-29"] },
            });
        });

        it("3. moves bookinfo first: its label and pod templates change, so its pods roll", async () => {
            assert.deepStrictEqual(await rendered(await step(["asm-1-29", "asm-1-30"], { pets: "asm-1-29" })), {
                controlPlanes: ["asm-1-29", "asm-1-30"], configMaps: [cm("asm-1-29"), cm("asm-1-30")],
                namespaces: { pets: "asm-1-29", bookinfo: "asm-1-30" }, pods: { pets: ["asm-1-29"], bookinfo: ["asm-1-30"] },
            });
        });

        it("4. completes on asm-1-30: one control plane, one ConfigMap, every namespace moved", async () => {
            assert.deepStrictEqual(await rendered(await step(["asm-1-30"])), {
                controlPlanes: ["asm-1-30"], configMaps: [cm("asm-1-30")],
                namespaces: { pets: "asm-1-30", bookinfo: "asm-1-30" }, pods: { pets: ["asm-1-30"], bookinfo: ["asm-1-30"] },
            });
        });

        it("or rolls back from step 3: bookinfo back to asm-1-29, then asm-1-29 alone", async () => {
            const back = await rendered(await step(["asm-1-29", "asm-1-30"], { pets: "asm-1-29", bookinfo: "asm-1-29" }));
            assert.deepStrictEqual([back.namespaces, back.pods], [{ pets: "asm-1-29", bookinfo: "asm-1-29" }, { pets: ["asm-1-29"], bookinfo: ["asm-1-29"] }]);
            assert.deepStrictEqual(await rendered(await step(["asm-1-29"])), {
                controlPlanes: ["asm-1-29"], configMaps: [cm("asm-1-29")],
                namespaces: { pets: "asm-1-29", bookinfo: "asm-1-29" }, pods: { pets: ["asm-1-29"], bookinfo: ["asm-1-29"] },
            });
        });

        it("refuses a namespace on a revision the stack does not run", () => {
            refused((v) => { v[MESH].revisions = ["asm-1-30"]; v[APPS] = [{ name: "pets", revision: "asm-1-29" }]; }, `${APPS}[0].revision`, /"asm-1-29" is not allowed; allowed: asm-1-30/);
        });
    });
});
