/**
 * The rest of istiod's validation (the `ValidateVirtualService`, `ValidateGateway`, ... functions that
 * `istioctl validate` and the validating webhook run), one rule per kind: what the CRD schemas and their
 * CEL rules let through and istiod refuses. webhook.ts keeps the older, narrower rules; nothing is
 * reported twice. Every message starts with the field path at fault.
 */
import {
    celSyntaxError, corsHeaderNameError, durationError, durationFormatError, durationNanos, exportToErrors, fqdnError, headerOperationError,
    headerValueError, hostsOverlap, hostSubsetOf, ipOrCidrError, isHttpProtocol, isIp, isIstioLabel, isJwtClaimRoute, isTlsProtocol,
    knownProtocol, labelMapErrors, matchHeaderNameError, portError, re2Error, requestHeaderSetError, selectorErrors, targetRefErrors,
    wildcardDomainError,
} from "./istiod-values";
import { asArray, asRecord, asString, asStrings, at, GK, namespaceOf, NETWORKING } from "./k8s";
import { Issue, ResourceRule } from "./rule";

const REFUSED = "istiod's validation (istioctl validate, the validating webhook) refuses the object, so the apply fails";

/** Collects `path: reason` findings. */
class Findings {
    readonly issues: Issue[] = [];
    add(path: string, reason: string | undefined): void {
        if (reason !== undefined) this.issues.push({ message: `${path}: ${reason}` });
    }
    all(path: string, reasons: readonly string[]): void {
        reasons.forEach((r) => this.add(path, r));
    }
}

const entries = (v: unknown): [string, unknown][] => Object.entries(asRecord(v) ?? {});
const present = (v: unknown, key: string): boolean => asRecord(v) !== undefined && key in (asRecord(v) as object) && (asRecord(v) as Record<string, unknown>)[key] !== null;
const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const str = (v: unknown): string => asString(v) ?? "";
const listed = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

function checkDuration(f: Findings, path: string, v: unknown): void {
    if (v !== undefined && v !== null) f.add(path, durationError(v));
}

/** `gateways` entries: `name`, `namespace/name` or `mesh`. */
function gatewayNames(f: Findings, path: string, names: unknown): void {
    asStrings(names).forEach((g, i) => {
        const p = `${path}[${i}]`;
        const slash = g.indexOf("/");
        if (slash < 0) {
            f.add(p, fqdnError(g));
            return;
        }
        const [ns, name] = [g.slice(0, slash), g.slice(slash + 1)];
        if (ns === "" || name === "") f.add(p, "namespace and gateway name must both be set");
        if (!isIstioLabel(ns)) f.add(p, `namespace "${ns}" is not a DNS-1123 label`);
        if (!isIstioLabel(name)) f.add(p, `gateway name "${name}" is not a DNS-1123 label`);
    });
}

/** A StringMatch: an empty prefix or regex, or a regex RE2 cannot compile. */
function stringMatch(f: Findings, path: string, sm: unknown, regexOnly = false): void {
    if (!asRecord(sm)) return;
    if (!regexOnly && at(sm, "prefix") === "") f.add(`${path}.prefix`, "prefix match is empty");
    const re = at(sm, "regex");
    if (typeof re === "string") f.add(`${path}.regex`, re === "" ? "regex match is empty" : re2Error(re));
}

function headerOps(f: Findings, path: string, headers: unknown): void {
    for (const side of ["request", "response"] as const) {
        const base = `${path}.${side}`;
        for (const op of ["add", "set"] as const) {
            for (const [name, value] of entries(at(headers, side, op))) {
                f.add(`${base}.${op}["${name}"]`, side === "request" ? requestHeaderSetError(name) : headerOperationError(name));
                f.add(`${base}.${op}["${name}"]`, headerValueError(value));
            }
        }
        asStrings(at(headers, side, "remove")).forEach((name, i) => f.add(`${base}.remove[${i}]`, headerOperationError(name)));
    }
    const auth = [...entries(at(headers, "request", "set")), ...entries(at(headers, "request", "add"))].filter(([k]) => ["host", ":authority"].includes(k.toLowerCase()));
    if (auth.length > 1) f.add(`${path}.request`, "the authority header is set more than once");
}

function destination(f: Findings, path: string, d: unknown): void {
    if (!asRecord(d)) return;
    const host = str(at(d, "host"));
    f.add(`${path}.host`, host === "*" ? `"*" is not a destination host` : wildcardDomainError(host));
    const subset = at(d, "subset");
    if (typeof subset === "string" && subset !== "" && !isIstioLabel(subset)) f.add(`${path}.subset`, `subset name "${subset}" is not a DNS-1123 label`);
    if (present(d, "port")) f.add(`${path}.port.number`, portError(num(at(d, "port", "number"))));
}

/** Route destinations (http, tcp, tls): each needs a destination; negative and all-zero weights are webhook.ts's. */
function destinations(f: Findings, path: string, route: unknown, http: boolean): void {
    asArray(route).forEach((rd, j) => {
        const p = `${path}[${j}]`;
        if (!asRecord(rd)) {
            f.add(p, "route destination may not be null");
            return;
        }
        if (!asRecord(at(rd, "destination"))) f.add(`${p}.destination`, "destination is required");
        destination(f, `${p}.destination`, at(rd, "destination"));
        if (http) headerOps(f, `${p}.headers`, at(rd, "headers"));
    });
}

const RETRY_ON = [
    "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx", "refused-stream", "retriable-status-codes",
    "retriable-headers", "envoy-ratelimited", "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal", "resource-exhausted",
    "unavailable",
];
/** The status codes Go's net/http has a text for (istiod accepts a retryOn entry naming one). */
const HTTP_STATUS = new Set([
    100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
    ...Array.from({ length: 19 }, (_, i) => 400 + i), 421, 422, 423, 424, 425, 426, 428, 429, 431, 451,
    ...Array.from({ length: 9 }, (_, i) => 500 + i), 510, 511,
]);
const GRPC_STATUS = [
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];
const CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"];

function retryOnError(policy: string): string | undefined {
    const code = /^[0-9]+$/.test(policy) ? Number(policy) : NaN;
    return HTTP_STATUS.has(code) || RETRY_ON.includes(policy) ? undefined : `"${policy}" is not a retryOn policy Envoy knows`;
}

function percentage(f: Findings, path: string, p: unknown): void {
    const v = at(p, "value");
    if (typeof v === "number" && (v < 0 || v > 100 || (v > 0 && v < 0.0001))) f.add(path, `percentage ${v} is neither 0 nor within 0.0001-100`);
}

function httpMatch(f: Findings, path: string, m: unknown): void {
    if (!asRecord(m)) return;
    for (const [name, sm] of entries(at(m, "headers"))) {
        const p = `${path}.headers["${name}"]`;
        if (sm === null) f.add(p, "header match may not be null");
        f.add(p, matchHeaderNameError(name));
        stringMatch(f, p, sm);
    }
    for (const [name, sm] of entries(at(m, "withoutHeaders"))) {
        const p = `${path}.withoutHeaders["${name}"]`;
        f.add(p, matchHeaderNameError(name));
        if (at(sm, "regex") !== "*") stringMatch(f, p, sm);
    }
    stringMatch(f, `${path}.uri`, at(m, "uri"), true);
    for (const k of ["scheme", "method", "authority"]) stringMatch(f, `${path}.${k}`, at(m, k));
    for (const [name, sm] of entries(at(m, "queryParams"))) stringMatch(f, `${path}.queryParams["${name}"]`, sm);
    if (num(at(m, "port")) !== 0) f.add(`${path}.port`, portError(at(m, "port")));
    f.all(`${path}.sourceLabels`, labelMapErrors(at(m, "sourceLabels")));
    gatewayNames(f, `${path}.gateways`, at(m, "gateways"));
    const ns = at(m, "sourceNamespace");
    if (typeof ns === "string" && ns !== "" && !isIstioLabel(ns)) f.add(`${path}.sourceNamespace`, `"${ns}" is not a DNS-1123 label`);
}

