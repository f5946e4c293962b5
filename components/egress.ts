import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "./apps/spec";
import { EgressGatewayRef, egressObjects } from "./egress-hosts";
import { istioObject } from "./istio";

/** Arguments of {@link AppEgress}. */
export interface AppEgressArgs {
    /** The app as data: its `egress` hosts and the services that call them. */
    readonly spec: AppSpec;
    /** The app's namespace, as its Namespace resource outputs it (so objects wait for it). */
    readonly namespace: pulumi.Input<string>;
    /** The stack's AKS egress gateway; omit when it has none (each host is then a ServiceEntry alone). */
    readonly egressGateway?: EgressGatewayRef;
}

/**
 * An app's external hosts: a ServiceEntry each (resolution DNS), and through the stack's egress
 * gateway when it has one: a Gateway and an AuthorizationPolicy in the gateway's namespace
 * admitting only the declaring services, and the routes and DestinationRules that lead there.
 */
export class AppEgress extends pulumi.ComponentResource {
    constructor(name: string, args: AppEgressArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:egress:AppEgress", name, {}, opts);
        const { spec, namespace } = args;
        const objects = egressObjects(spec, args.egressGateway);
        // Objects in the app's namespace wait for the Namespace; the gateway's namespace is the add-on's.
        const ns = (n: string) => (n === spec.namespace ? namespace : n);
        for (const o of objects.serviceEntries) {
            istioObject(`${name}-se-${o.name}`, "ServiceEntry", { name: o.name, namespace: ns(o.namespace), annotations: o.annotations }, o.spec, { parent: this });
        }
        for (const o of objects.destinationRules) {
            istioObject(`${name}-dr-${o.name}`, "DestinationRule", { name: o.name, namespace: ns(o.namespace) }, o.spec, { parent: this });
        }
        for (const o of objects.virtualServices) {
            istioObject(`${name}-vs-${o.name}`, "VirtualService", { name: o.name, namespace: ns(o.namespace) }, o.spec, { parent: this });
        }
        for (const o of objects.gateways) {
            istioObject(`${name}-gw-${o.name}`, "Gateway", { name: o.name, namespace: ns(o.namespace) }, o.spec, { parent: this });
        }
        for (const o of objects.authorizationPolicies) {
            istioObject(`${name}-authz-${o.name}`, "AuthorizationPolicy", { name: o.name, namespace: ns(o.namespace) }, o.spec, { parent: this });
        }
        this.registerOutputs({});
    }
}
