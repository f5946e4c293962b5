/**
 * Seeded mutation of Istio objects for the generative differential: every variant is one base object with one
 * change (a field dropped or retyped, a number, weight, port or duration perturbed, a name or host rewritten,
 * a regex or CEL expression broken, a selector or list entry duplicated, or a field istiod judges inserted),
 * reproducible from its seed alone.
 */
import { KubeObject } from "../../../policy-pack/rules";

type Json = Record<string, unknown>;
type Path = (string | number)[];

/** mulberry32: small, fast and good enough to spread mutations. */
export function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function get(v: unknown, path: Path): unknown {
    return path.reduce<unknown>((cur, k) => (cur !== null && typeof cur === "object" ? (cur as Json)[k as string] : undefined), v);
}

function set(v: unknown, path: Path, value: unknown): void {
    const parent = get(v, path.slice(0, -1)) as Json;
    parent[path[path.length - 1] as string] = value;
}

function remove(v: unknown, path: Path): void {
    const parent = get(v, path.slice(0, -1));
    const key = path[path.length - 1];
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete (parent as Json)[key as string];
}

/** Every node under `spec` (and the name), with its path. */
function nodes(obj: unknown, base: Path = []): { path: Path; value: unknown }[] {
    const out: { path: Path; value: unknown }[] = [];
    const walk = (v: unknown, path: Path) => {
        out.push({ path, value: v });
        if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
        else if (v !== null && typeof v === "object") Object.entries(v).forEach(([k, x]) => walk(x, [...path, k]));
    };
    walk(get(obj, base), base);
    return out.slice(1);
}

const DURATIONS = ["0s", "0", "0.0005s", "0.001s", "100ms", "1m", "1m30s", "1.0001s", "10", "1d", "-1s", "5s", "1h", ""];
const NUMBERS = [0, -1, 1, 100, 101, 65535, 65536, 0.5, 2147483648, 3, 50];
const REGEXES = ["/api(?=/v1)", "(a)\\1", "[z-a]", "a{1001}", "", "/v[0-9]+/.*", "(?i)^/API", "\\pL+", "x**", "[[:alpha:]]+"];
const CEL = ["response.code >= 400", "response.code >=", "!", "a ? b : c", "x in [1, 2]", "request.headers['x'] == 'y'", "1 +", "foo("];
const HOSTS = ["", "*", "mesh", "*.example.com", "Shop.Example.com", "a_b.example.com", "ns/host.example.com", "host", "10.0.0.1", "*.", "api.example.com.", "a..b", "*-svc.example.com", "x*.example.com"];

function stringVariants(r: () => number, s: string, key: string): string[] {
    if (/^-?[0-9.]+(ns|us|ms|s|m|h)$/.test(s) || /[Tt]imeout|[Ii]nterval|[Dd]uration|[Dd]elay|Time$|maxAge|backoff/.test(key)) return DURATIONS;
    if (/regex|proxyVersion|match$/i.test(key)) return REGEXES;
    if (key === "expression") return CEL;
    const upper = s.toUpperCase();
    return [upper, `${s}.x`, `*.${s}`, "*", "", `${s}_x`, `ns/${s}`, "mesh", `${s}/`, `${s}*`, pick(r, HOSTS)];
}

