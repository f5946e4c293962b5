/**
 * Value checks istiod's validation applies to single fields (hosts, durations, regexes, header names,
 * ports, label keys), written from the facts of Istio's `pkg/config/validation` at the pinned release.
 * Each returns the reason a value is refused, or undefined when istiod accepts it.
 */
import { parse as parseCel } from "@marcbachmann/cel-js";
import { RE2JS } from "re2js";
import { asArray, asRecord, asString, at } from "./k8s";

/** Istio's DNS-1123 label: unlike Kubernetes', upper case is allowed. */
const LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

export function isIstioLabel(v: string): boolean {
    return v.length <= 63 && LABEL.test(v);
}

function domainPreconditions(d: string): string | undefined {
    if (d.length > 255) return `domain name "${d}" is longer than 255 characters`;
    return d.length === 0 ? "empty domain name" : undefined;
}

function labelsError(d: string): string | undefined {
    const parts = d.split(".");
    const top = parts[parts.length - 1];
    if (/^[0-9]+$/.test(top)) return `domain name "${d}": the top-level domain "${top}" is all digits`;
    for (const [i, label] of parts.entries()) {
        // A trailing dot (`istio.io.`) is allowed.
        if (i === parts.length - 1 && label === "") return undefined;
        if (!isIstioLabel(label)) return `domain name "${d}": label "${label}" is not a DNS-1123 label`;
    }
    return undefined;
}

/** A host that may start with a wildcard label (`*`, `*.example.com`, `*-svc.example.com`). */
export function wildcardDomainError(d: string): string | undefined {
    const pre = domainPreconditions(d);
    if (pre) return pre;
    const dot = d.indexOf(".");
    const first = dot < 0 ? d : d.slice(0, dot);
    if (!(first.length <= 63 && WILDCARD_LABEL.test(first))) return `domain name "${d}": label "${first}" is not a DNS-1123 label or wildcard`;
    return dot < 0 ? undefined : labelsError(d.slice(dot + 1));
}

/** A host without wildcards. */
export function fqdnError(d: string): string | undefined {
    return domainPreconditions(d) ?? labelsError(d);
}

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** An IPv4 or IPv6 address as Go's netip parses it (IPv6 zones allowed, no leading zeros in IPv4). */
export function isIp(v: string): boolean {
    if (IPV4.test(v)) return true;
    const [addr, zone] = v.split("%", 2);
    if (zone === "" || !addr.includes(":")) return false;
    let body = addr;
    const tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
    if (tail) {
        if (!IPV4.test(tail[1])) return false;
        body = `${addr.slice(0, tail.index)}:0:0`;
    }
    const halves = body.split("::");
    if (halves.length > 2) return false;
    const groups = halves.map((h) => (h === "" ? [] : h.split(":")));
    if (groups.flat().some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return false;
    const count = groups.flat().length;
    return halves.length === 2 ? count <= 7 : count === 8;
}

/** An address or a CIDR block (`10.0.0.0/8`); Go's netip refuses host bits only in neither. */
export function ipOrCidrError(v: string): string | undefined {
    const parts = v.split("/");
    if (parts.length === 2) {
        const [ip, bits] = parts;
        const max = ip.includes(":") ? 128 : 32;
        return isIp(ip) && !ip.includes("%") && /^(0|[1-9][0-9]*)$/.test(bits) && Number(bits) <= max ? undefined : `"${v}" is not a valid CIDR block`;
    }
    return parts.length === 1 && isIp(v) ? undefined : `"${v}" is not a valid IP address`;
}

export function portError(n: unknown): string | undefined {
    return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535 ? undefined : `port number ${String(n)} is outside 1-65535`;
}

const UNIT_NANOS: Record<string, bigint> = {
    ns: 1n, us: 1_000n, "\u00b5s": 1_000n, "\u03bcs": 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};
const DURATION_PART = /([0-9]*)(?:\.([0-9]*))?([a-z\u00b5\u03bc]+)/y;

/**
 * Nanoseconds of a duration as istiod decodes it (Go's time.ParseDuration: `1.5s`, `100ms`, `1m30s`, a bare
 * `0`); undefined when it cannot be decoded at all.
 */
export function durationNanos(v: unknown): bigint | undefined {
    if (typeof v !== "string" || v === "") return undefined;
    let rest = v;
    const negative = rest.startsWith("-");
    if (rest.startsWith("-") || rest.startsWith("+")) rest = rest.slice(1);
    if (rest === "0") return 0n;
    if (rest === "") return undefined;
    let total = 0n;
    DURATION_PART.lastIndex = 0;
    while (DURATION_PART.lastIndex < rest.length) {
        const m = DURATION_PART.exec(rest);
        if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
        const unit = UNIT_NANOS[m[3]];
        if (unit === undefined) return undefined;
        const frac = m[2] ?? "";
        total += BigInt(m[1] || "0") * unit + (frac === "" ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length));
    }
    return negative ? -total : total;
}

