import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { EGRESS_NAMESPACE } from "../policy-pack/lib/aks";

/** Arguments of {@link StaticEgressGateway}. */
export interface StaticEgressGatewayArgs {
    /** Namespace of the add-on egress gateway; the StaticGatewayConfiguration must live beside it. */
    readonly namespace: string;
    /** Name of the StaticGatewayConfiguration the cluster's egress gateway refers to. */
    readonly configurationName: string;
    /** The Gateway-mode agent pool whose nodes own the static public IPs. */
    readonly poolName: string;
    /** Destinations that bypass the gateway's static IPs. */
    readonly excludeCidrs?: readonly string[];
    /** The Gateway-mode pool resource: the configuration names it, so it must exist first. */
    readonly pool?: pulumi.Resource;
}

/**
 * The Kubernetes side of the add-on's egress gateway: the StaticGatewayConfiguration (and, for a
 * namespace of the stack's choosing, that namespace). AKS gives the configuration a public IP prefix
 * on the Gateway-mode pool; the egress gateway pods start once it has one.
 */
export class StaticEgressGateway extends pulumi.ComponentResource {
    public readonly namespace: string;
    public readonly configurationName: string;

    constructor(name: string, args: StaticEgressGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:egress:StaticEgressGateway", name, {}, opts);
        // The add-on creates aks-istio-egress; any other namespace is the stack's to create.
        const ns = args.namespace === EGRESS_NAMESPACE ? undefined : new k8s.core.v1.Namespace(`${name}-ns`, {
            metadata: { name: args.namespace, labels: { "app.kubernetes.io/part-of": "mesh-egress" } },
        }, { parent: this });
        new k8s.apiextensions.CustomResource(`${name}-config`, {
            apiVersion: "egressgateway.kubernetes.azure.com/v1alpha1",
            kind: "StaticGatewayConfiguration",
            metadata: { name: args.configurationName, namespace: args.namespace },
            spec: {
                gatewayNodepoolName: args.poolName,
                ...(args.excludeCidrs && args.excludeCidrs.length > 0 ? { excludeCidrs: [...args.excludeCidrs] } : {}),
            },
        }, { parent: this, dependsOn: [...(ns ? [ns] : []), ...(args.pool ? [args.pool] : [])] });
        this.namespace = args.namespace;
        this.configurationName = args.configurationName;
        this.registerOutputs({});
    }
}
