import type { AppSpec, IngressSpec, ServiceSpec } from "./apps/spec";
import { isHttpService, ServiceTraffic, versionsOf } from "./apps/traffic";
import { INGRESS_NAMESPACE } from "../policy-pack/lib/aks";
import { DestinationRuleSpec, EnvoyFilterSpec, GatewaySpec, HttpRoute, VirtualServiceSpec } from "./istio";

/**
 * Pure derivations of the traffic objects from an app spec, its traffic settings and the stack's
 * resilience defaults. The components only wrap these in resources, so tests can call them.
 */

export function serviceHost(service: string, namespace: string): string {
    return `${service}.${namespace}.svc.cluster.local`;
}

/** Timeouts, retries, connection pool and outlier detection every service gets. */
export interface ResilienceConfig {
    /** Timeout of a request, e.g. 15s. */
    readonly timeout: string;
    /** Retries of requests that never reached the app. */
    readonly retries: { readonly attempts: number; readonly perTryTimeout: string; readonly retryOn: string };
    /** Connection pool limits of every DestinationRule. */
    readonly connectionPool: { readonly maxConnections: number; readonly http1MaxPendingRequests: number; readonly http2MaxRequests: number };
    /** Ejection of failing endpoints. */
    readonly outlierDetection: { readonly consecutive5xxErrors: number; readonly interval: string; readonly baseEjectionTime: string; readonly maxEjectionPercent: number };
}

type Destination = NonNullable<HttpRoute["route"]>[number];

/** The default split: configured weights (zero-weight versions left out), else all to the first version. */
export function weightedDestinations(svc: ServiceSpec, namespace: string, traffic: ServiceTraffic | undefined, port?: number): Destination[] {
    const weights = Object.entries(traffic?.weights ?? { [versionsOf(svc)[0]]: 100 }).filter(([, w]) => w > 0);
    return weights.map(([subset, weight]) => ({
        destination: { host: serviceHost(svc.name, namespace), subset, ...(port === undefined ? {} : { port: { number: port } }) },
        ...(weights.length > 1 ? { weight } : {}),
    }));
}

function headerMatch(headers: Readonly<Record<string, string>>): NonNullable<HttpRoute["match"]>[number] {
    return { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, { exact: v }])) };
}

function resilient(route: HttpRoute, r: ResilienceConfig): HttpRoute {
    return { ...route, timeout: r.timeout, retries: { ...r.retries } };
}

/**
 * The mesh routes of a service, first match wins: the fault route (when faults are on), then
 * header routes to a version, then the weighted default.
 */
export function routeFor(svc: ServiceSpec, namespace: string, traffic: ServiceTraffic | undefined, resilience: ResilienceConfig, faults: boolean): HttpRoute[] {
    const routes: HttpRoute[] = [];
    const fault = faults ? traffic?.fault : undefined;
    if (fault) {
        routes.push(resilient({
            name: "fault",
            ...(fault.headers ? { match: [headerMatch(fault.headers)] } : {}),
            fault: {
                ...(fault.delay ? { delay: { fixedDelay: fault.delay.fixedDelay, percentage: { value: fault.delay.percent } } } : {}),
                ...(fault.abort ? { abort: { httpStatus: fault.abort.httpStatus, percentage: { value: fault.abort.percent } } } : {}),
            },
            route: weightedDestinations(svc, namespace, traffic),
        }, resilience));
    }
    (traffic?.headerRoutes ?? []).forEach((h, i) => routes.push(resilient({
        name: `header-${i}`,
        match: [headerMatch(h.headers)],
        route: [{ destination: { host: serviceHost(svc.name, namespace), subset: h.version } }],
    }, resilience)));
    routes.push(resilient({ name: "default", route: weightedDestinations(svc, namespace, traffic) }, resilience));
    return routes;
}

/**
 * A VirtualService for in-mesh callers of an HTTP service; none for TCP services (their DR still
 * applies). `callers`: namespaces of other apps that call the service, which see its routes too.
 */
export function meshVirtualService(svc: ServiceSpec, namespace: string, traffic: ServiceTraffic | undefined, resilience: ResilienceConfig, faults: boolean, callers: readonly string[] = []): VirtualServiceSpec | undefined {
    if (!isHttpService(svc)) {
        return undefined;
    }
    // Callers live in the app's namespace and in `callers`; the ingress gateway uses the ingress VirtualService.
    return { hosts: [serviceHost(svc.name, namespace)], exportTo: [".", ...callers], http: routeFor(svc, namespace, traffic, resilience, faults) };
}

