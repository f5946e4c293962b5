import * as assert from "assert";
import { KubeObject } from "../../policy-pack/rules";
import { find, goodMesh, NS } from "./fixtures/mesh";
import { cases, messages } from "./helpers";

type Objects = Parameters<typeof find>[0];
const vs = (o: Objects) => find(o, "VirtualService", "api");
const http = (o: Objects) => vs(o).spec.http[0];
const ingress = (o: Objects) => find(o, "VirtualService", "web-ingress");
const gw = (o: Objects) => find(o, "Gateway", "web-gateway");
const sc = (o: Objects) => find(o, "Sidecar", "default");
const dr = (o: Objects) => find(o, "DestinationRule", "api");
const ap = (o: Objects) => find(o, "AuthorizationPolicy", "api-from-web", NS);
const pa = (o: Objects) => find(o, "PeerAuthentication", "api-ports", NS);

const serviceEntry = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "ext", namespace: NS }, spec });
const requestAuthentication = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "jwt", namespace: NS }, spec });
const telemetry = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name: "logs", namespace: NS }, spec });
const envoyFilter = (patch: Record<string, unknown>): KubeObject => ({
    apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: { name: "ef", namespace: NS },
    spec: { configPatches: [{ applyTo: "HTTP_FILTER", match: { context: "SIDECAR_INBOUND" }, patch: { operation: "INSERT_FIRST", value: { name: "envoy.filters.http.lua" } }, ...patch }] },
});
const EF = "envoy-filter-unsupported";
const JWT = [{ issuer: "https://login.example.com", jwksUri: "https://login.example.com/keys" }];
const SE = { hosts: ["api.example.com"], ports: [{ number: 443, name: "tls", protocol: "TLS" }], resolution: "DNS", location: "MESH_EXTERNAL" };

describe("policy: the rest of istiod's validation, VirtualService", () => {
    cases([
        { name: "an empty destination host", change: (o) => { http(o).route[0].destination.host = ""; }, expect: ["virtual-service-istiod", "virtual-service-references:IST0101", "virtual-service-references:IST0101"] },
        { name: "a destination host \"*\"", change: (o) => { http(o).route[0].destination.host = "*"; }, expect: ["virtual-service-istiod", "virtual-service-references:IST0101", "virtual-service-references:IST0101"] },
        {
            name: "a JWT-claim header match on a mesh route",
            change: (o) => { http(o).match = [{ headers: { "@request.auth.claims.group": { exact: "admin" } } }]; },
            expect: ["virtual-service-istiod"],
        },
        {
            name: "a JWT-claim header match on a gateway route is fine",
            change: (o) => { ingress(o).spec.http[0].match = [{ headers: { "@request.auth.claims.group": { exact: "admin" } } }]; },
            expect: [],
        },
        { name: "host \"*\" on a mesh VirtualService", change: (o) => { vs(o).spec.hosts = ["*"]; }, expect: ["virtual-service-istiod"] },
        { name: "a regex RE2 cannot compile (lookahead)", change: (o) => { http(o).match = [{ uri: { regex: "/api(?=/v1)" } }]; }, expect: ["virtual-service-istiod"] },
        { name: "an RE2 regex compiles", change: (o) => { http(o).match = [{ uri: { regex: "/api/v[0-9]+(/.*)?" } }]; }, expect: [] },
        { name: "an unknown retryOn policy", change: (o) => { http(o).retries = { attempts: 3, retryOn: "5xx,on-failure" }; }, expect: ["virtual-service-istiod"] },
        { name: "known retryOn policies and a status code", change: (o) => { http(o).retries = { attempts: 3, retryOn: "5xx,connect-failure,503", perTryTimeout: "2s" }; }, expect: [] },
        { name: "retryOn with attempts 0", change: (o) => { http(o).retries = { retryOn: "5xx" }; }, expect: ["virtual-service-istiod"] },
        { name: "a timeout below a millisecond", change: (o) => { http(o).timeout = "0.0001s"; }, expect: ["virtual-service-istiod"] },
        { name: "a timeout istiod cannot decode (a day)", change: (o) => { http(o).timeout = "1d"; }, expect: ["virtual-service-istiod"] },
        { name: "a timeout finer than a millisecond", change: (o) => { http(o).timeout = "1.0001s"; }, expect: ["virtual-service-istiod"] },
        { name: "timeouts of 100ms and 1m30s", change: (o) => { http(o).timeout = "100ms"; vs(o).spec.http.push({ route: [{ destination: { host: "api" } }], timeout: "1m30s" }); }, expect: [] },
        { name: "a redirect with a non-3xx code", change: (o) => { vs(o).spec.http[0] = { redirect: { uri: "/v2", redirectCode: 200 } }; }, expect: ["virtual-service-istiod"] },
        { name: "an abort fault with an unknown gRPC status", change: (o) => { http(o).fault = { abort: { grpcStatus: "GONE", percentage: { value: 10 } } }; }, expect: ["virtual-service-istiod"] },
        { name: "a rewrite with both uri and uriRegexRewrite", change: (o) => { http(o).rewrite = { uri: "/", uriRegexRewrite: { match: "^/api", rewrite: "/" } }; }, expect: ["virtual-service-istiod"] },
        { name: "setting the Host header on a response", change: (o) => { http(o).headers = { response: { set: { host: "x" } } }; }, expect: ["virtual-service-istiod"] },
        { name: "an invalid gateway reference", change: (o) => { ingress(o).spec.gateways = ["shop/web_gateway"]; }, expect: ["virtual-service-istiod", "virtual-service-references:IST0101", "virtual-service-gateway-hosts:IST0132"] },
        { name: "duplicate hosts through a wildcard", change: (o) => { ingress(o).spec.hosts = ["*.example.com", "shop.example.com"]; }, expect: ["virtual-service-istiod"] },
    ]);

    it("names the field at fault", () => {
        const objects = goodMesh();
        http(objects).timeout = "0.0001s";
        http(objects).retries = { attempts: 2, retryOn: "5xx,bogus" };
        assert.deepStrictEqual(messages(objects, "virtual-service-istiod"), [
            "spec.http[0].retries.retryOn: \"bogus\" is not a retryOn policy Envoy knows",
            "spec.http[0].timeout: duration 0.0001s is below 1ms",
        ]);
    });
});

