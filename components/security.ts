import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "./apps/spec";
import { authorizationRules, MtlsException, peerAuthentications, sidecarSpec } from "./authz";
import { istioObject } from "./istio";

/** Arguments of {@link AppSecurityPolicy}. */
export interface AppSecurityPolicyArgs {
    /** The app as data: its services, call graph and ingress routes. */
    readonly spec: AppSpec;
    /** The app's namespace, as its Namespace resource outputs it (so objects wait for it). */
    readonly namespace: pulumi.Input<string>;
    /** The stack's mTLS exceptions; those for this namespace become workload PeerAuthentications. */
    readonly mtlsExceptions: readonly MtlsException[];
    /** Principal of the ingress gateway allowed into entry services; omit when no gateway runs. */
    readonly gatewayPrincipal?: string;
    /** Outbound policy of the namespace's Sidecar. */
    readonly outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY";
    /** Further `namespace/host` egress entries every proxy needs (e.g. the tracing collector). */
    readonly extraEgressHosts?: readonly string[];
}

/**
 * Zero trust for one app namespace: STRICT mTLS (plus declared exceptions), allow-nothing
 * authorization with ALLOW policies for exactly the call graph's edges, and a Sidecar that limits
 * egress to the namespace and the control plane.
 */
export class AppSecurityPolicy extends pulumi.ComponentResource {
    constructor(name: string, args: AppSecurityPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:security:AppSecurityPolicy", name, {}, opts);
        const { spec, namespace } = args;

        for (const pa of peerAuthentications(spec.namespace, args.mtlsExceptions)) {
            istioObject(`${name}-pa-${pa.name}`, "PeerAuthentication", { name: pa.name, namespace }, pa.spec, { parent: this });
        }
        // An ALLOW policy with no rules matches nothing, so only the ALLOW policies below let traffic in.
        istioObject(`${name}-allow-nothing`, "AuthorizationPolicy", { name: "allow-nothing", namespace }, {}, { parent: this });
        for (const policy of authorizationRules(spec, args.gatewayPrincipal)) {
            istioObject(`${name}-${policy.name}`, "AuthorizationPolicy", { name: policy.name, namespace }, policy.spec, { parent: this });
        }
        istioObject(`${name}-sidecar`, "Sidecar", { name: "default", namespace }, sidecarSpec(args.outboundTrafficPolicy, args.extraEgressHosts), { parent: this });

        this.registerOutputs({});
    }
}
