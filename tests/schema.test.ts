import assert from "node:assert/strict";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import type { KubeObject } from "../policy-pack/rules/types";
import { SchemaBundle, SchemaError, defaultSchemaBaseDir, loadSchemaBundle, schemaDirForRevision, validateObjects } from "../tools/schema";
import { parseRequestUri } from "../tools/schema/cel";

// Fixtures are plain JSON that each case mutates freshly; typing them would only restate the CRDs.
type Json = any;

const ns = "pets";

const gateway = (): Json => ({
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: "pets-gateway", namespace: ns },
    spec: {
        selector: { istio: "aks-istio-ingressgateway-external" },
        servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["pets.example.com"] }],
    },
});

const virtualService = (): Json => ({
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "store", namespace: ns, labels: { "app.kubernetes.io/part-of": "pets" } },
    spec: {
        hosts: ["pets.example.com"],
        gateways: ["pets-gateway"],
        http: [
            {
                name: "store-split",
                match: [{ uri: { prefix: "/store" } }],
                route: [
                    { destination: { host: "store.pets.svc.cluster.local", subset: "v1", port: { number: 80 } }, weight: 80 },
                    { destination: { host: "store.pets.svc.cluster.local", subset: "v2", port: { number: 80 } }, weight: 20 },
                ],
                retries: { attempts: 3, perTryTimeout: "2s", retryOn: "5xx,reset,connect-failure" },
                timeout: "10s",
                fault: { delay: { percentage: { value: 0.5 }, fixedDelay: "2s" } },
            },
        ],
    },
});

const destinationRule = (): Json => ({
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "store", namespace: ns },
    spec: {
        host: "store.pets.svc.cluster.local",
        trafficPolicy: {
            tls: { mode: "ISTIO_MUTUAL" },
            loadBalancer: { simple: "LEAST_REQUEST" },
            connectionPool: {
                tcp: { maxConnections: 100, connectTimeout: "3s" },
                http: { http1MaxPendingRequests: 100, http2MaxRequests: 1000, maxRequestsPerConnection: 10 },
            },
            outlierDetection: { consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
        },
        subsets: [
            { name: "v1", labels: { version: "v1" } },
            { name: "v2", labels: { version: "v2" } },
        ],
    },
});

const peerAuthentication = (): Json => ({
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "default", namespace: ns },
    spec: { mtls: { mode: "STRICT" } },
});

const authorizationPolicy = (): Json => ({
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "store-from-frontend", namespace: ns },
    spec: {
        selector: { matchLabels: { app: "store" } },
        action: "ALLOW",
        rules: [
            {
                from: [{ source: { principals: ["cluster.local/ns/x/sa/y"] } }],
                to: [{ operation: { methods: ["GET"], ports: ["8080"] } }],
            },
        ],
    },
});

const sidecar = (): Json => ({
    apiVersion: "networking.istio.io/v1",
    kind: "Sidecar",
    metadata: { name: "default", namespace: ns },
    spec: { egress: [{ hosts: ["./*", "aks-istio-system/*"] }], outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } },
});

const envoyFilter = (): Json => ({
    apiVersion: "networking.istio.io/v1alpha3",
    kind: "EnvoyFilter",
    metadata: { name: "store-local-ratelimit", namespace: ns },
    spec: {
        workloadSelector: { labels: { app: "store" } },
        configPatches: [
            {
                applyTo: "HTTP_FILTER",
                match: {
                    context: "SIDECAR_INBOUND",
                    listener: { filterChain: { filter: { name: "envoy.filters.network.http_connection_manager" } } },
                },
                patch: {
                    operation: "INSERT_BEFORE",
                    value: {
                        name: "envoy.filters.http.local_ratelimit",
                        typed_config: {
                            "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
                            type_url: "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                            value: {
                                stat_prefix: "http_local_rate_limiter",
                                token_bucket: { max_tokens: 100, tokens_per_fill: 100, fill_interval: "60s" },
                                filter_enabled: { runtime_key: "local_rate_limit_enabled", default_value: { numerator: 100, denominator: "HUNDRED" } },
                                filter_enforced: { runtime_key: "local_rate_limit_enforced", default_value: { numerator: 100, denominator: "HUNDRED" } },
                            },
                        },
                    },
                },
            },
        ],
    },
});

const serviceEntry = (): Json => ({
    apiVersion: "networking.istio.io/v1",
    kind: "ServiceEntry",
    metadata: { name: "payments-api", namespace: ns },
    spec: {
        hosts: ["api.payments.example.com"],
        location: "MESH_EXTERNAL",
        resolution: "DNS",
        ports: [
            { number: 443, name: "https", protocol: "TLS" },
            { number: 80, name: "http", protocol: "HTTP" },
        ],
    },
});

