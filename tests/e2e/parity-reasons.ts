/**
 * Why the pack and istioctl analyze deliberately disagree on a fixture case (docs/istioctl-parity.md).
 * A disagreement without an entry here fails `npm run test:e2e`.
 */
export interface ParityReason {
    readonly code: string;
    readonly side: "pack-only" | "istioctl-only";
    /** Full titles of the fixture cases (mocha fullTitle), or patterns over them. */
    readonly cases: readonly (string | RegExp)[];
    readonly reason: string;
    /** The istioctl analyzer the reason says is skipped offline (the test checks istioctl really skips it). */
    readonly skipped?: string;
}

/** The pack judges these offline; `istioctl analyze --use-kube=false` skips the analyzer (it needs a live cluster). */
function offline(code: string, skipped: string, needs: string, cases: readonly (string | RegExp)[] = [/./]): ParityReason {
    return {
        code,
        side: "pack-only",
        cases,
        skipped,
        reason: `istioctl analyze --use-kube=false skips ${skipped} (it needs ${needs}, which istioctl reads only from a live cluster); the pack judges the same relation from the manifests`,
    };
}

export const REASONS: readonly ParityReason[] = [
    {
        code: "IST0101",
        side: "pack-only",
        cases: [/^policy: gateway-ingress-enabled /, /^policy: aks-mesh-profile /],
        reason: "AKS only: whether the add-on runs the ingress gateway a Gateway selects is in the ManagedCluster's serviceMeshProfile, an ARM resource istioctl never sees",
    },
    {
        code: "IST0101",
        side: "istioctl-only",
        cases: [/^policy: the rest of istiod's validation, DestinationRule a connect timeout without a unit$/],
        reason: "istioctl analyze skips a DestinationRule it cannot decode (a duration without a unit), so the VirtualService's subsets dangle; the pack refuses the DestinationRule itself (destination-rule-istiod), which is the real fault",
    },
    offline("IST0101", "gateway.IngressGatewayPortAnalyzer", "the gateway's Pods", [/^policy: gateway-selector /, /^policy: gateway-conflicts /]),
    offline("IST0101", "virtualservice.DestinationHostAnalyzer", "Services", [/^policy: virtual-service-references /, /^policy: service-port-names /]),
    offline("IST0101", "sidecar.SelectorAnalyzer", "Pods", [/^policy: workload-selector-matches .*Sidecar/]),
    offline("IST0101", "telemetry.SelectorAnalyzer", "Pods", [/^policy: workload-selector-matches .*(Telemetry|gateway)/]),
    offline("IST0102", "injection.Analyzer", "Namespaces"),
    offline("IST0111", "sidecar.SelectorAnalyzer", "Pods"),
    offline("IST0112", "virtualservice.DestinationHostAnalyzer", "Services"),
    offline("IST0118", "service.PortNameAnalyzer", "Services"),
    offline("IST0123", "injection.Analyzer", "Namespaces"),
    offline("IST0127", "auth.AuthorizationPoliciesAnalyzer", "Pods and Namespaces"),
    offline("IST0135", "annotations.K8sAnalyzer", "Pods, Services and Namespaces"),
    offline("IST0144", "applicationUID.Analyzer", "Pods"),
    offline("IST0145", "gateway.ConflictingGatewayAnalyzer", "the gateway's Pods"),
    offline("IST0150", "service.PortNameAnalyzer", "Services"),
    offline("IST0162", "gateway.IngressGatewayPortAnalyzer", "the gateway's Pods and Service"),
    offline("IST0173", "destinationrule.SubsetSelectPodAnalyzer", "Pods, Services and Nodes"),
    offline("IST0174", "destinationrule.SubsetSelectPodAnalyzer", "Services"),
];