/** Fields istiod judges that the rendered objects rarely carry, per kind: [parent path pattern, key, values]. */
const INSERTS: Record<string, [RegExp, string, unknown[]][]> = {
    VirtualService: [
        [/^spec\.http\.\d+$/, "timeout", DURATIONS],
        [/^spec\.http\.\d+$/, "retries", [{ retryOn: "5xx" }, { attempts: 2, retryOn: "5xx,bogus" }, { attempts: 2, retryOn: "503,connect-failure", perTryTimeout: "0.5s" }, { attempts: -1 }]],
        [/^spec\.http\.\d+$/, "match", [[{ headers: { "@request.auth.claims.group": { exact: "a" } } }], [{ uri: { regex: pick(rng(1), REGEXES) } }], [{ uri: { regex: "/api(?=/v1)" } }], [{ uri: { prefix: "" } }], [{ headers: { "bad header": { exact: "x" } } }], [{ port: 70000 }]]],
        [/^spec\.http\.\d+$/, "fault", [{ abort: { httpStatus: 503, percentage: { value: 10 } } }, { abort: { grpcStatus: "GONE" } }, { delay: { fixedDelay: "0.0001s" } }, {}]],
        [/^spec\.http\.\d+$/, "corsPolicy", [{ allowOrigins: [{ exact: "" }] }, { allowMethods: ["FETCH"] }, { allowOrigins: [{ regex: "(?=x)" }] }, { maxAge: "1.5s" }, { allowOrigins: [{ prefix: "https://" }], allowMethods: ["GET"] }]],
        [/^spec\.http\.\d+$/, "mirror", [{ host: "" }, { host: "web" }, { host: "*" }]],
        [/^spec\.http\.\d+$/, "headers", [{ response: { set: { host: "x" } } }, { request: { set: { ":path": "/" } } }, { request: { add: { "x-a": "b" } } }]],
        [/^spec\.http\.\d+\.route\.\d+\.destination$/, "host", HOSTS],
        [/^spec\.http\.\d+\.route\.\d+\.destination$/, "subset", ["v1", "V1", "v1.0", "", "v_1"]],
        [/^spec$/, "hosts", [["*"], ["a.example.com", "*.example.com"], [""], ["mesh"]]],
        [/^spec$/, "gateways", [["mesh"], ["a/b"], ["a/B_c"], ["A.b"], ["/x"]]],
        [/^spec$/, "exportTo", [[".", "."], ["*", "."], ["~"], ["Bad_ns"]]],
    ],
    Gateway: [
        [/^spec\.servers\.\d+$/, "hosts", [[], ["*"], ["shop"], ["ns/*.example.com"], ["*/a.example.com"], ["a*.example.com"], ["~/a.example.com"]]],
        [/^spec\.servers\.\d+\.port$/, "name", ["", "http", "HTTP", "a.b"]],
        [/^spec\.servers\.\d+\.port$/, "protocol", ["HTTP3", "tcp", "TLS", "UDP", ""]],
        [/^spec\.servers\.\d+$/, "bind", ["0.0.0.0", "unix:///var/run/x.sock", "unix://rel", "not-an-ip"]],
        [/^spec\.servers\.\d+$/, "tls", [{ httpsRedirect: true }, { mode: "ISTIO_MUTUAL", credentialName: "x" }, { mode: "SIMPLE", credentialName: "a", credentialNames: ["b"] }]],
    ],
    Sidecar: [
        [/^spec\.egress\.\d+$/, "hosts", [["api.example.com"], ["*/api.example.com"], ["./*"], ["Bad_ns/*"], ["./a*"], ["/x"]]],
        [/^spec\.egress\.\d+$/, "port", [{ number: 8080, name: "http", protocol: "HTTP" }, { number: 0 }, { number: 8080, protocol: "HTTP3" }]],
        [/^spec$/, "ingress", [[{ port: { number: 9080, protocol: "HTTP", name: "http" }, defaultEndpoint: "127.0.0.1:9080" }], [{ port: { number: 9080, protocol: "HTTP", name: "http" }, defaultEndpoint: "10.0.0.1:9080" }], [{}]]],
    ],
    DestinationRule: [
        [/^spec\.trafficPolicy$/, "loadBalancer", [
            { localityLbSetting: { distribute: [{ from: "westeurope/*", to: { "westeurope/1": 60, "westeurope/2": 30 } }] } },
            { localityLbSetting: { distribute: [{ from: "westeurope/*", to: { "westeurope/1": 70, "westeurope/2": 30 } }] } },
            { consistentHash: { maglev: { tableSize: 65536 } } }, { consistentHash: { maglev: { tableSize: 65537 } } },
            { localityLbSetting: { failover: [{ from: "a", to: "a" }] } }, { warmup: {} },
        ]],
        [/^spec\.trafficPolicy$/, "connectionPool", [{}, { tcp: { connectTimeout: "10" } }, { tcp: { connectTimeout: "1m" } }, { http: { maxRetries: -1 } }, { tcp: { idleTimeout: "0s" } }]],
        [/^spec\.trafficPolicy$/, "outlierDetection", [{ consecutiveLocalOriginFailures: 3 }, { interval: "0.5ms" }, { maxEjectionPercent: 101 }]],
        [/^spec\.subsets\.\d+$/, "name", ["v1.0", "V1", "", "v-1"]],
        [/^spec\.subsets\.\d+$/, "trafficPolicy", [{}, { tls: { mode: "MUTUAL" } }]],
        [/^spec$/, "host", HOSTS],
    ],
    AuthorizationPolicy: [
        [/^spec\.rules\.\d+$/, "when", [[{ key: "request.method", values: ["GET"] }], [{ key: "request.headers[x]", values: ["a"] }], [{ key: "source.ip", values: ["10.0.0.0/33"] }], [{ key: "", values: ["a"] }], [{ key: "request.headers", values: ["a"] }], [{ key: "destination.port", notValues: ["80"] }]]],
        [/^spec\.rules\.\d+$/, "to", [[{ operation: { paths: ["/api/{**}/{*}"] } }], [{ operation: { paths: ["/api/{*}x"] } }], [{ operation: { paths: ["/api/{*}/x/{**}"] } }], [{ operation: {} }], [], [{ operation: { ports: ["70000"] } }]]],
        [/^spec\.rules\.\d+$/, "from", [[{ source: {} }], [], [{ source: { principals: [""] } }], [{ source: { ipBlocks: ["10.0.0.1/40"] } }], [{ source: { serviceAccounts: ["a/b/c"] } }]]],
    ],
    PeerAuthentication: [
        [/^spec$/, "portLevelMtls", [{ 8080: { mode: "STRICT" } }, { 0: { mode: "STRICT" } }, {}]],
        [/^spec$/, "selector", [{ matchLabels: { app: "*" } }, { matchLabels: { app: "x" } }]],
    ],
    RequestAuthentication: [
        [/^spec\.jwtRules\.\d+$/, "jwksUri", ["ftp://x/keys", "https://x/keys", ""]],
        [/^spec\.jwtRules\.\d+$/, "audiences", [[""], ["a"]]],
        [/^spec\.jwtRules\.\d+$/, "outputClaimToHeaders", [[{ claim: "sub", header: "x-sub" }], [{ claim: "sub", header: "x sub" }], [{ claim: "", header: "x" }]]],
    ],
    ServiceEntry: [
        [/^spec$/, "hosts", [["*.example.com"], ["*"], ["a.example.com", "b.example.com"], [""]]],
        [/^spec$/, "resolution", ["DNS", "NONE", "STATIC", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"]],
        [/^spec$/, "addresses", [["10.0.0.0/24"], ["10.0.0.1"], ["bad"]]],
        [/^spec$/, "endpoints", [[{ address: "10.0.0.1" }], [{ address: "api.example.com" }], [{ address: "10.0.0.1", ports: { nope: 80 } }]]],
    ],
    EnvoyFilter: [
        [/^spec\.configPatches\.\d+$/, "applyTo", ["INVALID", "CLUSTER", "LISTENER", "HTTP_ROUTE"]],
        [/^spec\.configPatches\.\d+\.patch$/, "operation", ["INVALID", "REMOVE", "MERGE", "ADD"]],
        [/^spec\.configPatches\.\d+\.match$/, "proxy", [{ proxyVersion: "^1\\.30(?=x)" }, { proxyVersion: "^1\\.30.*" }]],
    ],
    Telemetry: [
        [/^spec\.accessLogging\.\d+$/, "filter", CEL.map((expression) => ({ expression }))],
        [/^spec$/, "metrics", [[{ providers: [{ name: "prometheus" }], overrides: [{ tagOverrides: { request_host: { operation: "UPSERT" } } }] }], [{ providers: [{ name: "" }] }], [{ overrides: [{ tagOverrides: { a: { operation: "REMOVE", value: "x" } } }] }]]],
        [/^spec$/, "tracing", [[{ randomSamplingPercentage: 101 }], [{ customTags: { a: { literal: { value: "" } } } }], [{ randomSamplingPercentage: 10 }]]],
    ],
};

export interface Variant {
    readonly seed: number;
    readonly kind: string;
    /** `Kind namespace/name` of the base object. */
    readonly base: string;
    /** What changed: `path: old → new`. */
    readonly mutation: string;
    readonly object: KubeObject;
}

const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v)).slice(0, 120);