describe("policy: the rest of istiod's validation, Gateway and Sidecar", () => {
    cases([
        {
            name: "two servers with the same port name",
            change: (o) => { gw(o).spec.servers[1].port.name = "http"; },
            expect: ["gateway-istiod"],
        },
        { name: "a server without hosts", change: (o) => { gw(o).spec.servers[0].hosts = []; }, expect: ["gateway-istiod"] },
        { name: "a server host that is a short name", change: (o) => { gw(o).spec.servers[0].hosts = ["shop"]; }, expect: ["gateway-istiod"] },
        { name: "a namespaced server host is fine", change: (o) => { gw(o).spec.servers[0].hosts = [`${NS}/shop.example.com`]; }, expect: [] },
        { name: "an unknown server protocol", change: (o) => { gw(o).spec.servers[0].port.protocol = "HTTP3"; }, expect: ["gateway-istiod"] },
        { name: "TLS settings on a plain TCP server", change: (o) => { gw(o).spec.servers[0].port.protocol = "TCP"; }, expect: ["gateway-istiod"] },
        { name: "a Sidecar egress host without a namespace", change: (o) => { sc(o).spec.egress[0].hosts.push("api.example.com"); }, expect: ["sidecar-istiod"] },
        { name: "a Sidecar egress host */api.example.com is fine", change: (o) => { sc(o).spec.egress[0].hosts.push("*/api.example.com"); }, expect: [] },
        { name: "an empty Sidecar", change: (o) => { sc(o).spec = {}; }, expect: ["sidecar-istiod"] },
        {
            name: "a portless egress listener before another",
            change: (o) => { sc(o).spec.egress.push({ port: { number: 8080, name: "http", protocol: "HTTP" }, hosts: ["./*"] }); },
            expect: ["sidecar-istiod"],
        },
    ]);
});

describe("policy: the rest of istiod's validation, DestinationRule", () => {
    cases([
        {
            name: "locality weights that do not total 100",
            change: (o) => { dr(o).spec.trafficPolicy.loadBalancer = { localityLbSetting: { distribute: [{ from: "westeurope/*", to: { "westeurope/1": 60, "westeurope/2": 30 } }] } }; },
            expect: ["destination-rule-istiod"],
        },
        {
            name: "locality weights totalling 100",
            change: (o) => { dr(o).spec.trafficPolicy.loadBalancer = { localityLbSetting: { distribute: [{ from: "westeurope/*", to: { "westeurope/1": 70, "westeurope/2": 30 } }] } }; },
            expect: [],
        },
        { name: "a subset name with a dot", change: (o) => { dr(o).spec.subsets[1].name = "v2.1"; }, expect: ["destination-rule-istiod", "virtual-service-references:IST0101"] },
        { name: "an empty traffic policy", change: (o) => { dr(o).spec.subsets[0].trafficPolicy = {}; }, expect: ["destination-rule-istiod"] },
        { name: "a connect timeout without a unit", change: (o) => { dr(o).spec.trafficPolicy.connectionPool = { tcp: { connectTimeout: "10" } }; }, expect: ["destination-rule-istiod"] },
        { name: "a connect timeout in minutes", change: (o) => { dr(o).spec.trafficPolicy.connectionPool = { tcp: { connectTimeout: "1m" } }; }, expect: [] },
        { name: "a maglev table size that is not prime", change: (o) => { dr(o).spec.trafficPolicy.loadBalancer = { consistentHash: { maglev: { tableSize: 65536 } } }; }, expect: ["destination-rule-istiod"] },
    ]);
});

