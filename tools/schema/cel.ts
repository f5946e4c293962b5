/**
 * CEL for `x-kubernetes-validations`: an environment shaped like the API server's (`self` only, integers as
 * BigInt) plus the parts of the Kubernetes URL library that Istio's rules call.
 */
import { Environment, ParseResult } from "@marcbachmann/cel-js";

/** A URL as Kubernetes' CEL `url()` sees it; fields follow Go's net/url. */
class KubernetesUrl {
    constructor(
        readonly scheme: string,
        readonly host: string,
        readonly hostname: string,
        readonly port: string,
    ) {}
}

/** Characters Go's net/url accepts in a host; anything else (space, `{`, `|`, `#`, ...) is a parse error. */
const HOST_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"%\u0080-\uffff]*$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/**
 * Parses like Go's `url.ParseRequestURI`, which Kubernetes' `isURL`/`url` use: an absolute URI or an absolute
 * path, no fragment splitting, numeric ports only. Returns undefined where Go returns an error.
 */
export function parseRequestUri(raw: string): KubernetesUrl | undefined {
    if (/[\u0000-\u001f\u007f]/.test(raw)) return undefined;
    const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(raw);
    const scheme = schemeMatch ? schemeMatch[1].toLowerCase() : "";
    let rest = schemeMatch ? raw.slice(schemeMatch[0].length) : raw;
    rest = rest.split("?")[0];
    if (!rest.startsWith("/")) {
        // `mailto:x`-style opaque URIs are fine once a scheme is present; a bare relative path is not.
        return scheme ? new KubernetesUrl(scheme, "", "", "") : undefined;
    }
    let host = "";
    if (scheme && rest.startsWith("//")) {
        const end = rest.indexOf("/", 2);
        const authority = end < 0 ? rest.slice(2) : rest.slice(2, end);
        rest = end < 0 ? "" : rest.slice(end);
        host = authority.slice(authority.lastIndexOf("@") + 1);
    }
    if (!HOST_CHARS.test(host) || BAD_ESCAPE.test(host) || BAD_ESCAPE.test(rest)) return undefined;
    const bracketed = /^\[([^\]]*)\](.*)$/.exec(host);
    if (host.startsWith("[") && !bracketed) return undefined;
    const colon = bracketed ? -1 : host.lastIndexOf(":");
    const portPart = bracketed ? bracketed[2] : colon < 0 ? "" : host.slice(colon);
    if (portPart !== "" && !/^:\d*$/.test(portPart)) return undefined;
    const hostname = bracketed ? bracketed[1] : colon < 0 ? host : host.slice(0, colon);
    return new KubernetesUrl(scheme, host, hostname, portPart.slice(1));
}

function toUrl(raw: string): KubernetesUrl {
    const parsed = parseRequestUri(raw);
    if (!parsed) throw new Error(`URL parse error during conversion from string: ${raw}`);
    return parsed;
}

const urlMethod = (name: string, handler: (u: KubernetesUrl) => string) => ({
    name,
    receiverType: "kubernetes.URL",
    returnType: "string",
    params: [],
    handler,
});

const environment = new Environment()
    .registerType("kubernetes.URL", KubernetesUrl)
    .registerVariable("self", "dyn")
    .registerFunction("url(string): kubernetes.URL", toUrl)
    .registerFunction("isURL(string): bool", (s: string) => parseRequestUri(s) !== undefined)
    .registerFunction(urlMethod("getScheme", (u) => u.scheme))
    .registerFunction(urlMethod("getHost", (u) => u.host))
    .registerFunction(urlMethod("getHostname", (u) => u.hostname))
    .registerFunction(urlMethod("getPort", (u) => u.port));

/** A compiled rule, or the reason it cannot run offline (reported, never skipped). */
export type CelProgram = ParseResult | { error: string };

// The same 36 expressions recur hundreds of times across CRDs and versions; parse each once per process.
const programs = new Map<string, CelProgram>();

export function compileRule(expression: string): CelProgram {
    let program = programs.get(expression);
    if (!program) {
        try {
            const parsed = environment.parse(expression);
            const checked = parsed.check();
            program = checked.valid ? parsed : { error: firstLine(checked.error?.message ?? "type check failed") };
        } catch (e) {
            program = { error: firstLine((e as Error).message) };
        }
        programs.set(expression, program);
    }
    return program;
}

/** The first line of a cel-js message; the rest is a source excerpt that repeats the rule. */
export function firstLine(message: string): string {
    return message.split("\n")[0].trim();
}

/** The structural-schema subset needed to give CEL the types the API server would (int vs double). */
export interface CelSchema {
    type?: string;
    properties?: Record<string, CelSchema>;
    additionalProperties?: CelSchema | boolean;
    items?: CelSchema;
    "x-kubernetes-int-or-string"?: boolean;
}

/**
 * Converts a JSON value to CEL's model: schema integers become BigInt, doubles stay numbers. Where no schema
 * applies (preserved unknown fields) whole numbers are taken as integers, as the API server decodes them.
 */
export function toCelValue(value: unknown, schema: CelSchema | undefined): unknown {
    if (typeof value === "number") {
        const integral = schema ? schema.type === "integer" || schema["x-kubernetes-int-or-string"] === true : true;
        return integral && Number.isInteger(value) ? BigInt(value) : value;
    }
    if (Array.isArray(value)) return value.map((item) => toCelValue(item, schema?.items));
    if (typeof value === "object" && value !== null) {
        const extra = typeof schema?.additionalProperties === "object" ? schema.additionalProperties : undefined;
        const out: Record<string, unknown> = {};
        for (const [key, field] of Object.entries(value)) {
            out[key] = toCelValue(field, schema?.properties?.[key] ?? extra);
        }
        return out;
    }
    return value;
}