const requestAuthentication = (): Json => ({
    apiVersion: "security.istio.io/v1",
    kind: "RequestAuthentication",
    metadata: { name: "store-jwt", namespace: ns },
    spec: {
        selector: { matchLabels: { app: "store" } },
        jwtRules: [{ issuer: "https://login.example.com", jwksUri: "https://login.example.com/keys" }],
    },
});

const realisticMesh = (): KubeObject[] => [
    gateway(),
    virtualService(),
    destinationRule(),
    peerAuthentication(),
    authorizationPolicy(),
    sidecar(),
    envoyFilter(),
    serviceEntry(),
    requestAuthentication(),
];

/** A fresh fixture with one change applied. */
function changed(fixture: () => Json, change: (o: Json) => void): KubeObject {
    const object = fixture();
    change(object);
    return object;
}

interface Expected {
    path: string;
    rule: SchemaError["rule"];
    /** A fragment the message must contain. */
    says?: string;
}

/** Asserts the findings are exactly the expected (path, rule) pairs, so one change yields one precise error. */
function assertFindings(errors: SchemaError[], expected: Expected[]): void {
    const pairs = (list: { path: string; rule: string }[]) => list.map((e) => `${e.rule} ${e.path}`).sort();
    assert.deepEqual(pairs(errors), pairs(expected), JSON.stringify(errors, null, 2));
    for (const want of expected) {
        if (want.says) {
            const match = errors.find((e) => e.path === want.path && e.rule === want.rule);
            assert.ok(match?.message.includes(want.says), `expected "${want.says}" in ${JSON.stringify(match)}`);
        }
    }
}

interface Case {
    name: string;
    object: () => KubeObject;
    expected: Expected[];
}

const cases: Case[] = [
    // Strict unknown fields
    {
        name: "a typo in an HTTP route field (spec.http[0].rout)",
        object: () =>
            changed(virtualService, (o) => {
                o.spec.http[0].rout = o.spec.http[0].route;
                delete o.spec.http[0].route;
            }),
        // The route left without a destination is the virtual-service-route-action policy's finding.
        expected: [{ path: "/spec/http/0/rout", rule: "unknown-field", says: 'unknown field "rout"' }],
    },
    {
        name: "an unknown field in ObjectMeta",
        object: () => changed(peerAuthentication, (o) => (o.metadata.lables = { app: "x" })),
        expected: [{ path: "/metadata/lables", rule: "unknown-field" }],
    },
    // OpenAPI: enum, type, required, oneOf
    {
        name: "an enum typo (mtls.mode: STRCT)",
        object: () => changed(peerAuthentication, (o) => (o.spec.mtls.mode = "STRCT")),
        expected: [{ path: "/spec/mtls/mode", rule: "schema", says: '"STRCT"' }],
    },
    {
        name: "a string weight",
        object: () => changed(virtualService, (o) => (o.spec.http[0].route[0].weight = "80")),
        expected: [{ path: "/spec/http/0/route/0/weight", rule: "schema", says: "must be integer" }],
    },
    {
        name: "a number where a duration string belongs (CEL skipped after a type error)",
        object: () => changed(virtualService, (o) => (o.spec.http[0].timeout = 10)),
        expected: [{ path: "/spec/http/0/timeout", rule: "schema", says: "must be string" }],
    },
    {
        name: "a DestinationRule without host",
        object: () => changed(destinationRule, (o) => delete o.spec.host),
        expected: [{ path: "/spec/host", rule: "schema", says: "required" }],
    },
    {
        name: "a route destination without host",
        object: () => changed(virtualService, (o) => delete o.spec.http[0].route[1].destination.host),
        expected: [{ path: "/spec/http/0/route/1/destination/host", rule: "schema" }],
    },
    {
        name: "two load balancer kinds at once (proto oneof)",
        object: () => changed(destinationRule, (o) => (o.spec.trafficPolicy.loadBalancer.consistentHash = { useSourceIp: true })),
        expected: [{ path: "/spec/trafficPolicy/loadBalancer", rule: "schema", says: "only one of simple, consistentHash" }],
    },
    // CEL x-kubernetes-validations
    {
        name: "portLevelMtls without a selector",
        object: () => changed(peerAuthentication, (o) => (o.spec.portLevelMtls = { 8080: { mode: "PERMISSIVE" } })),
        expected: [{ path: "/spec", rule: "cel", says: "portLevelMtls requires selector" }],
    },
    {
        name: "a 0s timeout",
        object: () => changed(virtualService, (o) => (o.spec.http[0].timeout = "0s")),
        expected: [{ path: "/spec/http/0/timeout", rule: "cel", says: "greater than 1ms" }],
    },
    {
        name: "an unparsable duration",
        object: () => changed(destinationRule, (o) => (o.spec.trafficPolicy.outlierDetection.interval = "30 seconds")),
        expected: [{ path: "/spec/trafficPolicy/outlierDetection/interval", rule: "cel", says: "evaluation error" }],
    },
    {
        name: "serviceAccounts combined with principals",
        object: () => changed(authorizationPolicy, (o) => (o.spec.rules[0].from[0].source.serviceAccounts = ["x/y"])),
        expected: [{ path: "/spec/rules/0/from/0/source", rule: "cel", says: "serviceAccounts" }],
    },
    {
        name: "a jwksUri that is not http(s) (Kubernetes URL library)",
        object: () => changed(requestAuthentication, (o) => (o.spec.jwtRules[0].jwksUri = "ftp://login.example.com/keys")),
        expected: [{ path: "/spec/jwtRules/0/jwksUri", rule: "cel", says: "http:// or https://" }],
    },
    // x-kubernetes-list-type: map
    {
        name: "two ServiceEntry ports with the same name (list-map key)",
        object: () => changed(serviceEntry, (o) => (o.spec.ports[1].name = "https")),
        expected: [{ path: "/spec/ports/1", rule: "list-type", says: 'name="https"' }],
    },
    {
        name: "an int32 field above 2147483647 (istiod cannot decode it)",
        object: () => changed(destinationRule, (o) => (o.spec.trafficPolicy.connectionPool = { http: { http2MaxRequests: 2147483648 } })),
        expected: [{ path: "/spec/trafficPolicy/connectionPool/http/http2MaxRequests", rule: "schema", says: "int32" }],
    },
    // ObjectMeta
    {
        name: "a name that is not a DNS-1123 subdomain (Bad_Name)",
        object: () => changed(destinationRule, (o) => (o.metadata.name = "Bad_Name")),
        expected: [{ path: "/metadata/name", rule: "metadata", says: "DNS-1123 subdomain" }],
    },
    {
        name: "a namespace that is not a DNS-1123 label",
        object: () => changed(sidecar, (o) => (o.metadata.namespace = "pets.prod")),
        expected: [{ path: "/metadata/namespace", rule: "metadata" }],
    },
    {
        name: "a label value that is too long and a missing name",
        object: () =>
            changed(virtualService, (o) => {
                o.metadata.labels.version = "v".repeat(64);
                delete o.metadata.name;
            }),
        expected: [
            { path: "/metadata/labels/version", rule: "metadata" },
            { path: "/metadata/name", rule: "metadata", says: "required" },
        ],
    },
    // Kinds and versions
    {
        name: "EnvoyFilter at networking.istio.io/v1 (only v1alpha3 is served)",
        object: () => changed(envoyFilter, (o) => (o.apiVersion = "networking.istio.io/v1")),
        expected: [{ path: "", rule: "schema", says: "networking.istio.io/v1alpha3" }],
    },
    {
        name: "an Istio kind the bundle does not have",
        object: () => changed(sidecar, (o) => (o.kind = "SideCar")),
        expected: [{ path: "", rule: "schema", says: "no such kind in Istio" }],
    },
];

