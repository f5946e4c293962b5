/**
 * Traffic settings of an app's services, as data: canary weights, header routes, fault injection and
 * a local rate limit. An app spec carries defaults (bookinfo's reviews canary); a stack's app entry
 * overrides them field by field (`aks-istio-mesh:apps[i].traffic`), where `fault: false` or
 * `rateLimit: false` switches a default off.
 */
import { z } from "zod";
import { describe, duration, integer, list, object, record, text } from "./schema";

/** Protocols whose traffic VirtualService http routes (weights, retries, faults) apply to. */
export const HTTP_PROTOCOLS: readonly string[] = ["http", "http2", "grpc"];

const HEADER = /^[a-z0-9][a-z0-9-]*$/;
const percent = () => z.number({ error: (iss) => `must be a percentage from 0 to 100; got ${describe(iss.input)}` })
    .min(0, { error: (iss) => `must be a percentage from 0 to 100; got ${describe(iss.input)}` })
    .max(100, { error: (iss) => `must be a percentage from 0 to 100; got ${describe(iss.input)}` });

const headers = record(text(), (k) => (HEADER.test(k) ? undefined : `${describe(k)} is not valid; expected a lower-case HTTP header name`))
    .refine((h) => Object.keys(h).length > 0, { error: "needs at least one header" });

const fault = object({
    headers: headers.optional(),
    delay: object({ fixedDelay: duration(), percent: percent() }).optional(),
    abort: object({ httpStatus: integer(200, 599), percent: percent() }).optional(),
}).refine((f) => f.delay !== undefined || f.abort !== undefined, { error: "needs a delay, an abort or both" });

const rateLimit = object({
    maxTokens: integer(1, 1_000_000),
    tokensPerFill: integer(1, 1_000_000),
    // Envoy's local rate limit refuses a token bucket refilled more often than every 50ms.
    fillInterval: duration(50),
}).superRefine((r, ctx) => {
    if (r.tokensPerFill > r.maxTokens) {
        ctx.addIssue({ code: "custom", path: ["tokensPerFill"], input: r.tokensPerFill, message: `must be an integer from 1 to ${r.maxTokens} (maxTokens); got ${r.tokensPerFill}` });
    }
});

const serviceTrafficShape = {
    /** Percent of requests per version; integers summing to 100. Default: all to the first version. */
    weights: record(integer(0, 100)).optional(),
    /** Requests whose headers all match exactly go to one version. */
    headerRoutes: list(object({ headers, version: text() })).optional(),
    /** Faults for requests matching `headers` (all when omitted); rendered only where the stack enables faults. */
    fault: fault.optional(),
    /** Envoy local rate limit (token bucket) on the service's inbound sidecar. */
    rateLimit: rateLimit.optional(),
};

/** Traffic settings of one service, as an app spec declares them. */
export const serviceTraffic = object(serviceTrafficShape);
/** A stack's override of one service's traffic: `false` switches a spec's fault or rate limit off. */
const serviceTrafficOverride = object({
    ...serviceTrafficShape,
    fault: z.preprocess((v) => (v === false ? null : v), fault.nullable()).optional(),
    rateLimit: z.preprocess((v) => (v === false ? null : v), rateLimit.nullable()).optional(),
});

export type ServiceTraffic = z.output<typeof serviceTraffic>;
export type ServiceTrafficOverride = z.output<typeof serviceTrafficOverride>;
export type AppTraffic = Readonly<Record<string, ServiceTraffic>>;

/** What traffic settings need to know of a service. */
export interface TrafficTarget {
    readonly name: string;
    readonly ports: readonly { readonly protocol: string }[];
    readonly versions: readonly { readonly name: string }[];
}

/** Checks traffic settings against the app's services: known service, HTTP only, known versions, weights summing to 100. */
function checkAgainst(services: readonly TrafficTarget[], traffic: Record<string, ServiceTraffic | ServiceTrafficOverride>, ctx: z.RefinementCtx): void {
    const byName = new Map(services.map((s) => [s.name, s]));
    for (const [name, t] of Object.entries(traffic)) {
        const svc = byName.get(name);
        if (!svc) {
            ctx.addIssue({ code: "custom", path: [name], input: name, message: `${describe(name)} is not a service of the app; services: ${[...byName.keys()].join(", ")}` });
            return;
        }
        if (!svc.ports.every((p) => HTTP_PROTOCOLS.includes(p.protocol))) {
            ctx.addIssue({ code: "custom", path: [name], input: name, message: `${name} has non-HTTP ports; routing, faults and rate limits apply to HTTP services (${HTTP_PROTOCOLS.join(", ")})` });
            return;
        }
        const versions = svc.versions.map((v) => v.name);
        const notAVersion = (v: string) => `${describe(v)} is not allowed; allowed: ${versions.join(", ")}`;
        if (t.weights) {
            const unknown = Object.keys(t.weights).find((v) => !versions.includes(v));
            if (unknown !== undefined) {
                ctx.addIssue({ code: "custom", path: [name, "weights", unknown], input: unknown, message: notAVersion(unknown) });
                return;
            }
            const sum = Object.values(t.weights).reduce((a, b) => a + b, 0);
            if (sum !== 100) {
                ctx.addIssue({ code: "custom", path: [name, "weights"], input: t.weights, message: `weights must sum to 100; got ${sum} (${Object.entries(t.weights).map(([k, x]) => `${k}: ${x}`).join(", ")})` });
                return;
            }
        }
        const route = (t.headerRoutes ?? []).findIndex((r) => !versions.includes(r.version));
        if (route >= 0) {
            ctx.addIssue({ code: "custom", path: [name, "headerRoutes", route, "version"], input: t.headerRoutes![route].version, message: notAVersion(t.headerRoutes![route].version) });
            return;
        }
    }
}

/** An app spec's traffic defaults, checked against its services. */
export function appTraffic(services: readonly TrafficTarget[]) {
    return record(serviceTraffic).superRefine((t, ctx) => checkAgainst(services, t, ctx));
}

/** A stack's traffic overrides for an app, checked against the app's services. */
export function appTrafficOverride(services: readonly TrafficTarget[]) {
    return record(serviceTrafficOverride).superRefine((t, ctx) => checkAgainst(services, t, ctx));
}

/** Spec defaults with a stack's overrides laid over them, field by field per service; `false` (null) removes a default. */
export function mergeTraffic(defaults: AppTraffic | undefined, overrides: Readonly<Record<string, ServiceTrafficOverride>>): AppTraffic {
    const out: Record<string, ServiceTraffic> = { ...defaults };
    for (const [svc, o] of Object.entries(overrides)) {
        const merged: Record<string, unknown> = { ...out[svc] };
        for (const [k, v] of Object.entries(o)) {
            if (v === null) {
                delete merged[k];
            } else if (v !== undefined) {
                merged[k] = v;
            }
        }
        out[svc] = merged as ServiceTraffic;
    }
    return out;
}
