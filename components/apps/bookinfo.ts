import { AppSpec, ResourceSpec, ServiceSpec } from "./spec";

const REGISTRY = "docker.io/istio";
const TAG = "1.20.3";
const RESOURCES: ResourceSpec = { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "500m", memory: "512Mi" } };

function bookinfoService(name: string, versions: string[], extra: Partial<ServiceSpec> = {}): ServiceSpec {
    return {
        name,
        image: `${REGISTRY}/examples-bookinfo-${name}-${versions[0]}:${TAG}`,
        versions: versions.map((v) => ({ name: v, image: `${REGISTRY}/examples-bookinfo-${name}-${v}:${TAG}` })),
        ports: [{ port: 9080, protocol: "http" }],
        resources: RESOURCES,
        serviceAccount: `bookinfo-${name}`,
        probes: { readiness: { tcpPort: 9080, initialDelaySeconds: 5, periodSeconds: 5 } },
        ...extra,
    };
}

/** Istio's Bookinfo: productpage (entry) → details, reviews (v1/v2/v3); reviews v2/v3 → ratings. */
export const bookinfo: AppSpec = {
    name: "bookinfo",
    namespace: "bookinfo",
    services: [
        bookinfoService("productpage", ["v1"], {
            emptyDirs: { tmp: "/tmp" },
            podAnnotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9080", "prometheus.io/path": "/metrics" },
        }),
        bookinfoService("details", ["v1"]),
        bookinfoService("reviews", ["v1", "v2", "v3"], {
            env: { LOG_DIR: "/tmp/logs" },
            emptyDirs: { tmp: "/tmp", "wlp-output": "/opt/ibm/wlp/output" },
        }),
        bookinfoService("ratings", ["v1"]),
    ],
    calls: [
        { from: "productpage", to: "details", port: 9080 },
        { from: "productpage", to: "reviews", port: 9080 },
        // Only reviews v2 and v3 call ratings, but authorization is per ServiceAccount, so the edge covers v1 too.
        { from: "reviews", to: "ratings", port: 9080 },
    ],
    // Istio's traffic-management tasks as defaults: a 90/10 reviews canary, jason pinned to v2,
    // ratings faults for jason (only where the stack enables faults) and a local rate limit on
    // productpage (the Istio task uses 4 per minute to see it trip; 100 lets a browser load a page).
    traffic: {
        reviews: {
            weights: { v1: 90, v2: 10 },
            headerRoutes: [{ headers: { "end-user": "jason" }, version: "v2" }],
        },
        ratings: {
            fault: {
                headers: { "end-user": "jason" },
                delay: { fixedDelay: "7s", percent: 100 },
                abort: { httpStatus: 500, percent: 100 },
            },
        },
        productpage: {
            rateLimit: { maxTokens: 100, tokensPerFill: 100, fillInterval: "60s" },
        },
    },
    ingress: [{
        service: "productpage",
        port: 9080,
        paths: [
            { match: "exact", path: "/productpage" },
            { match: "prefix", path: "/static" },
            { match: "exact", path: "/login" },
            { match: "exact", path: "/logout" },
            { match: "prefix", path: "/api/v1/products" },
        ],
    }],
};