function httpRoute(f: Findings, path: string, r: unknown, delegateVs: boolean): void {
    const has = (k: string) => present(r, k);
    const route = asArray(at(r, "route"));
    if (!delegateVs && has("delegate")) {
        if (has("redirect")) f.add(`${path}.redirect`, "a route that delegates may not redirect");
        if (has("route")) f.add(`${path}.route`, "a route that delegates may not also route");
    } else {
        if (delegateVs && has("delegate")) f.add(`${path}.delegate`, "a delegate VirtualService cannot delegate again");
        if (has("redirect")) {
            if (route.length > 0) f.add(path, "route and redirect are exclusive");
            if (has("fault")) f.add(path, "fault and redirect are exclusive");
            if (has("rewrite")) f.add(path, "rewrite and redirect are exclusive");
            if (has("directResponse")) f.add(path, "directResponse and redirect are exclusive");
        } else if (has("directResponse")) {
            if (route.length > 0) f.add(path, "route and directResponse are exclusive");
            if (has("fault")) f.add(path, "fault and directResponse are exclusive");
            if (has("rewrite")) f.add(path, "rewrite and directResponse are exclusive");
        }
    }
    if (has("mirror") && listed(at(r, "mirrors"))) f.add(path, "mirror and mirrors are exclusive");
    asArray(at(r, "match")).forEach((m, i) => httpMatch(f, `${path}.match[${i}]`, m));
    headerOps(f, `${path}.headers`, at(r, "headers"));

    const cors = at(r, "corsPolicy");
    if (asRecord(cors)) {
        asArray(at(cors, "allowOrigins")).forEach((o, i) => {
            const p = `${path}.corsPolicy.allowOrigins[${i}]`;
            const value = str(at(o, "exact")) || str(at(o, "prefix")) || str(at(o, "regex"));
            if (value === "") f.add(p, "needs a non-empty exact, prefix or regex");
            else stringMatch(f, p, o, true);
        });
        asStrings(at(cors, "allowMethods")).forEach((m, i) => { if (!CORS_METHODS.includes(m)) f.add(`${path}.corsPolicy.allowMethods[${i}]`, `"${m}" is not an HTTP method`); });
        for (const k of ["allowHeaders", "exposeHeaders"]) asStrings(at(cors, k)).forEach((h, i) => f.add(`${path}.corsPolicy.${k}[${i}]`, corsHeaderNameError(h)));
        const maxAge = at(cors, "maxAge");
        checkDuration(f, `${path}.corsPolicy.maxAge`, maxAge);
        const ns = durationError(maxAge) === undefined ? durationNanos(maxAge) : undefined;
        if (ns !== undefined && ns % 1_000_000_000n !== 0n) f.add(`${path}.corsPolicy.maxAge`, "maxAge is accurate to whole seconds only");
    }

    const fault = at(r, "fault");
    if (asRecord(fault)) {
        const abort = at(fault, "abort");
        const delay = at(fault, "delay");
        if (!asRecord(abort) && !asRecord(delay)) f.add(`${path}.fault`, "needs an abort and/or a delay");
        if (asRecord(abort)) {
            percentage(f, `${path}.fault.abort.percentage`, at(abort, "percentage"));
            if (present(abort, "http2Error")) f.add(`${path}.fault.abort.http2Error`, "HTTP/2 abort faults are not supported");
            const grpc = at(abort, "grpcStatus");
            if (typeof grpc === "string" && !GRPC_STATUS.includes(grpc)) f.add(`${path}.fault.abort.grpcStatus`, `"${grpc}" is not a gRPC status name`);
            const status = at(abort, "httpStatus");
            if (typeof status === "number" && (status < 200 || status > 600)) f.add(`${path}.fault.abort.httpStatus`, `${status} is outside 200-599`);
        }
        if (asRecord(delay)) {
            percentage(f, `${path}.fault.delay.percentage`, at(delay, "percentage"));
            checkDuration(f, `${path}.fault.delay.fixedDelay`, at(delay, "fixedDelay"));
            if (present(delay, "exponentialDelay")) f.add(`${path}.fault.delay.exponentialDelay`, "exponential delays are not supported");
        }
    }

    const mirrorPercent = at(r, "mirrorPercent");
    if (typeof mirrorPercent === "number" && mirrorPercent > 100) f.add(`${path}.mirrorPercent`, `${mirrorPercent} is above 100`);
    const mirrorPercentage = at(r, "mirrorPercentage", "value");
    if (typeof mirrorPercentage === "number" && (mirrorPercentage > 100 || mirrorPercentage < 0)) f.add(`${path}.mirrorPercentage`, `${mirrorPercentage} is outside 0-100`);
    destination(f, `${path}.mirror`, at(r, "mirror"));
    asArray(at(r, "mirrors")).forEach((m, i) => {
        const p = `${path}.mirrors[${i}]`;
        if (!asRecord(at(m, "destination"))) {
            f.add(`${p}.destination`, "destination is required");
            return;
        }
        destination(f, `${p}.destination`, at(m, "destination"));
        const v = at(m, "percentage", "value");
        if (typeof v === "number" && (v > 100 || v < 0)) f.add(`${p}.percentage`, `${v} is outside 0-100`);
    });

    const redirect = at(r, "redirect");
    if (asRecord(redirect)) {
        const p = `${path}.redirect`;
        if (!str(at(redirect, "uri")) && !str(at(redirect, "authority")) && !present(redirect, "port") && !present(redirect, "derivePort") && !str(at(redirect, "scheme"))) {
            f.add(p, "needs a uri, authority, scheme or port");
        } else {
            const code = num(at(redirect, "redirectCode"));
            const scheme = str(at(redirect, "scheme"));
            if (code !== 0 && (code < 300 || code > 399)) f.add(`${p}.redirectCode`, `${code} is not a 3xx code`);
            else if (scheme !== "" && scheme !== "http" && scheme !== "https") f.add(`${p}.scheme`, `"${scheme}" is not http or https`);
            else if (num(at(redirect, "port")) > 0) f.add(`${p}.port`, portError(at(redirect, "port")));
        }
    }
    const direct = at(r, "directResponse");
    if (asRecord(direct)) {
        const status = num(at(direct, "status"));
        if (status < 200 || status > 600) f.add(`${path}.directResponse.status`, `${status} is outside 200-599`);
        const body = str(at(direct, "body", "string")) || str(at(direct, "body", "bytes"));
        if (Buffer.byteLength(body) > 1024 * 1024) f.add(`${path}.directResponse.body`, "body is larger than 1MB");
    }

    const retries = at(r, "retries");
    if (asRecord(retries)) {
        const p = `${path}.retries`;
        const attempts = num(at(retries, "attempts"));
        if (attempts < 0) f.add(`${p}.attempts`, "attempts may not be negative");
        if (attempts === 0 && (present(retries, "perTryTimeout") || str(at(retries, "retryOn")) !== "" || present(retries, "retryRemoteLocalities"))) {
            f.add(p, "retry settings given while attempts is 0 (retries disabled); set attempts");
        }
        checkDuration(f, `${p}.perTryTimeout`, at(retries, "perTryTimeout"));
        const retryOn = str(at(retries, "retryOn"));
        if (retryOn !== "") retryOn.split(",").forEach((policy) => f.add(`${p}.retryOn`, retryOnError(policy)));
        checkDuration(f, `${p}.backoff`, at(retries, "backoff"));
    }

    const rewrite = at(r, "rewrite");
    if (asRecord(rewrite)) {
        const p = `${path}.rewrite`;
        const regexRewrite = at(rewrite, "uriRegexRewrite");
        if (str(at(rewrite, "uri")) !== "" && present(rewrite, "uriRegexRewrite")) f.add(p, "uri and uriRegexRewrite are exclusive");
        else if (str(at(rewrite, "uri")) === "" && !present(rewrite, "uriRegexRewrite") && str(at(rewrite, "authority")) === "") f.add(p, "needs a uri, uriRegexRewrite or authority");
        else if (asRecord(regexRewrite)) {
            if (!str(at(regexRewrite, "match")) || !str(at(regexRewrite, "rewrite"))) f.add(`${p}.uriRegexRewrite`, "needs both match and rewrite");
            else f.add(`${p}.uriRegexRewrite.match`, re2Error(str(at(regexRewrite, "match"))));
        }
        const authority = str(at(rewrite, "authority"));
        const setsAuthority = [...entries(at(r, "headers", "request", "set")), ...entries(at(r, "headers", "request", "add"))]
            .some(([k]) => ["host", ":authority"].includes(k.toLowerCase()));
        if (authority !== "" && setsAuthority) f.add(p, "the authority is rewritten and also set as a header");
    }
    destinations(f, `${path}.route`, at(r, "route"), true);
    checkDuration(f, `${path}.timeout`, at(r, "timeout"));
}

function l4Match(f: Findings, path: string, m: unknown): void {
    asStrings(at(m, "destinationSubnets")).forEach((s, i) => f.add(`${path}.destinationSubnets[${i}]`, ipOrCidrError(s)));
    if (num(at(m, "port")) !== 0) f.add(`${path}.port`, portError(at(m, "port")));
    f.all(`${path}.sourceLabels`, labelMapErrors(at(m, "sourceLabels")));
    gatewayNames(f, `${path}.gateways`, at(m, "gateways"));
}

export const virtualServiceIstiod: ResourceRule = {
    name: "virtual-service-istiod",
    description: "A VirtualService passes istiod's validation: valid hosts (no \"*\" on the mesh), gateways, matches (RE2 regexes, header names, JWT-claim routes only on gateways), retries, timeouts, redirects, rewrites, faults, mirrors and destinations.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Fix the field the message names: durations as seconds ("0.5s", at least 1ms, whole milliseconds), RE2 regexes, retryOn policies Envoy knows with attempts set, destination hosts that are DNS names; ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.virtualService],
    check(vs) {
        const f = new Findings();
        const spec = at(vs, "spec");
        const hosts = asStrings(at(spec, "hosts"));
        const gateways = asStrings(at(spec, "gateways"));
        if (hosts.length === 0) {
            if (gateways.length > 0) f.add("spec.gateways", "a delegate VirtualService (no hosts) may not name gateways");
            if (listed(at(spec, "tls"))) f.add("spec.tls", "a delegate VirtualService (no hosts) may not have tls routes");
            if (listed(at(spec, "tcp"))) f.add("spec.tcp", "a delegate VirtualService (no hosts) may not have tcp routes");
        }
        gatewayNames(f, "spec.gateways", at(spec, "gateways"));
        const toGateway = gateways.length > 0 && !gateways.includes("mesh");
        const toMesh = !toGateway;
        if (!toGateway) {
            asArray(at(spec, "http")).forEach((r, i) => asArray(at(r, "match")).forEach((m, j) => {
                for (const k of ["headers", "withoutHeaders"]) {
                    for (const [name] of entries(at(m, k))) {
                        if (isJwtClaimRoute(name)) f.add(`spec.http[${i}].match[${j}].${k}["${name}"]`, "routing on a JWT claim works only on a VirtualService bound to gateways (not the mesh)");
                    }
                }
            }));
        }
        let hostsValid = true;
        hosts.forEach((h, i) => {
            const err = wildcardDomainError(h);
            if (err !== undefined && !isIp(h)) {
                f.add(`spec.hosts[${i}]`, err);
                hostsValid = false;
            } else if (err === undefined && toMesh && h === "*") {
                f.add(`spec.hosts[${i}]`, `"*" is not allowed on a VirtualService bound to the mesh (no gateways, or "mesh" among them)`);
                hostsValid = false;
            }
        });
        if (hostsValid) {
            hosts.forEach((a, i) => hosts.slice(i + 1).forEach((b, j) => {
                if (hostsOverlap(a, b)) f.add(`spec.hosts[${i + 1 + j}]`, `"${b}" overlaps "${a}" (duplicate hosts)`);
            }));
        }
        if (!listed(at(spec, "http")) && !listed(at(spec, "tcp")) && !listed(at(spec, "tls"))) f.add("spec", "needs http, tcp or tls routes");
        asArray(at(spec, "http")).forEach((r, i) => {
            if (r === null) f.add(`spec.http[${i}]`, "an HTTP route may not be null");
            else httpRoute(f, `spec.http[${i}]`, r, hosts.length === 0);
        });
        asArray(at(spec, "tls")).forEach((r, i) => {
            const p = `spec.tls[${i}]`;
            if (!asRecord(r)) return;
            if (!listed(at(r, "match"))) f.add(`${p}.match`, "a TLS route needs at least one match");
            asArray(at(r, "match")).forEach((m, j) => {
                const mp = `${p}.match[${j}]`;
                const sni = asStrings(at(m, "sniHosts"));
                if (sni.length === 0) f.add(`${mp}.sniHosts`, "a TLS match needs at least one SNI host");
                sni.forEach((s, k) => {
                    const err = wildcardDomainError(s);
                    if (err !== undefined) {
                        if (!isIp(s)) f.add(`${mp}.sniHosts[${k}]`, err);
                    } else if (!hosts.some((h) => hostSubsetOf(s, h))) {
                        f.add(`${mp}.sniHosts[${k}]`, `"${s}" is not within any of the VirtualService's hosts`);
                    }
                });
                l4Match(f, mp, m);
            });
            if (!listed(at(r, "route"))) f.add(`${p}.route`, "a TLS route needs a route");
            destinations(f, `${p}.route`, at(r, "route"), false);
        });
        asArray(at(spec, "tcp")).forEach((r, i) => {
            const p = `spec.tcp[${i}]`;
            if (!asRecord(r)) return;
            asArray(at(r, "match")).forEach((m, j) => {
                if (m === null) f.add(`${p}.match[${j}]`, "a TCP match may not be null");
                else l4Match(f, `${p}.match[${j}]`, m);
            });
            if (!listed(at(r, "route"))) f.add(`${p}.route`, "a TCP route needs a route");
            destinations(f, `${p}.route`, at(r, "route"), false);
        });
        f.all("spec.exportTo", exportToErrors(at(spec, "exportTo"), namespaceOf(vs), false));
        return f.issues;
    },
};