describe("policy: the rest of istiod's validation, security kinds", () => {
    cases([
        { name: "a path template in to.operation.paths that is not a whole segment", change: (o) => { ap(o).spec.rules[0].to[0].operation.paths = ["/api/{*}x"]; }, expect: ["authorization-policy-istiod"] },
        { name: "a template after {**}", change: (o) => { ap(o).spec.rules[0].to[0].operation.paths = ["/api/{**}/{*}"]; }, expect: ["authorization-policy-istiod"] },
        { name: "path templates as whole segments are fine", change: (o) => { ap(o).spec.rules[0].to[0].operation.paths = ["/api/{*}/orders/{**}"]; }, expect: [] },
        {
            name: "an unknown key in when (judged for values and notValues alike)",
            change: (o) => { ap(o).spec.rules[0].when = [{ key: "request.method", values: ["GET"] }]; },
            expect: ["authorization-policy-istiod", "authorization-policy-istiod"],
        },
        { name: "a known when key", change: (o) => { ap(o).spec.rules[0].when = [{ key: "request.headers[x-tenant]", values: ["a"] }]; }, expect: [] },
        { name: "an empty principal", change: (o) => { ap(o).spec.rules[0].from[0].source.principals.push(""); }, expect: ["authorization-policy-istiod"] },
        {
            name: "a JWT rule with neither issuer nor jwksUri",
            change: (o) => { o.push(requestAuthentication({ jwtRules: [{ audiences: ["shop"] }] })); },
            // No ALLOW rule requires its principal either (request-authentication-pairs).
            expect: ["request-authentication-istiod", "request-authentication-pairs"],
        },
        // Valid for istiod; only the pairing rule notes that no ALLOW rule requires the principal.
        { name: "a JWT rule with issuer and jwksUri", change: (o) => { o.push(requestAuthentication({ jwtRules: JWT })); }, expect: ["request-authentication-pairs"] },
        {
            name: "a JWT rule whose jwksUri is not http(s)",
            change: (o) => { o.push(requestAuthentication({ jwtRules: [{ issuer: "x", jwksUri: "ftp://keys.example.com/jwks" }] })); },
            expect: ["request-authentication-istiod", "request-authentication-pairs"],
        },
        { name: "port-level mTLS on port 0", change: (o) => { pa(o).spec.portLevelMtls = { 0: { mode: "STRICT" } }; }, expect: ["peer-authentication-istiod"] },
    ]);
});

describe("policy: the rest of istiod's validation, ServiceEntry, EnvoyFilter, Telemetry", () => {
    cases([
        { name: "DNS resolution of a wildcard host without endpoints", change: (o) => { o.push(serviceEntry({ ...SE, hosts: ["*.example.com"] })); }, expect: ["service-entry-istiod"] },
        { name: "DNS resolution of a concrete host", change: (o) => { o.push(serviceEntry(SE)); }, expect: [] },
        { name: "two ports with one name", change: (o) => { o.push(serviceEntry({ ...SE, ports: [{ number: 443, name: "tls", protocol: "TLS" }, { number: 8443, name: "tls", protocol: "TLS" }] })); }, expect: ["service-entry-istiod"] },
        { name: "a patch without applyTo", change: (o) => { const ef = envoyFilter({}); delete (ef.spec as { configPatches: Record<string, unknown>[] }).configPatches[0].applyTo; o.push(ef); }, expect: [EF, "envoy-filter-istiod"] },
        { name: "a patch with an Envoy v2 typed config", change: (o) => { o.push(envoyFilter({ patch: { operation: "INSERT_FIRST", value: { name: "x", typed_config: { "@type": "type.googleapis.com/envoy.config.filter.http.lua.v2.Lua" } } } })); }, expect: [EF, "envoy-filter-istiod"] },
        { name: "a well-formed patch", change: (o) => { o.push(envoyFilter({})); }, expect: [EF] },
        { name: "an access-log filter that is not CEL", change: (o) => { o.push(telemetry({ accessLogging: [{ providers: [{ name: "envoy" }], filter: { expression: "response.code >=" } }] })); }, expect: ["telemetry-istiod"] },
        { name: "an access-log filter in CEL", change: (o) => { o.push(telemetry({ accessLogging: [{ providers: [{ name: "envoy" }], filter: { expression: "response.code >= 400" } }] })); }, expect: [] },
        {
            name: "an UPSERT tag override without a value",
            change: (o) => { o.push(telemetry({ metrics: [{ providers: [{ name: "prometheus" }], overrides: [{ tagOverrides: { request_host: { operation: "UPSERT" } } }] }] })); },
            expect: ["telemetry-istiod"],
        },
    ]);
});