/** One variant of `base` from `seed`; undefined when the chosen mutation does not apply. */
export function mutate(base: KubeObject, seed: number): Variant | undefined {
    const r = rng(seed);
    const obj = structuredClone(base) as Json;
    const meta = obj.metadata as Json;
    const baseName = `${String(base.kind)} ${String(meta.namespace)}/${String(meta.name)}`;
    meta.name = `g${seed}`;
    delete meta.uid;
    delete meta.resourceVersion;
    const kind = String(base.kind);
    const all = nodes(obj, ["spec"]);
    const op = r();
    let mutation: string;
    if (op < 0.05) {
        const name = pick(r, [`G${seed}`, `g${seed}.x`, `g${seed}-`, `g${seed}_x`]);
        meta.name = name;
        mutation = `metadata.name → ${name}`;
    } else if (op < 0.45) {
        const inserts = (INSERTS[kind] ?? []).flatMap(([pattern, key, values]) =>
            all.filter((n) => pattern.test(n.path.join(".")) && n.value !== null && typeof n.value === "object" && !Array.isArray(n.value)).map((n) => ({ n, key, values })));
        const spec = { n: { path: ["spec"] as Path, value: obj.spec }, key: "", values: [] as unknown[] };
        const candidates = [...inserts, ...(INSERTS[kind] ?? []).filter(([p]) => p.source === "^spec$").map(([, key, values]) => ({ ...spec, key, values }))];
        if (candidates.length === 0) return undefined;
        const c = pick(r, candidates);
        const value = structuredClone(pick(r, c.values));
        const path = [...c.n.path, c.key];
        mutation = `${path.join(".")}: ${show(get(obj, path))} → ${show(value)}`;
        set(obj, path, value);
    } else {
        if (all.length === 0) return undefined;
        const n = pick(r, all);
        const key = String(n.path[n.path.length - 1]);
        const kindOf = Array.isArray(n.value) ? "array" : n.value === null ? "null" : typeof n.value;
        const how = r();
        let value: unknown;
        if (how < 0.2) {
            mutation = `${n.path.join(".")}: dropped`;
            remove(obj, n.path);
            return { seed, kind, base: baseName, mutation, object: obj as KubeObject };
        } else if (how < 0.3) {
            const retyped: unknown[] = kindOf === "string" ? [7, true, ["x"], null] : kindOf === "number" ? [String(n.value), "x", null] : kindOf === "array" ? [{}, "x"] : ["x", 1, null];
            value = pick(r, retyped);
        } else if (kindOf === "array" && (n.value as unknown[]).length > 0) {
            const list = n.value as unknown[];
            value = [...list, structuredClone(pick(r, list))];
        } else if (kindOf === "number") {
            value = pick(r, NUMBERS);
        } else if (kindOf === "string") {
            value = pick(r, stringVariants(r, n.value as string, key));
        } else if (kindOf === "object") {
            const labels = /labels|matchLabels/i.test(key);
            value = labels ? { ...(n.value as Json), [pick(r, ["", "app", "a*", "Bad Key"])]: pick(r, ["*", "x", "", "a b"]) } : {};
        } else {
            value = pick(r, [true, false, "true", null]);
        }
        mutation = `${n.path.join(".")}: ${show(n.value)} → ${show(value)}`;
        set(obj, n.path, value);
    }
    return { seed, kind, base: baseName, mutation, object: obj as KubeObject };
}

/** Up to `perBase` distinct variants of each base, seeds derived from the base's index. */
export function variants(bases: readonly KubeObject[], perBase: number): Variant[] {
    const seen = new Set<string>();
    const out: Variant[] = [];
    bases.forEach((b, i) => {
        let made = 0;
        for (let j = 1; j <= perBase * 3 && made < perBase; j++) {
            const seed = i * 1000 + j;
            const v = mutate(b, seed);
            if (!v) continue;
            const meta = v.object.metadata ?? {};
            const key = JSON.stringify({ ...v.object, metadata: { ...meta, name: String(meta.name).replace(String(seed), "#") } });
            if (seen.has(key)) continue;
            seen.add(key);
            out.push(v);
            made++;
        }
    });
    return out;
}