/** Gateway and Sidecar hosts: `namespace/dnsName` (a Gateway may omit the namespace). */
function namespacedHost(f: Findings, path: string, host: string, gateway: boolean): void {
    const slash = host.indexOf("/");
    if (slash < 0) {
        if (!gateway) {
            f.add(path, `"${host}" needs the form namespace/dnsName (e.g. ./${host} or */${host})`);
            return;
        }
        hostPart(f, path, host, true);
        return;
    }
    const [ns, name] = [host.slice(0, slash), host.slice(slash + 1)];
    if (ns === "" || name === "") f.add(path, "namespace and dnsName must both be set");
    if (!["*", "."].includes(ns) && (gateway || ns !== "~") && !isIstioLabel(ns)) f.add(path, `namespace "${ns}" is not a DNS-1123 label, "*" or "."`);
    hostPart(f, path, name, gateway);
}

function hostPart(f: Findings, path: string, name: string, gateway: boolean): void {
    if (name !== "*" && !name.includes(".")) f.add(path, `"${name}" is a short name; give a fully qualified name`);
    const err = wildcardDomainError(name);
    if (err !== undefined && (!gateway || !isIp(name))) f.add(path, err);
    if (name.includes("*") && name.length !== 1 && !name.startsWith("*.")) f.add(path, `partial wildcard "${name}" is not allowed`);
}

function serverTls(f: Findings, path: string, tls: unknown): void {
    const mode = str(at(tls, "mode"));
    const set = (k: string) => str(at(tls, k)) !== "";
    if (mode === "ISTIO_MUTUAL") {
        for (const k of ["serverCertificate", "privateKey", "caCertificates", "credentialName"]) if (set(k)) f.add(`${path}.${k}`, "ISTIO_MUTUAL takes no certificates");
        for (const k of ["tlsCertificates", "credentialNames"]) if (listed(at(tls, k))) f.add(`${path}.${k}`, "ISTIO_MUTUAL takes no certificates");
        return;
    }
    const sources = [set("serverCertificate") && set("privateKey"), set("credentialName"), listed(at(tls, "credentialNames")), listed(at(tls, "tlsCertificates"))];
    if (sources.filter((s) => s).length > 1) f.add(path, "only one of credentialName, credentialNames, serverCertificate/privateKey and tlsCertificates may be set");
    const terminating = ["SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"].includes(mode);
    if (terminating && !set("credentialName") && !listed(at(tls, "credentialNames"))) {
        // Without a credential the certificate files must be named (gateway-tls asks for a credentialName instead).
        if (mode !== "SIMPLE" && !set("caCertificates")) f.add(`${path}.caCertificates`, `${mode} needs a client CA bundle (or credentialName)`);
        const certs = listed(at(tls, "tlsCertificates")) ? asArray(at(tls, "tlsCertificates")) : [tls];
        certs.forEach((c) => {
            if (str(at(c, "serverCertificate")) === "") f.add(`${path}.serverCertificate`, `${mode} needs a server certificate (or credentialName)`);
            if (str(at(c, "privateKey")) === "") f.add(`${path}.privateKey`, `${mode} needs a private key (or credentialName)`);
        });
    }
    if (set("caCrl")) {
        if (set("credentialName")) f.add(`${path}.caCrl`, "a CRL cannot be combined with credentialName (put it in the credential)");
        if (mode === "SIMPLE") f.add(`${path}.caCrl`, "a CRL is not supported with SIMPLE TLS");
    }
}

export const gatewayIstiod: ResourceRule = {
    name: "gateway-istiod",
    description: "A Gateway passes istiod's validation: at least one server, each with hosts (namespace/FQDN or FQDN), a named port with a known protocol, unique port names, and TLS settings only where the protocol terminates TLS.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Give every server hosts and a port with a unique name and a protocol istiod knows; put tls only on HTTPS/TLS servers (or HTTP with httpsRedirect); ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.gateway],
    check(gw) {
        const f = new Findings();
        const servers = asArray(at(gw, "spec", "servers"));
        if (servers.length === 0) f.add("spec.servers", "a Gateway needs at least one server");
        const portNames = new Set<string>();
        servers.forEach((s, i) => {
            const p = `spec.servers[${i}]`;
            if (!asRecord(s)) {
                f.add(p, "a server may not be null");
                return;
            }
            const hosts = asStrings(at(s, "hosts"));
            if (hosts.length === 0) f.add(`${p}.hosts`, "a server needs at least one host");
            hosts.forEach((h, j) => namespacedHost(f, `${p}.hosts[${j}]`, h, true));
            const port = at(s, "port");
            const bind = str(at(s, "bind"));
            if (!asRecord(port)) {
                f.add(`${p}.port`, "port is required");
            } else {
                const protocol = str(at(port, "protocol"));
                if (!knownProtocol(protocol)) f.add(`${p}.port.protocol`, `"${protocol}" is not a protocol istiod knows (HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TCP, TLS, MONGO, REDIS, MYSQL)`);
                if (num(at(port, "targetPort")) > 0) f.add(`${p}.port.targetPort`, "targetPort has no effect on a Gateway");
                const name = str(at(port, "name"));
                if (name === "") f.add(`${p}.port.name`, "port name must be set");
                if (portNames.has(name)) f.add(`${p}.port.name`, `port name "${name}" is used by an earlier server; port names must be unique`);
                portNames.add(name);
                const tls = at(s, "tls");
                if (knownProtocol(protocol) && asRecord(tls) && !isTlsProtocol(protocol)) {
                    // An unset mode is PASSTHROUGH: tls: { httpsRedirect: true } on an HTTP server is fine.
                    const passthrough = ["", "PASSTHROUGH", "AUTO_PASSTHROUGH"].includes(str(at(tls, "mode")))
                        && !["caCertificates", "privateKey", "serverCertificate"].some((k) => str(at(tls, k)) !== "");
                    if (!isHttpProtocol(protocol)) f.add(`${p}.tls`, `a ${protocol} server cannot have TLS settings (only HTTPS/TLS)`);
                    else if (!passthrough) f.add(`${p}.tls`, "a plain-text HTTP server cannot terminate TLS (only tls.httpsRedirect)");
                }
            }
            if (bind.startsWith("unix://")) {
                const addr = bind.slice("unix://".length);
                if (addr === "" || (!addr.startsWith("@") && (!addr.startsWith("/") || addr.endsWith("/")))) f.add(`${p}.bind`, `"${addr}" is not an absolute path to a socket file`);
                if (num(at(port, "number")) !== 0) f.add(`${p}.port.number`, "must be 0 for a unix domain socket bind");
            } else if (bind !== "" && !isIp(bind)) {
                f.add(`${p}.bind`, `"${bind}" is not an IP address`);
            }
            if (asRecord(at(s, "tls"))) serverTls(f, `${p}.tls`, at(s, "tls"));
        });
        return f.issues;
    },
};