const undecodable = (v: unknown) => `${JSON.stringify(v)} is not a duration istiod can decode (such as "1.5s", "100ms" or "1m")`;

/**
 * istiod's rule for most durations: at least 1ms, in whole milliseconds. A value it cannot decode (`10`,
 * `1d`) is refused before any rule runs.
 */
export function durationError(v: unknown): string | undefined {
    const ns = durationNanos(v);
    if (ns === undefined) return undecodable(v);
    if (ns < 1_000_000n) return `duration ${String(v)} is below 1ms`;
    return ns % 1_000_000n !== 0n ? `duration ${String(v)} is finer than a millisecond` : undefined;
}

/** Only the decoding (for durations istiod bounds otherwise or not at all). */
export function durationFormatError(v: unknown): string | undefined {
    return durationNanos(v) === undefined ? undecodable(v) : undefined;
}

/** Go's regexp (RE2 syntax): no lookaround or backreferences, repeat counts up to 1000. */
export function re2Error(re: string): string | undefined {
    if (re.length > 1024) return "regex is longer than 1024 characters";
    try {
        RE2JS.compile(re);
        return undefined;
    } catch (e) {
        return `regex ${JSON.stringify(re)} does not compile with RE2 semantics: ${(e as Error).message}`;
    }
}

/** Parses a CEL expression as cel-go's parser does (syntax only: istiod never type-checks access-log filters). */
export function celSyntaxError(expr: string): string | undefined {
    try {
        parseCel(expr);
        return undefined;
    } catch (e) {
        return `${JSON.stringify(expr)} is not a valid CEL expression: ${(e as Error).message.split("\n")[0]}`;
    }
}

/** RFC 7230 token characters: what istiod allows in a header name it matches on. */
const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const PSEUDO_HEADERS = [":method", ":scheme", ":authority", ":path", ":status"];

/** `@request.auth.claims.<name>` or `@request.auth.claims[<name>]`: routing on a JWT claim. */
export function isJwtClaimRoute(name: string): boolean {
    const prefix = "@request.auth.claims";
    if (!name.toLowerCase().startsWith(prefix)) return false;
    const rest = name.slice(prefix.length);
    return (rest.startsWith(".") && rest.length > 1) || (rest.startsWith("[") && rest.endsWith("]") && rest.length > 2);
}

export function matchHeaderNameError(name: string): string | undefined {
    if (name === "") return "header name is empty";
    if (isJwtClaimRoute(name) || PSEUDO_HEADERS.includes(name)) return undefined;
    return TOKEN.test(name) ? undefined : `header name "${name}" is not a valid header name`;
}

export function corsHeaderNameError(name: string): string | undefined {
    if (name === "") return "header name is empty";
    return name === "*" || TOKEN.test(name) ? undefined : `header name "${name}" is not a valid header name`;
}

const internal = (n: string) => n.startsWith(":") || n.toLowerCase() === "host";
const authority = (n: string) => n.toLowerCase() === ":authority" || n.toLowerCase() === "host";

/** Request headers a route adds or sets: `:authority`/`host` may be set, other pseudo headers not. */
export function requestHeaderSetError(name: string): string | undefined {
    if (name === "") return "header name is empty";
    return internal(name) && !authority(name) ? `header "${name}" may not start with ":"` : undefined;
}

/** Headers a route removes, or response headers it touches: neither Host nor pseudo headers. */
export function headerOperationError(name: string): string | undefined {
    if (name === "") return "header name is empty";
    if (name.toLowerCase() === "host") return `header "${name}": the Host header cannot be set`;
    return name.startsWith(":") ? `header "${name}" may not start with ":"` : undefined;
}

/** Control characters other than tab are refused in header values. */
export function headerValueError(value: unknown): string | undefined {
    return typeof value === "string" && /[\u0000-\u0008\u000A-\u001F\u007F]/.test(value) ? `header value ${JSON.stringify(value)} contains control characters` : undefined;
}

