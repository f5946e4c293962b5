import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "./apps/spec";
import type { AppTraffic } from "./apps/traffic";
import { callerNamespaces, crossAppCalls } from "./authz";
import { istioObject } from "./istio";
import { destinationRule, meshVirtualService, rateLimitFilter, ResilienceConfig } from "./routing";

/** Arguments of {@link AppTrafficPolicy}. */
export interface AppTrafficPolicyArgs {
    /** The app as data: its services, call graph and ingress routes. */
    readonly spec: AppSpec;
    /** The app's namespace, as its Namespace resource outputs it (so objects wait for it). */
    readonly namespace: pulumi.Input<string>;
    /** Per-service routing: the spec's defaults with the stack's overrides. */
    readonly traffic: AppTraffic;
    /** Timeouts, retries, connection pool and outlier detection for every service. */
    readonly resilience: ResilienceConfig;
    /** Render the app's fault injection. */
    readonly faultInjection: boolean;
    /** Every app of the stack (this one included): the services other apps call are exported to the callers' namespaces. */
    readonly stackApps?: readonly AppSpec[];
}

/**
 * Traffic management of one app: a DestinationRule per service (subsets per version, circuit
 * breaking), a VirtualService per HTTP service (canary weights, header routes, faults, timeouts,
 * retries) and an EnvoyFilter per local rate limit.
 */
export class AppTrafficPolicy extends pulumi.ComponentResource {
    constructor(name: string, args: AppTrafficPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:traffic:AppTrafficPolicy", name, {}, opts);
        const { spec, namespace, traffic, resilience } = args;
        const entries = new Set(spec.ingress.map((i) => i.service));
        const callers = callerNamespaces(spec.namespace, crossAppCalls(args.stackApps ?? []));

        for (const svc of spec.services) {
            const meta = { name: svc.name, namespace };
            istioObject(`${name}-${svc.name}-dr`, "DestinationRule", meta, destinationRule(svc, spec.namespace, resilience, entries.has(svc.name), callers.get(svc.name)), { parent: this });
            const vs = meshVirtualService(svc, spec.namespace, traffic[svc.name], resilience, args.faultInjection, callers.get(svc.name));
            if (vs) {
                istioObject(`${name}-${svc.name}-vs`, "VirtualService", meta, vs, { parent: this });
            }
            const rateLimit = traffic[svc.name]?.rateLimit;
            if (rateLimit) {
                istioObject(`${name}-${svc.name}-ratelimit`, "EnvoyFilter", { name: `${svc.name}-local-ratelimit`, namespace }, rateLimitFilter(svc.name, rateLimit), { parent: this });
            }
        }

        this.registerOutputs({});
    }
}