export const sidecarIstiod: ResourceRule = {
    name: "sidecar-istiod",
    description: "A Sidecar passes istiod's validation: egress hosts in namespace/dnsName form, unique listener ports, the catch-all egress listener last, valid ports, protocols and selectors.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Write egress hosts as namespace/host ("./*", "aks-istio-system/*", "*/api.example.com"), give each listener its own port, and put the portless listener last; ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.sidecar],
    check(sc) {
        const f = new Findings();
        const spec = at(sc, "spec");
        f.all("spec.workloadSelector.labels", selectorErrors(at(spec, "workloadSelector", "labels")));
        if (!listed(at(spec, "egress")) && !listed(at(spec, "ingress")) && !present(spec, "outboundTrafficPolicy") && !present(spec, "inboundConnectionPool")) {
            f.add("spec", "a Sidecar needs egress, ingress, outboundTrafficPolicy or inboundConnectionPool");
        }
        const ingressPorts = new Set<number>();
        asArray(at(spec, "ingress")).forEach((l, i) => {
            const p = `spec.ingress[${i}]`;
            if (!asRecord(at(l, "port"))) {
                f.add(`${p}.port`, "an ingress listener needs a port");
                return;
            }
            listenerPort(f, `${p}.port`, at(l, "port"), str(at(l, "bind")));
            const n = num(at(l, "port", "number"));
            if (ingressPorts.has(n)) f.add(`${p}.port.number`, `port ${n} is used by an earlier ingress listener`);
            ingressPorts.add(n);
            const endpoint = str(at(l, "defaultEndpoint"));
            if (endpoint !== "" && !endpoint.startsWith("unix://")) {
                const m = /^(\[[^\]]*\]|[^:]*):([^:]*)$/.exec(endpoint);
                const host = m ? m[1].replace(/^\[|\]$/g, "") : "";
                if (!m || !["", "127.0.0.1", "0.0.0.0", "::1", "::"].includes(host)) f.add(`${p}.defaultEndpoint`, "must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port> or unix://<path>");
                else f.add(`${p}.defaultEndpoint`, /^[0-9]+$/.test(m[2]) ? portError(Number(m[2])) : `port "${m[2]}" is not a number`);
            }
        });
        const egressPorts = new Set<number>();
        const egress = asArray(at(spec, "egress"));
        let catchAll = false;
        egress.forEach((l, i) => {
            const p = `spec.egress[${i}]`;
            if (!asRecord(l)) return;
            if (!asRecord(at(l, "port"))) {
                if (catchAll) f.add(p, "only one egress listener may omit the port");
                else if (i === egress.length - 1) catchAll = true;
                else f.add(p, "the egress listener without a port must be the last one");
            } else {
                const n = num(at(l, "port", "number"));
                const bind = str(at(l, "bind"));
                if (n === 0) {
                    if (!bind.startsWith("unix://")) f.add(`${p}.bind`, "a listener on port 0 needs a unix:// bind address");
                } else {
                    listenerPort(f, `${p}.port`, at(l, "port"), bind);
                    if (egressPorts.has(n)) f.add(`${p}.port.number`, `port ${n} is used by an earlier egress listener`);
                    egressPorts.add(n);
                }
            }
            asStrings(at(l, "hosts")).forEach((h, j) => namespacedHost(f, `${p}.hosts[${j}]`, h, false));
        });
        const proxy = at(spec, "outboundTrafficPolicy", "egressProxy");
        if (asRecord(proxy)) {
            if (str(at(spec, "outboundTrafficPolicy", "mode")) !== "ALLOW_ANY") f.add("spec.outboundTrafficPolicy.egressProxy", "only allowed with mode ALLOW_ANY");
            else {
                f.add("spec.outboundTrafficPolicy.egressProxy.host", fqdnError(str(at(proxy, "host"))));
                if (!present(proxy, "port")) f.add("spec.outboundTrafficPolicy.egressProxy.port", "port is required");
                else destination(f, "spec.outboundTrafficPolicy.egressProxy", proxy);
            }
        }
        return f.issues;
    },
};

function listenerPort(f: Findings, path: string, port: unknown, bind: string): void {
    const name = str(at(port, "name"));
    if (name !== "" && !isIstioLabel(name)) f.add(`${path}.name`, `port name "${name}" is not a DNS-1123 label`);
    const protocol = str(at(port, "protocol"));
    if (protocol !== "" && !knownProtocol(protocol)) f.add(`${path}.protocol`, `"${protocol}" is not a protocol istiod knows`);
    f.add(`${path}.number`, portError(num(at(port, "number"))));
    if (num(at(port, "targetPort")) > 0) f.add(`${path}.targetPort`, "targetPort has no effect on a Sidecar");
    if (bind !== "" && !isIp(bind)) f.add(path.replace(/\.port$/, ".bind"), `"${bind}" is not an IP address`);
}

function connectionPool(f: Findings, path: string, pool: unknown): void {
    if (!asRecord(pool)) return;
    if (!present(pool, "http") && !present(pool, "tcp")) f.add(path, "a connection pool needs http or tcp settings");
    const http = at(pool, "http");
    for (const k of ["http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries", "maxConcurrentStreams"]) {
        if (num(at(http, k)) < 0) f.add(`${path}.http.${k}`, "may not be negative");
    }
    checkDuration(f, `${path}.http.idleTimeout`, at(http, "idleTimeout"));
    if (at(http, "h2UpgradePolicy") === "UPGRADE" && at(http, "useClientProtocol") === true) f.add(`${path}.http.useClientProtocol`, "cannot be true with h2UpgradePolicy UPGRADE");
    const tcp = at(pool, "tcp");
    if (num(at(tcp, "maxConnections")) < 0) f.add(`${path}.tcp.maxConnections`, "may not be negative");
    checkDuration(f, `${path}.tcp.connectTimeout`, at(tcp, "connectTimeout"));
    checkDuration(f, `${path}.tcp.maxConnectionDuration`, at(tcp, "maxConnectionDuration"));
    const idle = at(tcp, "idleTimeout");
    if (idle !== undefined && idle !== null) {
        const ns = durationNanos(idle);
        // An idle timeout under a millisecond (0s) disables it; anything else follows the usual duration rule.
        if (ns === undefined) f.add(`${path}.tcp.idleTimeout`, durationFormatError(idle));
        else if (ns / 1_000_000n !== 0n) f.add(`${path}.tcp.idleTimeout`, durationError(idle));
    }
    checkDuration(f, `${path}.tcp.tcpKeepalive.time`, at(tcp, "tcpKeepalive", "time"));
    checkDuration(f, `${path}.tcp.tcpKeepalive.interval`, at(tcp, "tcpKeepalive", "interval"));
}

function outlierDetection(f: Findings, path: string, o: unknown): void {
    if (!asRecord(o)) return;
    checkDuration(f, `${path}.baseEjectionTime`, at(o, "baseEjectionTime"));
    checkDuration(f, `${path}.interval`, at(o, "interval"));
    if (at(o, "splitExternalLocalOriginErrors") !== true && num(at(o, "consecutiveLocalOriginFailures")) > 0) {
        f.add(`${path}.consecutiveLocalOriginFailures`, "needs splitExternalLocalOriginErrors: true");
    }
    for (const k of ["maxEjectionPercent", "minHealthPercent"]) {
        const v = num(at(o, k));
        if (v < 0 || v > 100) f.add(`${path}.${k}`, `${v} is outside 0-100`);
    }
}

function isPrime(x: number): boolean {
    if (x !== 0 && x < 4) return true;
    if (x % 2 === 0) return false;
    for (let d = 3; d * d <= x; d += 2) if (x % d === 0) return false;
    return true;
}

/** Locality lists: at most one `*`, at the end; no empty region/zone/subzone; none covering an earlier one. */
function localitiesError(localities: readonly string[]): string | undefined {
    const seen: string[][] = [];
    for (const l of localities) {
        const stars = (l.match(/\*/g) ?? []).length;
        if (stars > 1 || (stars === 1 && !l.endsWith("*"))) return `locality "${l}": at most one "*", at the end`;
        const parts = l.split("/", 3).length === 3 ? [l.split("/")[0], l.split("/")[1], l.split("/").slice(2).join("/")] : l.split("/");
        if (parts.some((p) => p === "")) return `locality "${l}" has an empty region, zone or subzone`;
        const covers = (a: string[], b: string[]) => a.every((x, i) => x === "*" || x === b[i]) && (a.length <= b.length || a[b.length] === "*");
        if (seen.some((s) => s[0] === "*" || covers(s, parts) || covers(parts, s))) return `locality "${l}" overlaps an earlier one`;
        seen.push(parts);
    }
    return undefined;
}

function loadBalancer(f: Findings, path: string, lb: unknown): void {
    if (!asRecord(lb)) return;
    const hash = at(lb, "consistentHash");
    const cookie = at(hash, "httpCookie");
    if (asRecord(cookie) && !str(at(cookie, "name"))) f.add(`${path}.consistentHash.httpCookie.name`, "a cookie name is required");
    const attrs = new Set<string>();
    asArray(at(cookie, "attributes")).forEach((a, i) => {
        const n = str(at(a, "name"));
        if (n === "") f.add(`${path}.consistentHash.httpCookie.attributes[${i}].name`, "may not be empty");
        else if (attrs.has(n)) f.add(`${path}.consistentHash.httpCookie.attributes[${i}].name`, `"${n}" is listed twice`);
        attrs.add(n);
    });
    if (num(at(hash, "minimumRingSize")) !== 0 && (present(hash, "maglev") || present(hash, "ringHash"))) f.add(`${path}.consistentHash`, "minimumRingSize cannot be combined with maglev or ringHash");
    const maglev = at(hash, "maglev");
    if (asRecord(maglev)) {
        const size = num(at(maglev, "tableSize"));
        if (size === 0) f.add(`${path}.consistentHash.maglev.tableSize`, "must be set");
        if (size >= 5000011) f.add(`${path}.consistentHash.maglev.tableSize`, "must be below 5000011");
        if (!isPrime(size)) f.add(`${path}.consistentHash.maglev.tableSize`, `${size} is not a prime number`);
    }
    const loc = at(lb, "localityLbSetting");
    if (asRecord(loc)) {
        const lp = `${path}.localityLbSetting`;
        const distribute = asArray(at(loc, "distribute"));
        const failover = asArray(at(loc, "failover"));
        if (distribute.length > 0 && failover.length > 0) {
            f.add(lp, "distribute and failover are exclusive");
            return;
        }
        const topology = ["topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"];
        const bad = asStrings(at(loc, "failoverPriority")).find((l) => topology.includes(l));
        if (failover.length > 0 && bad) {
            f.add(`${lp}.failoverPriority`, `"${bad}" cannot be combined with failover`);
            return;
        }
        for (const [i, d] of distribute.entries()) {
            const weights = entries(at(d, "to"));
            if (weights.some(([, w]) => typeof w !== "number" || w <= 0 || w > 100)) {
                f.add(`${lp}.distribute[${i}].to`, "each locality weight must be within 1-100");
                return;
            }
            const total = weights.reduce((s, [, w]) => s + (w as number), 0);
            if (total !== 100) {
                f.add(`${lp}.distribute[${i}].to`, `locality weights total ${total}, not 100`);
                return;
            }
            f.add(`${lp}.distribute[${i}].to`, localitiesError(weights.map(([k]) => k)));
        }
        f.add(`${lp}.distribute`, localitiesError(distribute.map((d) => str(at(d, "from")))));
        failover.forEach((fo, i) => {
            const [from, to] = [str(at(fo, "from")), str(at(fo, "to"))];
            if (from === to) f.add(`${lp}.failover[${i}]`, "from and to must be different regions");
            if (from.includes("/") || to.includes("/")) f.add(`${lp}.failover[${i}]`, "failover names regions only");
            if (from.includes("*") || to.includes("*")) f.add(`${lp}.failover[${i}]`, "failover regions may not contain \"*\"");
        });
    }
    const warmup = at(lb, "warmup");
    if (asRecord(warmup)) {
        if (!present(warmup, "duration")) f.add(`${path}.warmup.duration`, "duration is required");
        else checkDuration(f, `${path}.warmup.duration`, at(warmup, "duration"));
        if (num(at(warmup, "minimumPercent")) > 100) f.add(`${path}.warmup.minimumPercent`, "may not exceed 100");
        if (present(warmup, "aggression") && num(at(warmup, "aggression")) < 1) f.add(`${path}.warmup.aggression`, "must be at least 1");
    }
}

