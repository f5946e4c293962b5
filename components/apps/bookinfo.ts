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
            userFacing: true,
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
        { from: "reviews", to: "ratings", port: 9080, fromVersions: ["v2", "v3"] },
    ],
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
