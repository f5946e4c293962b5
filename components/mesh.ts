import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import { ROOT_NAMESPACE, sharedMeshConfigName } from "../policy-pack/lib/aks";
import { istioObject } from "./istio";
import { TRACING_PROVIDER } from "./telemetry";

/** Arguments of {@link MeshBaseline}. */
export interface MeshBaselineArgs {
    /** Every revision the add-on runs or is about to run; each gets its shared MeshConfig. */
    readonly revisions: readonly string[];
    /** Outbound traffic to hosts outside the service registry: REGISTRY_ONLY blocks it. */
    readonly outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY";
    /** Envoy access logs to the proxies' stdout through MeshConfig; false when the Telemetry API writes them. */
    readonly accessLogs: boolean;
    /** OpenTelemetry collector (OTLP/gRPC) defined as the tracing extension provider the Telemetry selects. */
    readonly tracingCollector?: { readonly service: string; readonly port: number };
}

/**
 * The shared MeshConfig the add-on merges, using fields it supports (accessLogFile,
 * outboundTrafficPolicy, defaultConfig.holdApplicationUntilProxyStarts) and, for tracing,
 * extensionProviders, which it allows without supporting; every other field is blocked by its
 * admission webhook.
 */
export function meshConfigYaml(args: Pick<MeshBaselineArgs, "outboundTrafficPolicy" | "accessLogs" | "tracingCollector">): string {
    const collector = args.tracingCollector;
    return stringify({
        accessLogFile: args.accessLogs ? "/dev/stdout" : "",
        outboundTrafficPolicy: { mode: args.outboundTrafficPolicy },
        defaultConfig: { holdApplicationUntilProxyStarts: true },
        ...(collector ? { extensionProviders: [{ name: TRACING_PROVIDER, opentelemetry: { service: collector.service, port: collector.port } }] } : {}),
    });
}

/**
 * Mesh-wide settings in the root namespace: the selector-less STRICT PeerAuthentication every
 * namespace inherits, and the shared MeshConfig ConfigMap of each configured revision.
 */
export class MeshBaseline extends pulumi.ComponentResource {
    constructor(name: string, args: MeshBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:mesh:MeshBaseline", name, {}, opts);

        istioObject(`${name}-mtls`, "PeerAuthentication", { name: "default", namespace: ROOT_NAMESPACE }, { mtls: { mode: "STRICT" } }, { parent: this });

        const mesh = meshConfigYaml(args);
        for (const revision of args.revisions) {
            new k8s.core.v1.ConfigMap(`${name}-meshconfig-${revision}`, {
                metadata: { name: sharedMeshConfigName(revision), namespace: ROOT_NAMESPACE },
                data: { mesh },
            }, { parent: this });
        }

        this.registerOutputs({});
    }
}