function clientTls(f: Findings, path: string, tls: unknown, namespace: string): void {
    if (!asRecord(tls)) return;
    const mode = str(at(tls, "mode"));
    const set = (k: string) => str(at(tls, k)) !== "";
    const credential = str(at(tls, "credentialName"));
    if (credential.startsWith("configmap://")) {
        const rest = credential.slice("configmap://".length).split("/");
        if (rest.length === 2 && rest[0] !== namespace) f.add(`${path}.credentialName`, `a configmap:// credential must be in the object's namespace ${namespace}`);
    }
    if (at(tls, "insecureSkipVerify") === true) {
        if (mode === "SIMPLE" && (set("caCertificates") || credential !== "" || present(tls, "subjectAltNames"))) f.add(path, "caCertificates, credentialName and subjectAltNames cannot be combined with insecureSkipVerify");
        if (mode === "MUTUAL" && (set("caCertificates") || present(tls, "subjectAltNames"))) f.add(path, "caCertificates and subjectAltNames cannot be combined with insecureSkipVerify");
    }
    if ((mode === "SIMPLE" || mode === "MUTUAL") && credential !== "") {
        if (["clientCertificate", "caCertificates", "privateKey", "caCrl"].some(set)) f.add(path, "certificate files cannot be combined with credentialName");
        return;
    }
    if (mode === "MUTUAL") {
        if (!set("clientCertificate")) f.add(`${path}.clientCertificate`, "MUTUAL needs a client certificate (or credentialName)");
        if (!set("privateKey")) f.add(`${path}.privateKey`, "MUTUAL needs a private key (or credentialName)");
    }
}

const TRAFFIC_POLICY_FIELDS = ["outlierDetection", "connectionPool", "loadBalancer", "tls", "portLevelSettings", "tunnel", "proxyProtocol", "retryBudget"];

function trafficPolicy(f: Findings, path: string, tp: unknown, namespace: string): void {
    if (!asRecord(tp)) return;
    if (!TRAFFIC_POLICY_FIELDS.some((k) => present(tp, k))) {
        f.add(path, "a traffic policy needs at least one field");
        return;
    }
    if (present(tp, "tunnel") && present(tp, "proxyProtocol")) {
        f.add(path, "tunnel and proxyProtocol are exclusive");
        return;
    }
    outlierDetection(f, `${path}.outlierDetection`, at(tp, "outlierDetection"));
    connectionPool(f, `${path}.connectionPool`, at(tp, "connectionPool"));
    loadBalancer(f, `${path}.loadBalancer`, at(tp, "loadBalancer"));
    clientTls(f, `${path}.tls`, at(tp, "tls"), namespace);
    asArray(at(tp, "portLevelSettings")).forEach((pl, i) => {
        const p = `${path}.portLevelSettings[${i}]`;
        if (!present(pl, "port")) f.add(`${p}.port`, "a port-level policy needs a port");
        if (!["outlierDetection", "connectionPool", "loadBalancer", "tls"].some((k) => present(pl, k))) {
            f.add(p, "a port-level policy needs at least one field");
            return;
        }
        outlierDetection(f, `${p}.outlierDetection`, at(pl, "outlierDetection"));
        connectionPool(f, `${p}.connectionPool`, at(pl, "connectionPool"));
        loadBalancer(f, `${p}.loadBalancer`, at(pl, "loadBalancer"));
        clientTls(f, `${p}.tls`, at(pl, "tls"), namespace);
    });
    const tunnel = at(tp, "tunnel");
    if (asRecord(tunnel)) {
        const protocol = str(at(tunnel, "protocol"));
        if (protocol !== "" && protocol !== "CONNECT" && protocol !== "POST") f.add(`${path}.tunnel.protocol`, "must be CONNECT or POST");
        const target = str(at(tunnel, "targetHost"));
        if (fqdnError(target) !== undefined && !isIp(target)) f.add(`${path}.tunnel.targetHost`, `"${target}" is not a DNS name or an IP address`);
        f.add(`${path}.tunnel.targetPort`, portError(num(at(tunnel, "targetPort"))));
    }
    const version = num(at(tp, "proxyProtocol", "version"));
    if (version !== 0 && version !== 1) f.add(`${path}.proxyProtocol.version`, `${version} is not a proxy protocol version`);
}

export const destinationRuleIstiod: ResourceRule = {
    name: "destination-rule-istiod",
    description: "A DestinationRule passes istiod's validation: a valid host, subset names that are DNS labels, traffic policies with at least one field, locality weights of 1-100 totalling 100, valid durations, TLS and load-balancer settings.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Fix the field the message names: subset names like v1 (lower-case DNS labels), locality distribute weights that add up to 100, durations in seconds ("0.5s"); ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.destinationRule],
    check(dr) {
        const f = new Findings();
        const spec = at(dr, "spec");
        const ns = namespaceOf(dr);
        f.add("spec.host", wildcardDomainError(str(at(spec, "host"))));
        trafficPolicy(f, "spec.trafficPolicy", at(spec, "trafficPolicy"), ns);
        asArray(at(spec, "subsets")).forEach((s, i) => {
            const p = `spec.subsets[${i}]`;
            if (!asRecord(s)) {
                f.add(p, "a subset may not be null");
                return;
            }
            const name = str(at(s, "name"));
            f.add(`${p}.name`, name === "" ? "subset name is empty" : isIstioLabel(name) ? undefined : `subset name "${name}" is not a DNS-1123 label`);
            f.all(`${p}.labels`, labelMapErrors(at(s, "labels")));
            trafficPolicy(f, `${p}.trafficPolicy`, at(s, "trafficPolicy"), ns);
        });
        const exportTo = asStrings(at(spec, "exportTo"));
        f.all("spec.exportTo", exportToErrors(at(spec, "exportTo"), ns, false));
        if (present(spec, "workloadSelector") && exportTo.length > 0) {
            const keys = new Set(exportTo.map((e) => (e === "." ? ns : e)));
            if (!keys.has(ns)) f.add("spec.exportTo", "a DestinationRule with a workloadSelector cannot be exported beyond its namespace");
            else if (keys.size > 1) f.add("spec.exportTo", "a DestinationRule with a workloadSelector can have only one exportTo entry");
        }
        f.all("spec.workloadSelector.matchLabels", selectorErrors(at(spec, "workloadSelector", "matchLabels")));
        return f.issues;
    },
};

/** Selector and target references, as the security and telemetry kinds share them. */
function policyTargets(f: Findings, spec: unknown): void {
    const count = [present(spec, "selector"), present(spec, "targetRef"), listed(at(spec, "targetRefs"))].filter((x) => x).length;
    if (count > 1) f.add("spec", "only one of selector, targetRef and targetRefs may be set");
    f.all("spec.selector.matchLabels", selectorErrors(at(spec, "selector", "matchLabels")));
    f.all("spec.targetRef", targetRefErrors(at(spec, "targetRef")));
    asArray(at(spec, "targetRefs")).forEach((r, i) => f.all(`spec.targetRefs[${i}]`, targetRefErrors(r)));
}

const SOURCE_FIELDS = [
    "principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks", "serviceAccounts", "trustDomains",
    "notPrincipals", "notRequestPrincipals", "notNamespaces", "notIpBlocks", "notRemoteIpBlocks", "notServiceAccounts", "notTrustDomains",
];
const OPERATION_FIELDS = ["ports", "methods", "paths", "hosts", "notPorts", "notMethods", "notPaths", "notHosts"];
/** The `when` keys istiod knows: exact names, and prefixes taking a `[name]` suffix. */
const WHEN_KEYS = [
    "source.ip", "remote.ip", "source.namespace", "source.serviceAccount", "source.principal", "source.trustDomain",
    "request.auth.principal", "request.auth.audiences", "request.auth.presenter", "destination.ip", "destination.port", "connection.sni",
];
const WHEN_MAP_KEYS = ["request.headers", "request.auth.claims", "experimental.envoy.filters."];
const PATH_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

function pathTemplateError(path: string): string | undefined {
    const template = path.includes("{*}") || path.includes("{**}");
    let anySeen = false;
    for (const glob of path.replace(/^\/+|\/+$/g, "").split("/")) {
        if ((glob === "{*}" || glob === "{**}") && !anySeen) {
            anySeen = glob === "{**}";
            continue;
        }
        if (glob === "{*}" || glob === "{**}") return `"${path}": {**} must be the last template operator`;
        if (/[{}]/.test(glob)) return `"${path}": "{" or "}" outside a {*} or {**} segment`;
        if (template && !PATH_LITERAL.test(glob)) return `"${path}": segment "${glob}" is not a valid path literal`;
    }
    return undefined;
}

function serviceAccountsError(values: readonly string[]): string | undefined {
    if (values.length > 16) return "at most 16 service accounts";
    for (const v of values) {
        if (v === "") return "empty value";
        if (v.includes("*")) return `"${v}": wildcards are not allowed`;
        const parts = v.split("/");
        if (parts.length > 2 || parts.some((p) => p === "")) return `"${v}" is not serviceAccount or namespace/serviceAccount`;
        if (v.length > 320) return `"${v}" is longer than 320 characters`;
    }
    return undefined;
}

function wildcardValuesError(values: readonly string[]): string | undefined {
    for (const v of values) {
        if (v === "") return "empty value";
        const stars = (v.match(/\*/g) ?? []).length;
        if (stars > 1) return `"${v}": at most one wildcard`;
        if (stars === 1 && v !== "*" && !v.startsWith("*") && !v.endsWith("*")) return `"${v}": a wildcard only at the start or end`;
    }
    return undefined;
}

const portsError = (values: readonly string[]) => values.map((p) => (/^[0-9]+$/.test(p) && Number(p) <= 65535 ? undefined : `"${p}" is not a port`)).find((e) => e);
const ipsError = (values: readonly string[]) => values.map((v) => (v.includes("/") ? ipOrCidrError(v) : isIp(v) ? undefined : `"${v}" is not an IP address`)).find((e) => e);
const mapKeyError = (key: string) => {
    const open = key.indexOf("[");
    return key.endsWith("]") && open > 0 && open < key.length - 2 ? undefined : `"${key}" needs the form name[key]`;
};

