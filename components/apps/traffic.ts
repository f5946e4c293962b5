import { fail, integer, list, object, oneOf, record, string } from "../validate";
import type { ServiceSpec } from "./spec";

/**
 * How a service's traffic is routed, as data: canary weights, header routes, fault injection and a
 * local rate limit. An app spec carries defaults (bookinfo's reviews canary); a stack's app entry
 * overrides them field by field (`aks-istio-mesh:apps[i].traffic`).
 */

/** Requests whose headers all match exactly go to one version. */
export interface HeaderRoute {
    readonly headers: Readonly<Record<string, string>>;
    readonly version: string;
}

/** Faults for requests matching `headers` (all requests when omitted); on only where the stack enables faults. */
export interface FaultSpec {
    readonly headers?: Readonly<Record<string, string>>;
    readonly delay?: { readonly fixedDelay: string; readonly percent: number };
    readonly abort?: { readonly httpStatus: number; readonly percent: number };
}

/** Envoy local rate limit (token bucket) on the service's inbound sidecar. */
export interface RateLimitSpec {
    readonly maxTokens: number;
    readonly tokensPerFill: number;
    readonly fillInterval: string;
}

export interface ServiceTraffic {
    /** Percent of requests per version; integers summing to 100. Default: all to the first version. */
    readonly weights?: Readonly<Record<string, number>>;
    readonly headerRoutes?: readonly HeaderRoute[];
    readonly fault?: FaultSpec;
    readonly rateLimit?: RateLimitSpec;
}

/** Traffic settings by service name. */
export type AppTraffic = Readonly<Record<string, ServiceTraffic>>;

/** Protocols whose traffic VirtualService http routes (weights, retries, faults) apply to. */
export const HTTP_PROTOCOLS: readonly string[] = ["http", "http2", "grpc"];

/** True when every port speaks HTTP, so the service gets http routes. */
export function isHttpService(svc: ServiceSpec): boolean {
    return svc.ports.every((p) => HTTP_PROTOCOLS.includes(p.protocol));
}

/** The service's versions; a service without `versions` runs v1. */
export function versionsOf(svc: ServiceSpec): string[] {
    return (svc.versions ?? [{ name: "v1" }]).map((v) => v.name);
}

/** Envoy/Istio duration: a number with ms, s, m or h. */
export function duration(v: unknown, path: string): string {
    return string(v, path, { pattern: /^\d+(\.\d+)?(ms|s|m|h)$/, hint: "a duration such as 500ms, 7s or 1m" });
}

function percent(v: unknown, path: string): number {
    if (typeof v !== "number" || !(v >= 0 && v <= 100)) {
        fail(path, `must be a percentage from 0 to 100; got ${JSON.stringify(v)}`);
    }
    return v;
}

const HEADER = { pattern: /^[a-z0-9][a-z0-9-]*$/, hint: "a lower-case HTTP header name" };

function headers(v: unknown, path: string): Record<string, string> {
    const h = record(v, path, (x, xp) => string(x, xp));
    if (Object.keys(h).length === 0) {
        fail(path, "needs at least one header");
    }
    for (const name of Object.keys(h)) {
        string(name, `${path}.${name}`, HEADER);
    }
    return h;
}

function weights(v: unknown, path: string, versions: string[]): Record<string, number> {
    const w = record(v, path, (x, xp) => integer(x, xp, 0, 100));
    for (const name of Object.keys(w)) {
        oneOf(name, `${path}.${name}`, versions);
    }
    const sum = Object.values(w).reduce((a, b) => a + b, 0);
    if (sum !== 100) {
        fail(path, `weights must sum to 100; got ${sum} (${Object.entries(w).map(([k, x]) => `${k}: ${x}`).join(", ")})`);
    }
    return w;
}

function fault(v: unknown, path: string): FaultSpec {
    const f = object(v, path, ["headers", "delay", "abort"]);
    if (f.delay === undefined && f.abort === undefined) {
        fail(path, "needs a delay, an abort or both");
    }
    const out: { -readonly [K in keyof FaultSpec]: FaultSpec[K] } = {};
    if (f.headers !== undefined) {
        out.headers = headers(f.headers, `${path}.headers`);
    }
    if (f.delay !== undefined) {
        const d = object(f.delay, `${path}.delay`, ["fixedDelay", "percent"]);
        out.delay = { fixedDelay: duration(d.fixedDelay, `${path}.delay.fixedDelay`), percent: percent(d.percent, `${path}.delay.percent`) };
    }
    if (f.abort !== undefined) {
        const a = object(f.abort, `${path}.abort`, ["httpStatus", "percent"]);
        out.abort = { httpStatus: integer(a.httpStatus, `${path}.abort.httpStatus`, 200, 599), percent: percent(a.percent, `${path}.abort.percent`) };
    }
    return out;
}

function rateLimit(v: unknown, path: string): RateLimitSpec {
    const r = object(v, path, ["maxTokens", "tokensPerFill", "fillInterval"]);
    const maxTokens = integer(r.maxTokens, `${path}.maxTokens`, 1, 1_000_000);
    return {
        maxTokens,
        tokensPerFill: integer(r.tokensPerFill, `${path}.tokensPerFill`, 1, maxTokens),
        fillInterval: duration(r.fillInterval, `${path}.fillInterval`),
    };
}

/**
 * Validates traffic settings for an app's services. Only the fields given are returned, so an
 * override replaces exactly those; `fault: false` or `rateLimit: false` switches a default off.
 */
export function parseAppTraffic(raw: unknown, path: string, services: readonly ServiceSpec[]): Record<string, ServiceTraffic> {
    const byName = new Map(services.map((s) => [s.name, s]));
    return record(raw, path, (v, p) => {
        const svcName = p.slice(path.length + 1);
        const svc = byName.get(svcName);
        if (!svc) {
            fail(p, `"${svcName}" is not a service of the app; services: ${[...byName.keys()].join(", ")}`);
        }
        if (!isHttpService(svc)) {
            fail(p, `${svcName} has non-HTTP ports; routing, faults and rate limits apply to HTTP services (${HTTP_PROTOCOLS.join(", ")})`);
        }
        const versions = versionsOf(svc);
        const t = object(v, p, ["weights", "headerRoutes", "fault", "rateLimit"]);
        const out: { -readonly [K in keyof ServiceTraffic]: ServiceTraffic[K] } = {};
        if (t.weights !== undefined) {
            out.weights = weights(t.weights, `${p}.weights`, versions);
        }
        if (t.headerRoutes !== undefined) {
            out.headerRoutes = list(t.headerRoutes, `${p}.headerRoutes`, (x, xp) => {
                const h = object(x, xp, ["headers", "version"]);
                return { headers: headers(h.headers, `${xp}.headers`), version: oneOf(h.version, `${xp}.version`, versions) };
            });
        }
        if (t.fault !== undefined) {
            out.fault = t.fault === false ? undefined : fault(t.fault, `${p}.fault`);
        }
        if (t.rateLimit !== undefined) {
            out.rateLimit = t.rateLimit === false ? undefined : rateLimit(t.rateLimit, `${p}.rateLimit`);
        }
        return out;
    });
}

/** Spec defaults with a stack's overrides laid over them, field by field per service. */
export function mergeTraffic(defaults: AppTraffic | undefined, overrides: AppTraffic): AppTraffic {
    const out: Record<string, ServiceTraffic> = { ...defaults };
    for (const [svc, o] of Object.entries(overrides)) {
        out[svc] = { ...out[svc], ...o };
    }
    return out;
}
