import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ROOT_NAMESPACE } from "../policy-pack/lib/aks";
import { istioObject, TelemetrySpec } from "./istio";
import { SCRAPE_CONFIG_MAP, scrapeConfigYaml } from "./metrics";

/** Name of the tracing provider the shared MeshConfig defines and the Telemetry selects. */
export const TRACING_PROVIDER = "otel-tracing";

/** Arguments of {@link MeshTelemetry}. */
export interface MeshTelemetryArgs {
    /** Envoy access logs to the proxies' stdout through Istio's built-in `envoy` provider. */
    readonly accessLogs: boolean;
    /** Share of requests traced through {@link TRACING_PROVIDER}, in percent; omit for no tracing. */
    readonly tracingSamplingPercent?: number;
}

/** The mesh-wide Telemetry: access logs to stdout, and tracing when a sampling rate is given. */
export function telemetrySpec(args: MeshTelemetryArgs): TelemetrySpec {
    return {
        ...(args.accessLogs ? { accessLogging: [{ providers: [{ name: "envoy" }] }] } : {}),
        ...(args.tracingSamplingPercent === undefined ? {} : {
            tracing: [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: args.tracingSamplingPercent }],
        }),
    };
}

/**
 * What the mesh reports and how it is collected: the mesh-wide Telemetry in the root namespace
 * (the Telemetry API replaces MeshConfig's accessLogFile, so logs are written once) and the
 * metrics add-on's scrape jobs for istiod and the sidecars.
 */
export class MeshTelemetry extends pulumi.ComponentResource {
    constructor(name: string, args: MeshTelemetryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:telemetry:MeshTelemetry", name, {}, opts);

        istioObject(`${name}-mesh-default`, "Telemetry", { name: "mesh-default", namespace: ROOT_NAMESPACE }, telemetrySpec(args), { parent: this });

        new k8s.core.v1.ConfigMap(`${name}-scrape`, {
            metadata: { name: SCRAPE_CONFIG_MAP.name, namespace: SCRAPE_CONFIG_MAP.namespace },
            data: { [SCRAPE_CONFIG_MAP.key]: scrapeConfigYaml() },
        }, { parent: this });

        this.registerOutputs({});
    }
}
