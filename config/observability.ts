/** `aks-istio-mesh:observability`: managed Prometheus, Grafana, alerts, Kiali, the Telemetry API and tracing. */
import { z } from "zod";
import { guid } from "./cluster";
import { boolean, decimal, integer, list, object, oneOf, text } from "./schema";

const ACTION_GROUP_ID = {
    pattern: /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/microsoft\.insights\/actionGroups\/[^/]+$/i,
    hint: "an action group resource id, /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Insights/actionGroups/<name>",
};
/** The Entra ID auth proxy's last published image that authenticates with workload identity. */
const QUERY_PROXY_IMAGE = "mcr.microsoft.com/azuremonitor/auth-proxy/prod/aad-auth-proxy/images/aad-auth-proxy:0.1.0-main-01-10-2024-08b31473";

export const observability = object({
    /** Managed Prometheus, Grafana, alerts, Kiali and the Telemetry API. */
    enabled: boolean().default(true),
    grafana: object({
        sku: oneOf(["Standard", "Essential"]).default("Standard"),
        // Azure Managed Grafana retired 11 (instances were upgraded to 12, irreversibly).
        majorVersion: text({ pattern: /^\d+$/, hint: "a Grafana major version such as \"12\"", example: "\"12\"" }).default("12"),
        /** Entra ID object ids (users or groups) given the Grafana Admin role on the instance. */
        adminObjectIds: list(guid()).default([]),
    }).prefault({}),
    /** Thresholds of the mesh's golden-signal alerts (Prometheus rule group on the Azure Monitor workspace). */
    alerts: object({
        /** Share of a service's requests answered 5xx, in percent, above which it alerts. */
        errorRatePercent: decimal(0.01, 100).default(5),
        /** p99 request latency per service, in milliseconds, above which it alerts. */
        latencyP99Ms: integer(1, 600_000).default(1000),
        /** Fewer istiod instances up than this alerts. */
        istiodMinUp: integer(1, 10).default(1),
        /** CPU of one istio-proxy container, in millicores, above which it alerts. */
        sidecarCpuMillicores: integer(1, 64_000).default(500),
        /** How long a condition must hold before the alert fires, in minutes. */
        forMinutes: integer(1, 1440).default(5),
        /** Azure Monitor action group the alerts notify; omit to only record them in Azure Monitor. */
        actionGroupId: text(ACTION_GROUP_ID).optional(),
    }).prefault({}),
    kiali: object({
        enabled: boolean().default(true),
        /** Version of the kiali-server Helm chart (and so of Kiali). */
        chartVersion: text({ pattern: /^\d+\.\d+\.\d+$/, hint: "a chart version such as 2.24.0" }).default("2.24.0"),
        /** Kiali login: a Kubernetes token, or none (anyone who can port-forward to it). */
        auth: oneOf(["token", "anonymous"]).default("token"),
        /** Image of the Entra ID auth proxy in front of the workspace's query endpoint. */
        queryProxyImage: text({ pattern: /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/, hint: "an image reference with a tag or digest" })
            .default(QUERY_PROXY_IMAGE),
    }).prefault({}),
    /** Distributed tracing through an OpenTelemetry collector; omit for none. */
    tracing: object({
        /** Share of requests traced, in percent. */
        samplingPercent: decimal(0, 100).default(1),
        /** The collector's OTLP/gRPC address: a Service FQDN and its port. */
        collector: object({
            service: text({ pattern: /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, hint: "a Service FQDN such as otel-collector.observability.svc.cluster.local" }),
            port: integer(1, 65535),
        }, { required: "is required: the OpenTelemetry collector (service, port) the proxies send spans to" }),
    }).optional(),
}).prefault({});

export type ObservabilityConfig = z.output<typeof observability>;
export type AlertsConfig = ObservabilityConfig["alerts"];