for (const { revision } of SUPPORTED_REVISIONS) {
    describe(`schema conformance against ${revision}`, () => {
        let bundle: SchemaBundle;

        before(() => {
            const dir = schemaDirForRevision(revision);
            const loaded = loadSchemaBundle(dir);
            assert.ok(loaded, `no schema bundle found in ${dir}: run npm run schemas:fetch (or set AKS_ISTIO_MESH_SCHEMAS)`);
            bundle = loaded;
        });

        it("accepts a realistic mesh with zero errors", () => {
            assertFindings(validateObjects(realisticMesh(), bundle), []);
        });

        it("drops undefined fields (JSON does) and refuses a null one, as the API server does under server-side apply", () => {
            const undefinedField = changed(destinationRule, (o) => { o.spec.workloadSelector = undefined; });
            assertFindings(validateObjects([undefinedField], bundle), []);
            const nullField = changed(destinationRule, (o) => { o.spec.exportTo = null; });
            assertFindings(validateObjects([nullField], bundle), [{ path: "/spec/exportTo", rule: "schema", says: "not null" }]);
        });

        it("accepts the largest int32", () => {
            const object = changed(destinationRule, (o) => (o.spec.trafficPolicy.connectionPool = { http: { http2MaxRequests: 2147483647 } }));
            assertFindings(validateObjects([object], bundle), []);
        });

        it("leaves non-Istio objects to their own checks", () => {
            const deployment: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "Bad_Name" }, spec: { replica: 2 } };
            assert.deepEqual(validateObjects([deployment], bundle), []);
        });

        it("attributes each error to its object", () => {
            const [error] = validateObjects([changed(peerAuthentication, (o) => (o.spec.mtls.mode = "STRCT"))], bundle);
            assert.deepEqual(
                { apiVersion: error.apiVersion, kind: error.kind, namespace: error.namespace, name: error.name },
                { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", namespace: ns, name: "default" },
            );
        });

        for (const c of cases) {
            it(`rejects ${c.name}`, () => {
                assertFindings(validateObjects([c.object()], bundle), c.expected);
            });
        }
    });
}

