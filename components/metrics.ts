import { stringify } from "yaml";
import { ROOT_NAMESPACE } from "../policy-pack/lib/aks";

/**
 * Pure pieces of the mesh's metrics: what managed Prometheus scrapes of Istio (its ama-metrics
 * agent reads extra scrape jobs from a ConfigMap) and the golden-signal alerts evaluated on them.
 */

/** Thresholds of the mesh's golden-signal alerts. */
export interface AlertsConfig {
    /** Share of a service's requests answered 5xx, in percent, above which it alerts. */
    readonly errorRatePercent: number;
    /** p99 request latency per service, in milliseconds, above which it alerts. */
    readonly latencyP99Ms: number;
    /** Fewer istiod instances up than this alerts. */
    readonly istiodMinUp: number;
    /** CPU of one istio-proxy container, in millicores, above which it alerts. */
    readonly sidecarCpuMillicores: number;
    /** How long a condition must hold before the alert fires, in minutes. */
    readonly forMinutes: number;
    /** Azure Monitor action group the alerts notify; omit to only record them in Azure Monitor. */
    readonly actionGroupId?: string;
}

/** Where ama-metrics looks for custom scrape jobs, and the key it reads. */
export const SCRAPE_CONFIG_MAP = { name: "ama-metrics-prometheus-config", namespace: "kube-system", key: "prometheus-config" } as const;
/** Job names the alerts query by. */
export const ISTIOD_JOB = "istiod";
export const PROXY_JOB = "istio-proxies";

/**
 * Two jobs: istiod's monitoring port (15014) on every revision's Service, and every pod that
 * asks to be scraped with `prometheus.io/*` annotations. Injection points those annotations at
 * the sidecar's merged endpoint (15020, app and Envoy stats), which is outside mTLS capture, so
 * the agent (not in the mesh) can scrape it under STRICT PeerAuthentication.
 */
export function scrapeConfigYaml(): string {
    const interval = "30s";
    return stringify({
        scrape_configs: [
            {
                job_name: ISTIOD_JOB,
                scrape_interval: interval,
                kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [ROOT_NAMESPACE] } }],
                relabel_configs: [
                    { source_labels: ["__meta_kubernetes_service_label_app", "__meta_kubernetes_endpoint_port_name"], regex: "istiod;http-monitoring", action: "keep" },
                    { source_labels: ["__meta_kubernetes_service_label_istio_io_rev"], target_label: "revision" },
                    { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
                ],
            },
            {
                job_name: PROXY_JOB,
                scrape_interval: interval,
                kubernetes_sd_configs: [{ role: "pod" }],
                relabel_configs: [
                    { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], regex: "true", action: "keep" },
                    { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"], regex: "(.+)", target_label: "__metrics_path__" },
                    {
                        source_labels: ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
                        regex: "([^:]+)(?::\\d+)?;(\\d+)",
                        replacement: "$1:$2",
                        target_label: "__address__",
                    },
                    { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
                    { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
                ],
            },
        ],
    });
}

/** One alert of the rule group, shaped like azure-native's PrometheusRuleArgs. */
export interface AlertRule {
    readonly alert: string;
    readonly expression: string;
    /** ISO 8601 duration the condition must hold. */
    readonly for: string;
    /** Azure Monitor severity, 0 (critical) to 4 (verbose). */
    readonly severity: number;
    readonly labels: Record<string, string>;
    readonly annotations: Record<string, string>;
}

/** Server-side request metrics: measured by the callee's sidecar, so every caller is counted once. */
const SERVER = `reporter="destination"`;

/**
 * The mesh's golden signals: errors and latency per service (from the sidecars' standard Istio
 * metrics), control-plane availability, and saturation of the sidecars themselves.
 */
export function goldenSignalRules(t: AlertsConfig): AlertRule[] {
    const hold = `PT${t.forMinutes}M`;
    const rule = (alert: string, severity: number, expression: string, summary: string, thresholdKey: keyof AlertsConfig): AlertRule => ({
        alert,
        expression,
        for: hold,
        severity,
        labels: { signal: alert },
        annotations: { summary, threshold: `observability.alerts.${thresholdKey} = ${t[thresholdKey]}` },
    });
    return [
        rule("MeshServiceErrorRate", 2,
            `100 * sum by (destination_service) (rate(istio_requests_total{${SERVER},response_code=~"5.."}[5m]))`
            + ` / sum by (destination_service) (rate(istio_requests_total{${SERVER}}[5m])) > ${t.errorRatePercent}`,
            "More than the allowed share of a service's requests fail with 5xx.", "errorRatePercent"),
        rule("MeshServiceLatencyP99", 3,
            `histogram_quantile(0.99, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket{${SERVER}}[5m]))) > ${t.latencyP99Ms}`,
            "A service's 99th percentile latency is above the threshold (milliseconds).", "latencyP99Ms"),
        rule("IstiodUnavailable", 1,
            `(sum(up{job="${ISTIOD_JOB}"}) or vector(0)) < ${t.istiodMinUp}`,
            "Too few istiod instances answer their monitoring port: new pods get no sidecar and config stops flowing.", "istiodMinUp"),
        rule("SidecarCpuHigh", 3,
            `1000 * sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container="istio-proxy"}[5m])) > ${t.sidecarCpuMillicores}`,
            "An istio-proxy container uses more CPU than the threshold (millicores).", "sidecarCpuMillicores"),
    ];
}