/** Kubernetes label keys (optional DNS prefix, then a qualified name of at most 63 characters). */
const LABEL_KEY = /^(([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\/)?([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** istiod's check of a label map (subset labels, sourceLabels, endpoint labels). */
export function labelMapErrors(labels: unknown): string[] {
    const r = asRecord(labels);
    if (!r) return [];
    return Object.entries(r).flatMap(([k, v]): string[] => {
        const m = LABEL_KEY.exec(k);
        if (!m) return [`label key "${k}" is invalid`];
        if ((m[2] ?? "").length > 253 || m[6].length > 63) return [`label key "${k}" is too long`];
        const value = typeof v === "string" ? v : String(v);
        return value.length > 63 || !LABEL_VALUE.test(value) ? [`label value "${value}" of "${k}" is invalid`] : [];
    });
}

/** The protocols istiod knows (any case); others are Unsupported. */
const PROTOCOLS = ["tcp", "udp", "grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tls", "mongo", "redis", "mysql"];

export function knownProtocol(p: string): boolean {
    return PROTOCOLS.includes(p.toLowerCase());
}

export const isHttpProtocol = (p: string) => ["http", "http2", "http_proxy", "grpc", "grpc-web"].includes(p.toLowerCase());
export const isTlsProtocol = (p: string) => ["https", "tls"].includes(p.toLowerCase());

/** `exportTo`: namespaces, `.` (this one), `*` (all) or `~` (none, ServiceEntry only), each once, wildcards alone. */
export function exportToErrors(exportTo: unknown, namespace: string, serviceEntry: boolean): string[] {
    const values = asArray(exportTo).filter((v): v is string => typeof v === "string");
    const seen = new Set<string>();
    const errors: string[] = [];
    for (const e of values) {
        const key = e === "." ? namespace : e;
        if (seen.has(key)) {
            errors.push(key !== e ? `"." and the object's namespace ${namespace} are the same entry` : `"${e}" is listed twice`);
            continue;
        }
        if (e === "~" && !serviceEntry) {
            errors.push(`"~" (export to no namespace) is only for ServiceEntry`);
        } else if (!["*", "~"].includes(key) && !isIstioLabel(key)) {
            errors.push(`"${e}" is not a namespace, "." or "*"`);
        }
        seen.add(key);
    }
    if (seen.has("*") && values.length > 1) errors.push(`"*" (all namespaces) cannot be combined with other entries`);
    if (seen.has("~") && values.length > 1) errors.push(`"~" (no namespace) cannot be combined with other entries`);
    return errors;
}

/** The selector istiod checks on security and telemetry kinds: no empty key, no `*` anywhere. */
export function selectorErrors(labels: unknown): string[] {
    const r = asRecord(labels);
    if (!r) return [];
    return Object.entries(r).flatMap(([k, v]): string[] => [
        ...(k === "" ? [`empty label key ("=${String(v)}")`] : []),
        ...(k.includes("*") || String(v).includes("*") ? [`wildcard in "${k}=${String(v)}"`] : []),
    ]);
}

/** targetRef(s) istiod accepts: a name, no namespace, kind Service, ServiceEntry, Gateway (gateway API) or GatewayClass. */
export function targetRefErrors(ref: unknown): string[] {
    if (ref === undefined) return [];
    const errors: string[] = [];
    if (!asString(at(ref, "name"))) errors.push("name is not set");
    if (asString(at(ref, "namespace"))) errors.push("namespace is set; cross-namespace references are not supported");
    const group = asString(at(ref, "group")) ?? "";
    const kind = asString(at(ref, "kind")) ?? "";
    const allowed = (group === "" && kind === "Service") || (group === "networking.istio.io" && kind === "ServiceEntry")
        || (group === "gateway.networking.k8s.io" && (kind === "Gateway" || kind === "GatewayClass"));
    if (!allowed) errors.push(`kind ${group}/${kind} is not Service, ServiceEntry, Gateway or GatewayClass`);
    return errors;
}

/** Host wildcard matching as istiod compares hosts: `*.a.com` covers `b.a.com`, `*` covers all. */
export function hostsOverlap(a: string, b: string): boolean {
    const wa = a.startsWith("*");
    const wb = b.startsWith("*");
    if (!wa && !wb) return a === b;
    if (wa && wb) return a.length > b.length ? a.endsWith(b.slice(1)) : b.endsWith(a.slice(1));
    return wa ? b.endsWith(a.slice(1)) : a.endsWith(b.slice(1));
}

/** `a` is a subset of `b` (istiod's SubsetOf): `b.a.com` ⊂ `*.a.com` ⊂ `*`. */
export function hostSubsetOf(a: string, b: string): boolean {
    if (b.startsWith("*")) return a.startsWith("*") ? a.length >= b.length && a.slice(1).endsWith(b.slice(1)) : a.endsWith(b.slice(1));
    return !a.startsWith("*") && a === b;
}