/**
 * Subsets per version, connection-pool limits and outlier detection. TLS is left to Istio (auto
 * mTLS). Exported to the ingress namespace too when the gateway routes to the service's subsets,
 * and to the namespaces of other apps that call it (`callers`), whose routes name its subsets.
 */
export function destinationRule(svc: ServiceSpec, namespace: string, resilience: ResilienceConfig, entry: boolean, callers: readonly string[] = []): DestinationRuleSpec {
    const { connectionPool: cp, outlierDetection } = resilience;
    return {
        host: serviceHost(svc.name, namespace),
        exportTo: [".", ...(entry ? [INGRESS_NAMESPACE] : []), ...callers],
        trafficPolicy: {
            connectionPool: {
                tcp: { maxConnections: cp.maxConnections },
                http: { http1MaxPendingRequests: cp.http1MaxPendingRequests, http2MaxRequests: cp.http2MaxRequests },
            },
            outlierDetection: { ...outlierDetection },
        },
        subsets: versionsOf(svc).map((v) => ({ name: v, labels: { version: v } })),
    };
}

/** Envoy's local rate limit on the service's inbound HTTP listener (shape of Istio's rate-limit task). */
export function rateLimitFilter(service: string, rl: NonNullable<ServiceTraffic["rateLimit"]>): EnvoyFilterSpec {
    return {
        workloadSelector: { labels: { app: service } },
        // An explicit order for the relative INSERT_BEFORE (IST0151); nothing else patches this chain.
        priority: 10,
        configPatches: [{
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
                            token_bucket: { max_tokens: rl.maxTokens, tokens_per_fill: rl.tokensPerFill, fill_interval: rl.fillInterval },
                            filter_enabled: { runtime_key: "local_rate_limit_enabled", default_value: { numerator: 100, denominator: "HUNDRED" } },
                            filter_enforced: { runtime_key: "local_rate_limit_enforced", default_value: { numerator: 100, denominator: "HUNDRED" } },
                            response_headers_to_add: [{ append_action: "OVERWRITE_IF_EXISTS_OR_ADD", header: { key: "x-local-rate-limit", value: "true" } }],
                        },
                    },
                },
            },
        }],
    };
}

/** One host of the shared Gateway: the app namespace that may bind it, and the host name. */
export interface GatewayHost {
    readonly namespace: string;
    readonly host: string;
}

/**
 * Servers on 80 and 443 only (the add-on's Service ports). Hosts are `<namespace>/<host>`, so only
 * the app's own namespace can bind its host. With TLS, port 80 only redirects.
 */
export function gatewaySpec(selector: Readonly<Record<string, string>>, hosts: readonly GatewayHost[], credentialName?: string): GatewaySpec {
    const bound = hosts.map((h) => `${h.namespace}/${h.host}`);
    const http = { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: bound };
    if (credentialName === undefined) {
        return { selector: { ...selector }, servers: [http] };
    }
    return {
        selector: { ...selector },
        servers: [
            { ...http, tls: { httpsRedirect: true } },
            { port: { number: 443, name: "https", protocol: "HTTPS" }, hosts: bound, tls: { mode: "SIMPLE", credentialName, minProtocolVersion: "TLSV1_2" } },
        ],
    };
}

/** The app's ingress paths on its host, through its gateways (`namespace/name`), to its entry services' default split. */
export function ingressVirtualService(app: AppSpec, host: string, gateways: readonly string[], traffic: Readonly<Record<string, ServiceTraffic>>, resilience: ResilienceConfig): VirtualServiceSpec {
    const byName = new Map(app.services.map((s) => [s.name, s]));
    return {
        hosts: [host],
        gateways: [...gateways],
        http: app.ingress.map((ing: IngressSpec) => resilient({
            name: ing.service,
            match: ing.paths.map((p) => ({ uri: p.match === "exact" ? { exact: p.path } : { prefix: p.path } })),
            route: weightedDestinations(byName.get(ing.service)!, app.namespace, traffic[ing.service], ing.port),
        }, resilience)),
    };
}