describe("schema bundles", () => {
    it("maps each AKS revision to the Istio patch the revision table pins, whose bundle has the pinned checksum", () => {
        const base = defaultSchemaBaseDir();
        for (const r of SUPPORTED_REVISIONS) {
            const dir = schemaDirForRevision(r.revision);
            assert.equal(dir, path.join(base, r.istioPatch));
            assert.ok(r.istioPatch.startsWith(`${r.istio}.`), `${r.revision}: patch ${r.istioPatch} is not on Istio ${r.istio}`);
            const digest = createHash("sha256").update(fs.readFileSync(path.join(dir, "crd-all.gen.yaml"))).digest("hex");
            assert.equal(digest, r.crdSha256, `${r.revision}: ${dir} is not the pinned bundle`);
        }
    });

    it("uses the pinned patch even when another patch of the same minor is present", () => {
        const base = fs.mkdtempSync(path.join(os.tmpdir(), "istio-schemas-"));
        try {
            const { revision, istio, istioPatch } = SUPPORTED_REVISIONS[SUPPORTED_REVISIONS.length - 1];
            for (const dir of [istioPatch, `${istio}.99`, `${istio}.100`]) fs.mkdirSync(path.join(base, dir));
            assert.equal(schemaDirForRevision(revision, base), path.join(base, istioPatch));
        } finally {
            fs.rmSync(base, { recursive: true });
        }
    });

    it("honours AKS_ISTIO_MESH_SCHEMAS", () => {
        const saved = process.env.AKS_ISTIO_MESH_SCHEMAS;
        process.env.AKS_ISTIO_MESH_SCHEMAS = "/elsewhere/istio";
        try {
            assert.equal(defaultSchemaBaseDir(), "/elsewhere/istio");
        } finally {
            if (saved === undefined) delete process.env.AKS_ISTIO_MESH_SCHEMAS;
            else process.env.AKS_ISTIO_MESH_SCHEMAS = saved;
        }
    });

    it("rejects a revision the table does not hold, naming the table", () => {
        assert.throws(() => schemaDirForRevision("1.30"), /not in the revision table .*asm-1-30/);
        assert.throws(() => schemaDirForRevision("asm-1-22"), /not in the revision table/);
    });

    it("returns undefined when crd-all.gen.yaml is missing", () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "istio-schemas-"));
        try {
            assert.equal(loadSchemaBundle(empty), undefined);
            assert.equal(loadSchemaBundle(path.join(empty, "nope")), undefined);
        } finally {
            fs.rmSync(empty, { recursive: true });
        }
    });

    it("loads every served version of every CRD", () => {
        const bundle = loadSchemaBundle(schemaDirForRevision("asm-1-30"));
        assert.ok(bundle);
        assert.equal(bundle.istioVersion, "1.30.3");
        assert.deepEqual(bundle.servedVersions.get("networking.istio.io/VirtualService"), ["v1", "v1alpha3", "v1beta1"]);
        assert.deepEqual(bundle.servedVersions.get("networking.istio.io/EnvoyFilter"), ["v1alpha3"]);
        assert.ok(bundle.schemas.has("extensions.istio.io/v1alpha1/TrafficExtension"), "TrafficExtension is new in 1.30");
    });
});

describe("Kubernetes CEL URL parsing (Go url.ParseRequestURI semantics)", () => {
    const cases: [string, { scheme: string; host: string; hostname: string; port: string } | undefined][] = [
        ["https://login.example.com:8443/keys", { scheme: "https", host: "login.example.com:8443", hostname: "login.example.com", port: "8443" }],
        ["http://[::1]:80/x", { scheme: "http", host: "[::1]:80", hostname: "::1", port: "80" }],
        ["oci://registry.example.com/filters/auth:v1", { scheme: "oci", host: "registry.example.com", hostname: "registry.example.com", port: "" }],
        ["/absolute/path", { scheme: "", host: "", hostname: "", port: "" }],
        ["registry.example.com/filter:v1", undefined],
        ["http://bad host/", undefined],
        ["http://host:port/", undefined],
        ["", undefined],
    ];
    for (const [raw, want] of cases) {
        it(`${JSON.stringify(raw)} → ${want ? want.scheme || "path" : "error"}`, () => {
            const got = parseRequestUri(raw);
            assert.deepEqual(got && { scheme: got.scheme, host: got.host, hostname: got.hostname, port: got.port }, want);
        });
    }
});