function whenValuesError(key: string, values: readonly string[]): string | undefined {
    if (values.some((v) => v === "")) return "empty value";
    if (key.startsWith("request.headers") || key.startsWith("request.auth.claims") || key.startsWith("experimental.envoy.filters.")) return mapKeyError(key);
    if (["source.ip", "remote.ip", "destination.ip"].includes(key)) return ipsError(values);
    if (key === "source.serviceAccount") return serviceAccountsError(values);
    if (key === "source.trustDomain") return wildcardValuesError(values);
    if (key === "destination.port") return portsError(values);
    if (key === "destination.namespace") return `"${key}" is replaced by metadata.namespace`;
    if (key.startsWith("destination.labels")) return `"${key}" is replaced by the workload selector`;
    if (key === "destination.name" || key === "destination.user") return `"${key}" was only supported in v1alpha1`;
    return WHEN_KEYS.includes(key) || WHEN_MAP_KEYS.some((k) => key.startsWith(k)) ? undefined : `"${key}" is not an attribute istiod knows`;
}

const CUSTOM_UNSUPPORTED_SOURCES = ["namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts", "trustDomains", "notTrustDomains", "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals"];

export const authorizationPolicyIstiod: ResourceRule = {
    name: "authorization-policy-istiod",
    description: "An AuthorizationPolicy passes istiod's validation: non-empty from/to/source/operation, no empty values, valid IPs, ports and service accounts, supported path templates, `when` keys istiod knows with values, and CUSTOM rules only on attributes it supports.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Fix the field the message names: drop empty entries, use {*}/{**} only as whole path segments ({**} last), use when keys istiod documents (request.headers[...], source.ip, request.auth.claims[...], ...); ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.authorizationPolicy],
    check(ap) {
        const f = new Findings();
        const spec = at(ap, "spec");
        policyTargets(f, spec);
        const custom = at(spec, "action") === "CUSTOM";
        asArray(at(spec, "rules")).forEach((rule, i) => {
            const p = `spec.rules[${i}]`;
            if (rule === null) {
                f.add(p, "a rule may not be null");
                return;
            }
            // An empty from/to list decodes to none at all, which istiod accepts.
            asArray(at(rule, "from")).forEach((fr, j) => {
                const fp = `${p}.from[${j}].source`;
                const src = at(fr, "source");
                if (!asRecord(src)) {
                    f.add(fp, "source is required");
                    return;
                }
                const has = (k: string) => asArray(at(src, k)).length > 0;
                if (["principals", "notPrincipals", "namespaces", "notNamespaces"].some(has) && ["serviceAccounts", "notServiceAccounts"].some(has)) {
                    f.add(fp, "serviceAccounts cannot be combined with namespaces or principals");
                }
                if (!SOURCE_FIELDS.some(has)) f.add(fp, "may not be empty");
                for (const k of ["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"]) f.add(`${fp}.${k}`, ipsError(asStrings(at(src, k))));
                for (const k of ["principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks", "notPrincipals", "notRequestPrincipals", "notNamespaces", "notIpBlocks", "notRemoteIpBlocks"]) {
                    if (asStrings(at(src, k)).includes("")) f.add(`${fp}.${k}`, "empty values are not allowed");
                }
                for (const k of ["serviceAccounts", "notServiceAccounts"]) f.add(`${fp}.${k}`, serviceAccountsError(asStrings(at(src, k))));
                for (const k of ["trustDomains", "notTrustDomains"]) {
                    const values = asStrings(at(src, k));
                    f.add(`${fp}.${k}`, wildcardValuesError(values) ?? (values.some((v) => v.includes("/")) ? "a trust domain may not contain \"/\"" : undefined));
                }
                if (custom) for (const k of CUSTOM_UNSUPPORTED_SOURCES) if (has(k)) f.add(`${fp}.${k}`, "not supported with action CUSTOM");
            });
            asArray(at(rule, "to")).forEach((t, j) => {
                const tp = `${p}.to[${j}].operation`;
                const op = at(t, "operation");
                if (!asRecord(op)) {
                    f.add(tp, "operation is required");
                    return;
                }
                if (!OPERATION_FIELDS.some((k) => asArray(at(op, k)).length > 0)) f.add(tp, "may not be empty");
                for (const k of ["ports", "notPorts"]) f.add(`${tp}.${k}`, portsError(asStrings(at(op, k))));
                for (const k of OPERATION_FIELDS) if (asStrings(at(op, k)).includes("")) f.add(`${tp}.${k}`, "empty values are not allowed");
                for (const k of ["paths", "notPaths"]) asStrings(at(op, k)).forEach((path, n) => f.add(`${tp}.${k}[${n}]`, pathTemplateError(path)));
            });
            asArray(at(rule, "when")).forEach((c, j) => {
                const cp = `${p}.when[${j}]`;
                if (c === null) {
                    f.add(cp, "a condition may not be null");
                    return;
                }
                const key = str(at(c, "key"));
                if (custom && (["source.namespace", "source.serviceAccount", "source.trustDomain", "source.principal"].includes(key) || key.startsWith("request.auth."))) {
                    f.add(`${cp}.key`, `"${key}" is not supported with action CUSTOM`);
                }
                if (key === "") {
                    f.add(`${cp}.key`, "key may not be empty");
                    return;
                }
                const values = asStrings(at(c, "values"));
                const notValues = asStrings(at(c, "notValues"));
                if (values.length === 0 && notValues.length === 0) {
                    f.add(cp, `key "${key}" needs values or notValues`);
                    return;
                }
                f.add(`${cp}.values`, whenValuesError(key, values));
                f.add(`${cp}.notValues`, whenValuesError(key, notValues));
            });
        });
        const dryRun = at(ap, "metadata", "annotations", "istio.io/dry-run");
        if (typeof dryRun === "string") {
            const action = str(at(spec, "action")) || "ALLOW";
            if (action !== "ALLOW" && action !== "DENY") f.add("metadata.annotations[\"istio.io/dry-run\"]", `dry-run supports ALLOW and DENY only, not ${action}`);
            else if (!["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"].includes(dryRun)) f.add("metadata.annotations[\"istio.io/dry-run\"]", `"${dryRun}" is not a boolean`);
        }
        return f.issues;
    },
};

/** A strict header name (outputClaimToHeaders): letters, digits, `-` and `_`. */
const STRICT_HEADER = /^[-_A-Za-z0-9]+$/;

/** The first JSON value of a text (istiod's JWK parser reads one value and ignores what follows). */
function firstJsonValue(text: string): string {
    let depth = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inString) {
            if (c === "\\") i++;
            else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === "{" || c === "[") depth++;
        else if ((c === "}" || c === "]") && --depth === 0) return text.slice(0, i + 1);
    }
    return text;
}

function jwksError(jwks: string): string | undefined {
    try {
        const set = JSON.parse(firstJsonValue(jwks.trimStart())) as unknown;
        const keys = at(set, "keys");
        // A single JWK (an object with kty) or a set of them.
        if (asString(at(set, "kty")) !== undefined) return undefined;
        return Array.isArray(keys) && keys.every((k) => asString(at(k, "kty")) !== undefined) ? undefined : "jwks is not a JSON Web Key Set";
    } catch {
        return "jwks is not valid JSON";
    }
}

export const requestAuthenticationIstiod: ResourceRule = {
    name: "request-authentication-istiod",
    description: "A RequestAuthentication passes istiod's validation: every JWT rule has an issuer or jwksUri (http/https), parseable jwks, non-empty audiences and token locations, valid claim headers and timeout.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Give each jwtRules[] entry an issuer (and a jwksUri with http or https), drop empty audiences/fromHeaders/fromParams/fromCookies, and name outputClaimToHeaders headers with letters, digits, - and _; ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.requestAuthentication],
    check(ra) {
        const f = new Findings();
        const spec = at(ra, "spec");
        policyTargets(f, spec);
        asArray(at(spec, "jwtRules")).forEach((rule, i) => {
            const p = `spec.jwtRules[${i}]`;
            if (!asRecord(rule)) return;
            if (asStrings(at(rule, "audiences")).includes("")) f.add(`${p}.audiences`, "an audience may not be empty");
            const uri = str(at(rule, "jwksUri"));
            if (str(at(rule, "issuer")) === "" && uri === "") f.add(p, "needs an issuer or a jwksUri");
            if (uri !== "") {
                const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1].toLowerCase() ?? "";
                if (scheme !== "http" && scheme !== "https") f.add(`${p}.jwksUri`, `URI scheme "${scheme}" is not http or https`);
            }
            const jwks = str(at(rule, "jwks"));
            if (jwks !== "") f.add(`${p}.jwks`, jwksError(jwks));
            asArray(at(rule, "fromHeaders")).forEach((h, j) => {
                if (!asRecord(h)) f.add(`${p}.fromHeaders[${j}]`, "may not be null");
                else if (str(at(h, "name")) === "") f.add(`${p}.fromHeaders[${j}].name`, "a header name may not be empty");
            });
            asStrings(at(rule, "fromParams")).forEach((q, j) => { if (q === "") f.add(`${p}.fromParams[${j}]`, "a query parameter may not be empty"); });
            asStrings(at(rule, "fromCookies")).forEach((c, j) => { if (c === "") f.add(`${p}.fromCookies[${j}]`, "a cookie name may not be empty"); });
            asArray(at(rule, "outputClaimToHeaders")).forEach((o, j) => {
                const op = `${p}.outputClaimToHeaders[${j}]`;
                if (!asRecord(o)) return f.add(op, "may not be null");
                const [claim, header] = [str(at(o, "claim")), str(at(o, "header"))];
                if (claim === "" || header === "") return f.add(op, "claim and header must both be set");
                if (!STRICT_HEADER.test(header)) f.add(`${op}.header`, `"${header}" is not a valid header name`);
            });
            checkDuration(f, `${p}.timeout`, at(rule, "timeout"));
        });
        return f.issues;
    },
};

