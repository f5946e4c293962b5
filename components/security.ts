import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "./apps/spec";
import { authorizationRules, calleeHosts, crossAppCalls, MtlsException, peerAuthentications, requestAuthentications, sidecarSpec } from "./authz";
import { EgressGatewayRef, egressGatewaySidecarHost } from "./egress-hosts";
import { istioObject } from "./istio";

/** Arguments of {@link AppSecurityPolicy}. */
export interface AppSecurityPolicyArgs {
    /** The app as data: its services, call graph and ingress routes. */
    readonly spec: AppSpec;
    /** The app's namespace, as its Namespace resource outputs it (so objects wait for it). */
    readonly namespace: pulumi.Input<string>;
    /** The stack's mTLS exceptions; those for this namespace become workload PeerAuthentications. */
    readonly mtlsExceptions: readonly MtlsException[];
    /** Principals of the ingress gateways serving the app, allowed into its entry services; none when no gateway serves it. */
    readonly gatewayPrincipals?: readonly string[];
    /** Outbound policy of the namespace's Sidecar. */
    readonly outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY";
    /** Further `namespace/host` egress entries every proxy needs (e.g. the tracing collector). */
    readonly extraEgressHosts?: readonly string[];
    /**
     * Every app of the stack (this one included): a call from another app (`to: <app>/<service>`)
     * admits the caller's identity here, and this app's calls into others widen its Sidecar.
     */
    readonly stackApps?: readonly AppSpec[];
    /** The stack's AKS egress gateway: an app with external hosts sends to it, so its Service joins the Sidecar's scope. */
    readonly egressGateway?: EgressGatewayRef;
}

/**
 * Zero trust for one app namespace: STRICT mTLS (plus declared exceptions), allow-nothing
 * authorization with ALLOW policies for exactly the call graph's edges (calls from other apps
 * included), and a Sidecar that limits egress to the namespace, the control plane and the services
 * of other apps the app calls.
 */
export class AppSecurityPolicy extends pulumi.ComponentResource {
    constructor(name: string, args: AppSecurityPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:security:AppSecurityPolicy", name, {}, opts);
        const { spec, namespace } = args;
        const calls = crossAppCalls(args.stackApps ?? []);

        for (const pa of peerAuthentications(spec.namespace, args.mtlsExceptions)) {
            istioObject(`${name}-pa-${pa.name}`, "PeerAuthentication", { name: pa.name, namespace }, pa.spec, { parent: this });
        }
        // An ALLOW policy with no rules matches nothing, so only the ALLOW policies below let traffic in.
        istioObject(`${name}-allow-nothing`, "AuthorizationPolicy", { name: "allow-nothing", namespace }, {}, { parent: this });
        for (const ra of requestAuthentications(spec)) {
            istioObject(`${name}-${ra.name}`, "RequestAuthentication", { name: ra.name, namespace }, ra.spec, { parent: this });
        }
        for (const policy of authorizationRules(spec, args.gatewayPrincipals ?? [], calls)) {
            istioObject(`${name}-${policy.name}`, "AuthorizationPolicy", { name: policy.name, namespace }, policy.spec, { parent: this });
        }
        istioObject(`${name}-sidecar`, "Sidecar", { name: "default", namespace }, sidecarSpec(args.outboundTrafficPolicy, [
            ...calleeHosts(spec.namespace, calls),
            ...(args.egressGateway && (spec.egress ?? []).length > 0 ? [egressGatewaySidecarHost(args.egressGateway)] : []),
            ...(args.extraEgressHosts ?? []),
        ]), { parent: this });

        this.registerOutputs({});
    }
}
