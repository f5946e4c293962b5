/**
 * Fixed facts of the AKS managed Istio add-on (namespaces, gateway names and selectors), shared by
 * the program and the policy rules so the two cannot drift apart.
 */

/** Control-plane namespace; also the mesh root namespace for mesh-wide policies. */
export const ROOT_NAMESPACE = "aks-istio-system";
/** Namespace of the add-on's ingress gateways (and of their TLS secrets). */
export const INGRESS_NAMESPACE = "aks-istio-ingress";
/** Default namespace of the add-on's egress gateways. */
export const EGRESS_NAMESPACE = "aks-istio-egress";

/** Namespaces Kubernetes itself creates; `default` holds whatever is applied without a namespace. */
export const KUBERNETES_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease", "default"] as const;
/** Namespaces the AKS Istio add-on owns (control plane and mesh root, ingress and egress gateways). */
export const ADDON_NAMESPACES = [ROOT_NAMESPACE, INGRESS_NAMESPACE, EGRESS_NAMESPACE] as const;
/** Namespaces of other AKS add-ons and extensions: Azure Policy (Gatekeeper), app routing, Calico network policy, run-command. */
export const AKS_ADDON_NAMESPACES = ["gatekeeper-system", "app-routing-system", "calico-system", "calico-apiserver", "tigera-operator", "aks-command"] as const;
/** Namespace of the program's Kiali (components/kiali.ts), labelled `app.kubernetes.io/part-of: kiali`. */
export const KIALI_NAMESPACE = "kiali";
/** Namespaces the program creates for its own observability components, each with the `app.kubernetes.io/part-of` value it sets. */
export const PROGRAM_NAMESPACES: Readonly<Record<string, string>> = { [KIALI_NAMESPACE]: "kiali" };

/** Who owns each namespace an app may not use, as a message names them. */
export function reservedNamespaceOwner(ns: string): string | undefined {
    return (KUBERNETES_NAMESPACES as readonly string[]).includes(ns) ? "Kubernetes"
        : (ADDON_NAMESPACES as readonly string[]).includes(ns) ? "the AKS Istio add-on"
            : (AKS_ADDON_NAMESPACES as readonly string[]).includes(ns) ? "an AKS add-on"
                : ns in PROGRAM_NAMESPACES ? "this program's observability" : undefined;
}

/** Every namespace an app may not be placed in: the cluster's, the add-ons' and the program's own. */
export const RESERVED_NAMESPACES: readonly string[] = [...KUBERNETES_NAMESPACES, ...ADDON_NAMESPACES, ...AKS_ADDON_NAMESPACES, ...Object.keys(PROGRAM_NAMESPACES)];

export type GatewayMode = "External" | "Internal";

export interface IngressGatewayInfo {
    readonly mode: GatewayMode;
    /** Service (and ServiceAccount) name in `aks-istio-ingress`. */
    readonly service: string;
    /** Label selector a Gateway uses to bind to it. */
    readonly selector: Readonly<Record<string, string>>;
    /** Labels of its pods (a superset of `selector`), for rules that match selectors against workloads. */
    readonly podLabels: Readonly<Record<string, string>>;
    /** SPIFFE principal of the gateway's pods, for AuthorizationPolicy sources. */
    readonly principal: string;
    /** Ports the gateway Service exposes to Gateway servers. */
    readonly ports: readonly number[];
}

function gateway(mode: GatewayMode): IngressGatewayInfo {
    const service = `aks-istio-ingressgateway-${mode.toLowerCase()}`;
    return {
        mode,
        service,
        selector: { istio: service },
        podLabels: { app: service, istio: service },
        principal: `cluster.local/ns/${INGRESS_NAMESPACE}/sa/${service}`,
        ports: [80, 443],
    };
}

export const INGRESS_GATEWAYS: Readonly<Record<GatewayMode, IngressGatewayInfo>> = {
    External: gateway("External"),
    Internal: gateway("Internal"),
};

/** Name of the shared MeshConfig ConfigMap the add-on merges for a revision. */
export function sharedMeshConfigName(revision: string): string {
    return `istio-shared-configmap-${revision}`;
}

/**
 * What apps need to route through one of the add-on's egress gateways: its Service (named after the
 * gateway, one for both revisions during a canary) and the label its pods carry. AKS labels the
 * egress gateway's pods and Service `istio: <name>` (the AKS Istio troubleshooting guide's egress
 * example); a Gateway for it selects that label.
 */
export interface EgressGatewayInfo {
    readonly name: string;
    readonly namespace: string;
    readonly selector: Readonly<Record<string, string>>;
}

export function egressGateway(name: string, namespace: string = EGRESS_NAMESPACE): EgressGatewayInfo {
    return { name, namespace, selector: { istio: name } };
}

/** Pod Security Admission levels, most permissive first. */
export const POD_SECURITY_LEVELS = ["privileged", "baseline", "restricted"] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/**
 * How the add-on redirects a pod's traffic into its sidecar: Istio CNI (`CNIChaining`, the default for
 * meshes installed at asm-1-30 or later) or the `istio-init` init container, which adds NET_ADMIN and
 * NET_RAW and so fails the baseline and restricted Pod Security levels.
 */
export const PROXY_REDIRECTIONS = ["CNIChaining", "InitContainers"] as const;
export type ProxyRedirection = (typeof PROXY_REDIRECTIONS)[number];

/** The strictest Pod Security level injected pods can meet under a redirection mechanism. */
export function strictestPodSecurity(redirection: ProxyRedirection): PodSecurityLevel {
    return redirection === "CNIChaining" ? "restricted" : "privileged";
}