export const peerAuthenticationIstiod: ResourceRule = {
    name: "peer-authentication-istiod",
    description: "A PeerAuthentication passes istiod's validation: port-level mTLS only with a workload selector, on ports 1-65535, and a selector without wildcards or empty keys.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Put portLevelMtls only on a PeerAuthentication that selects workloads (selector.matchLabels), with at least one port from 1 to 65535; ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.peerAuthentication],
    check(pa) {
        const f = new Findings();
        const spec = at(pa, "spec");
        const selector = asRecord(at(spec, "selector", "matchLabels"));
        const ports = at(spec, "portLevelMtls");
        const portKeys = Object.keys(asRecord(ports) ?? {});
        if ((!selector || Object.keys(selector).length === 0) && portKeys.length > 0) f.add("spec.portLevelMtls", "a mesh- or namespace-wide PeerAuthentication (no selector) cannot set port-level mTLS");
        if (asRecord(ports) && portKeys.length === 0) f.add("spec.portLevelMtls", "needs at least one port when set");
        for (const k of portKeys) {
            const n = Number(k);
            if (!Number.isInteger(n) || n <= 0 || n > 65535) f.add(`spec.portLevelMtls["${k}"]`, "port must be within 1-65535");
        }
        f.all("spec.selector.matchLabels", selectorErrors(at(spec, "selector", "matchLabels")));
        return f.issues;
    },
};

/** A STATIC ServiceEntry endpoint (WorkloadEntry and WorkloadGroup themselves are blocked by the AKS add-on: aks-blocked-istio-apis). */
function staticEndpoint(f: Findings, path: string, we: unknown, servicePorts: ReadonlySet<string>): void {
    const addr = str(at(we, "address"));
    if (addr === "") {
        if (str(at(we, "network")) === "") f.add(`${path}.address`, "address is required (or a network)");
        return;
    }
    const ports = entries(at(we, "ports"));
    if (addr.startsWith("unix://")) {
        const file = addr.slice("unix://".length);
        if (file === "" || (!file.startsWith("@") && (!file.startsWith("/") || file.endsWith("/")))) f.add(`${path}.address`, `"${file}" is not an absolute path to a socket file`);
        if (ports.length > 0) f.add(`${path}.ports`, "a unix endpoint takes no ports");
        if (servicePorts.size !== 1) f.add(path, "a unix endpoint needs exactly one service port");
    } else if (!isIp(addr)) {
        f.add(`${path}.address`, `"${addr}" is not an IP address (resolution STATIC)`);
    }
    for (const [name, port] of ports) {
        if (!servicePorts.has(name)) f.add(`${path}.ports["${name}"]`, "the ServiceEntry defines no port of that name");
        if (!isIstioLabel(name)) f.add(`${path}.ports["${name}"]`, "port name is not a DNS-1123 label");
        f.add(`${path}.ports["${name}"]`, portError(port));
    }
    f.all(`${path}.labels`, labelMapErrors(at(we, "labels")));
}

export const serviceEntryIstiod: ResourceRule = {
    name: "service-entry-istiod",
    description: "A ServiceEntry passes istiod's validation: hosts that are DNS names (FQDNs when DNS resolution has no endpoints), unique port names and numbers, endpoints that fit the resolution, CIDR addresses only for NONE/STATIC, valid exportTo.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Fix the field the message names: with resolution DNS and no endpoints, list concrete hosts (no wildcard) or add endpoints; give ports unique names and numbers; ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.serviceEntry],
    check(se) {
        const f = new Findings();
        const spec = at(se, "spec");
        f.all("spec.workloadSelector.labels", selectorErrors(at(spec, "workloadSelector", "labels")));
        const endpoints = at(spec, "endpoints");
        if (present(spec, "workloadSelector") && endpoints !== undefined) f.add("spec", "workloadSelector and endpoints are exclusive");
        const hosts = asStrings(at(spec, "hosts"));
        if (hosts.length === 0) f.add("spec.hosts", "a ServiceEntry needs at least one host");
        hosts.forEach((h, i) => f.add(`spec.hosts[${i}]`, h === "*" ? `"*" is not a ServiceEntry host` : wildcardDomainError(h)));
        const resolution = str(at(spec, "resolution")) || "NONE";
        const addresses = asStrings(at(spec, "addresses"));
        addresses.forEach((a, i) => f.add(`spec.addresses[${i}]`, ipOrCidrError(a)));
        if (addresses.some((a) => a.includes("/")) && resolution !== "NONE" && resolution !== "STATIC") f.add("spec.addresses", "CIDR addresses need resolution NONE or STATIC");
        const names = new Set<string>();
        const numbers = new Set<number>();
        const ports = asArray(at(spec, "ports"));
        ports.forEach((port, i) => {
            const p = `spec.ports[${i}]`;
            if (!asRecord(port)) return f.add(p, "a port may not be null");
            const name = str(at(port, "name"));
            const n = num(at(port, "number"));
            if (names.has(name)) f.add(`${p}.name`, `port name "${name}" is defined twice`);
            if (numbers.has(n)) f.add(`${p}.number`, `port ${n} is defined twice`);
            names.add(name);
            numbers.add(n);
            if (num(at(port, "targetPort")) !== 0) f.add(`${p}.targetPort`, portError(at(port, "targetPort")));
            if (!isIstioLabel(name)) f.add(`${p}.name`, `port name "${name}" is not a DNS-1123 label`);
            const protocol = str(at(port, "protocol"));
            if (protocol !== "" && !knownProtocol(protocol)) f.add(`${p}.protocol`, `"${protocol}" is not a protocol istiod knows`);
            f.add(`${p}.number`, portError(n));
        });
        const eps = asArray(endpoints);
        if (resolution === "NONE" && eps.length > 0) f.add("spec.endpoints", "resolution NONE takes no endpoints");
        if (resolution === "STATIC") eps.forEach((e, i) => staticEndpoint(f, `spec.endpoints[${i}]`, e, names));
        if (resolution === "DNS" || resolution === "DNS_ROUND_ROBIN") {
            if (eps.length === 0) {
                const i = hosts.findIndex((h) => fqdnError(h) !== undefined);
                if (i >= 0) f.add(`spec.hosts[${i}]`, `resolution ${resolution} without endpoints needs fully qualified hosts (no wildcard)`);
            }
            if (resolution === "DNS_ROUND_ROBIN" && eps.length > 1) f.add("spec.endpoints", "resolution DNS_ROUND_ROBIN takes at most one endpoint");
            eps.forEach((e, i) => {
                const ep = `spec.endpoints[${i}]`;
                const addr = str(at(e, "address"));
                if (!isIp(addr) && fqdnError(addr) !== undefined) f.add(`${ep}.address`, `"${addr}" is not a DNS name or an IP address`);
                f.all(`${ep}.labels`, labelMapErrors(at(e, "labels")));
                for (const [name, port] of entries(at(e, "ports"))) {
                    if (!names.has(name)) f.add(`${ep}.ports["${name}"]`, "the ServiceEntry defines no port of that name");
                    if (!isIstioLabel(name)) f.add(`${ep}.ports["${name}"]`, "port name is not a DNS-1123 label");
                    f.add(`${ep}.ports["${name}"]`, portError(port));
                }
            });
        }
        if (resolution === "DYNAMIC_DNS") {
            hosts.forEach((h, i) => { if (!h.startsWith("*")) f.add(`spec.hosts[${i}]`, "resolution DYNAMIC_DNS needs wildcard hosts"); });
            if (addresses.length > 0) f.add("spec.addresses", "resolution DYNAMIC_DNS takes no addresses");
            if (eps.length > 0) f.add("spec.endpoints", "resolution DYNAMIC_DNS takes no endpoints");
            if (ports.some((port) => !["HTTP", "TLS", "GRPC", "HTTP2"].includes(str(at(port, "protocol")).toUpperCase()))) f.add("spec.ports", "resolution DYNAMIC_DNS supports HTTP, TLS, GRPC and HTTP2 ports only");
            const location = str(at(spec, "location")) || "MESH_EXTERNAL";
            const waypoint = at(se, "metadata", "labels", "istio.io/use-waypoint");
            if (location === "MESH_INTERNAL" && typeof waypoint === "string" && waypoint !== "" && waypoint.toLowerCase() !== "none") f.add("spec.location", "MESH_INTERNAL with DYNAMIC_DNS is not supported with waypoints");
        }
        if (resolution !== "NONE" && hosts.length > 1 && ports.some((port) => !isHttpProtocol(str(at(port, "protocol"))) && !isTlsProtocol(str(at(port, "protocol"))))) {
            f.add("spec.ports", "several hosts with a resolution need HTTP or TLS ports only");
        }
        f.all("spec.exportTo", exportToErrors(at(spec, "exportTo"), namespaceOf(se), true));
        return f.issues;
    },
};

/** Envoy v2 API type URLs: istiod no longer resolves them. */
const V2_TYPE = /type\.googleapis\.com\/envoy\.(config|api)\.[a-z0-9_.]*\.v2(alpha|beta)?\d*\./;

function typeUrls(v: unknown, path: string, out: [string, string][]): void {
    if (Array.isArray(v)) v.forEach((x, i) => typeUrls(x, `${path}[${i}]`, out));
    else if (asRecord(v)) {
        for (const [k, x] of Object.entries(v as object)) {
            if (k === "@type" && typeof x === "string") out.push([`${path}["@type"]`, x]);
            else typeUrls(x, `${path}.${k}`, out);
        }
    }
}

export const envoyFilterIstiod: ResourceRule = {
    name: "envoy-filter-istiod",
    description: "An EnvoyFilter passes istiod's validation: every config patch has applyTo, a patch with an operation (and a value unless REMOVE), a proxyVersion that is an RE2 regex, a match that fits applyTo, and no Envoy v2 typed configs.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Give each configPatches[] entry applyTo and patch.operation (plus patch.value unless REMOVE), match listener/routeConfiguration/cluster as applyTo requires, and use Envoy v3 type URLs; ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.envoyFilter],
    check(ef) {
        const f = new Findings();
        const spec = at(ef, "spec");
        f.all("spec.workloadSelector.labels", selectorErrors(at(spec, "workloadSelector", "labels")));
        asArray(at(spec, "configPatches")).forEach((cp, i) => {
            const p = `spec.configPatches[${i}]`;
            if (!asRecord(cp)) return f.add(p, "a config patch may not be null");
            if (at(cp, "match", "context") === "WAYPOINT") return;
            const applyTo = str(at(cp, "applyTo"));
            if (applyTo === "" || applyTo === "INVALID") return f.add(`${p}.applyTo`, "applyTo is required");
            if (!asRecord(at(cp, "patch"))) return f.add(`${p}.patch`, "patch is required");
            const op = str(at(cp, "patch", "operation"));
            if (op === "" || op === "INVALID") return f.add(`${p}.patch.operation`, "operation is required");
            if (op !== "REMOVE" && !present(at(cp, "patch"), "value")) return f.add(`${p}.patch.value`, `a ${op} patch needs a value`);
            const version = str(at(cp, "match", "proxy", "proxyVersion"));
            if (version !== "" && version.length <= 1024) {
                const err = re2Error(version);
                if (err) return f.add(`${p}.match.proxy.proxyVersion`, err);
            }
            const match = at(cp, "match");
            const objectTypes = ["listener", "routeConfiguration", "cluster"].filter((k) => present(match, k));
            if (objectTypes.length > 0) {
                if (["LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER"].includes(applyTo)) {
                    if (!present(match, "listener")) return f.add(`${p}.match`, `applyTo ${applyTo} needs a listener match`);
                    const filter = at(match, "listener", "filterChain", "filter");
                    if (asRecord(filter)) {
                        const name = str(at(filter, "name"));
                        if (name === "") return f.add(`${p}.match.listener.filterChain.filter.name`, "a filter match needs a name");
                        const sub = at(filter, "subFilter");
                        if (asRecord(sub)) {
                            if (applyTo !== "HTTP_FILTER") return f.add(`${p}.match.listener.filterChain.filter.subFilter`, "a subFilter match works with applyTo HTTP_FILTER only");
                            if (name !== "envoy.filters.network.http_connection_manager" && name !== "envoy.http_connection_manager") {
                                return f.add(`${p}.match.listener.filterChain.filter.name`, "a subFilter match needs filter envoy.filters.network.http_connection_manager");
                            }
                            if (str(at(sub, "name")) === "") return f.add(`${p}.match.listener.filterChain.filter.subFilter.name`, "a subFilter match needs a name");
                        }
                    }
                } else if (["ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE"].includes(applyTo) && !present(match, "routeConfiguration")) {
                    f.add(`${p}.match`, `applyTo ${applyTo} needs a routeConfiguration match`);
                } else if (applyTo === "CLUSTER" && !present(match, "cluster")) {
                    f.add(`${p}.match`, "applyTo CLUSTER needs a cluster match");
                }
            }
            const urls: [string, string][] = [];
            typeUrls(at(cp, "patch", "value"), `${p}.patch.value`, urls);
            for (const [where, url] of urls) if (V2_TYPE.test(url)) f.add(where, `"${url}" is an Envoy v2 type istiod cannot resolve; use the v3 API`);
        });
        return f.issues;
    },
};

export const telemetryIstiod: ResourceRule = {
    name: "telemetry-istiod",
    description: "A Telemetry passes istiod's validation: access-log filters that are CEL expressions, named providers, tag overrides that fit their operation, custom tracing tags with values and a sampling percentage of 0-100.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Fix the field the message names: accessLogging[].filter.expression must parse as CEL (e.g. response.code >= 400), UPSERT overrides need a value and REMOVE ones none; ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.telemetry],
    check(tel) {
        const f = new Findings();
        const spec = at(tel, "spec");
        policyTargets(f, spec);
        const providers = (path: string, list: unknown) => {
            const i = asArray(list).findIndex((pr) => str(at(pr, "name")) === "");
            if (i >= 0) f.add(`${path}.providers[${i}].name`, "a provider name may not be empty");
        };
        asArray(at(spec, "metrics")).forEach((m, i) => {
            const p = `spec.metrics[${i}]`;
            if (!asRecord(m)) return;
            providers(p, at(m, "providers"));
            asArray(at(m, "overrides")).forEach((o, j) => {
                const op = `${p}.overrides[${j}]`;
                if (!asRecord(o)) return f.add(op, "an override may not be null");
                for (const [tag, to] of entries(at(o, "tagOverrides"))) {
                    const tp = `${op}.tagOverrides["${tag}"]`;
                    if (!asRecord(to)) {
                        f.add(tp, "a tag override may not be null");
                        continue;
                    }
                    const operation = str(at(to, "operation")) || "UPSERT";
                    const value = str(at(to, "value"));
                    if (operation === "UPSERT" && value === "") f.add(`${tp}.value`, "an UPSERT override needs a value");
                    if (operation === "REMOVE" && value !== "") f.add(`${tp}.value`, "a REMOVE override takes no value");
                }
                if (at(o, "match", "customMetric") === "") f.add(`${op}.match.customMetric`, "may not be empty");
            });
        });
        asArray(at(spec, "tracing")).forEach((t, i) => {
            const p = `spec.tracing[${i}]`;
            if (!asRecord(t)) return;
            providers(p, at(t, "providers"));
            const sampling = at(t, "randomSamplingPercentage");
            if (typeof sampling === "number" && (sampling < 0 || sampling > 100)) f.add(`${p}.randomSamplingPercentage`, `${sampling} is outside 0-100`);
            for (const [name, tag] of entries(at(t, "customTags"))) {
                const tp = `${p}.customTags["${name}"]`;
                if (name === "") f.add(tp, "a tag name may not be empty");
                if (!asRecord(tag)) {
                    f.add(tp, "a tag may not be null");
                    continue;
                }
                if (present(tag, "literal") && str(at(tag, "literal", "value")) === "") f.add(`${tp}.literal.value`, "may not be empty");
                if (present(tag, "header") && str(at(tag, "header", "name")) === "") f.add(`${tp}.header.name`, "may not be empty");
                if (present(tag, "environment") && str(at(tag, "environment", "name")) === "") f.add(`${tp}.environment.name`, "may not be empty");
            }
        });
        asArray(at(spec, "accessLogging")).forEach((l, i) => {
            const p = `spec.accessLogging[${i}]`;
            if (!asRecord(l)) return;
            const expr = at(l, "filter", "expression");
            if (asRecord(at(l, "filter"))) f.add(`${p}.filter.expression`, celSyntaxError(typeof expr === "string" ? expr : ""));
            providers(p, at(l, "providers"));
        });
        return f.issues;
    },
};

export const workloadEntryIstiod: ResourceRule = {
    name: "workload-entry-istiod",
    description: "A WorkloadEntry or WorkloadGroup passes istiod's validation (an address, ports named as DNS labels within 1-65535, valid labels; a group's template and probe). The AKS add-on blocks both kinds anyway (aks-blocked-istio-apis).",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Give the entry an address (IP, DNS name or unix:///path) and ports named as DNS labels within 1-65535; give a group a template and a probe with httpGet, tcpSocket or exec; ${REFUSED}.`,
    scope: "resource",
    settings: [],
    kinds: [`${NETWORKING}/WorkloadEntry`, `${NETWORKING}/WorkloadGroup`],
    check(obj) {
        const f = new Findings();
        const spec = at(obj, "spec");
        if (obj.kind === "WorkloadEntry") {
            const addr = str(at(spec, "address"));
            if (addr === "" && str(at(spec, "network")) === "") f.add("spec.address", "address is required (or a network)");
            else if (addr.startsWith("unix://")) {
                const file = addr.slice("unix://".length);
                if (file === "" || (!file.startsWith("@") && (!file.startsWith("/") || file.endsWith("/")))) f.add("spec.address", `"${file}" is not an absolute path to a socket file`);
                if (entries(at(spec, "ports")).length > 0) f.add("spec.ports", "a unix endpoint takes no ports");
            } else if (addr !== "" && !isIp(addr) && fqdnError(addr) !== undefined) f.add("spec.address", `"${addr}" is not a DNS name or an IP address`);
            for (const [name, port] of entries(at(spec, "ports"))) {
                if (!isIstioLabel(name)) f.add(`spec.ports["${name}"]`, "port name is not a DNS-1123 label");
                f.add(`spec.ports["${name}"]`, portError(port));
            }
            f.all("spec.labels", labelMapErrors(at(spec, "labels")));
            return f.issues;
        }
        if (!asRecord(at(spec, "template"))) return [{ message: "spec.template: template is required" }];
        f.all("spec.metadata.labels", labelMapErrors(at(spec, "metadata", "labels")));
        const probe = at(spec, "probe");
        if (asRecord(probe)) {
            for (const k of ["periodSeconds", "initialDelaySeconds", "timeoutSeconds", "successThreshold", "failureThreshold"]) if (num(at(probe, k)) < 0) f.add(`spec.probe.${k}`, "may not be negative");
            if (asRecord(at(probe, "httpGet"))) {
                f.add("spec.probe.httpGet.port", portError(num(at(probe, "httpGet", "port"))));
                const scheme = str(at(probe, "httpGet", "scheme"));
                if (scheme !== "" && scheme !== "HTTP" && scheme !== "HTTPS") f.add("spec.probe.httpGet.scheme", "must be HTTP or HTTPS");
                asArray(at(probe, "httpGet", "httpHeaders")).forEach((h, i) => { if (!/^[-A-Za-z0-9]+$/.test(str(at(h, "name")))) f.add(`spec.probe.httpGet.httpHeaders[${i}].name`, "is not a valid header name"); });
            } else if (asRecord(at(probe, "tcpSocket"))) {
                f.add("spec.probe.tcpSocket.port", portError(num(at(probe, "tcpSocket", "port"))));
            } else if (asRecord(at(probe, "exec"))) {
                if (!listed(at(probe, "exec", "command"))) f.add("spec.probe.exec.command", "a command is required");
            } else {
                f.add("spec.probe", "needs httpGet, tcpSocket or exec");
            }
        }
        return f.issues;
    },
};

/** Names read by the differential and docs: every istiod rule. */
export const ISTIOD_RULES: readonly ResourceRule[] = [
    virtualServiceIstiod, gatewayIstiod, sidecarIstiod, destinationRuleIstiod, authorizationPolicyIstiod, requestAuthenticationIstiod,
    peerAuthenticationIstiod, serviceEntryIstiod, envoyFilterIstiod, telemetryIstiod, workloadEntryIstiod,
];
