/**
 * Warnings istioctl gives on the rendered stacks that are accepted rather than fixed, each with its reason
 * (docs/e2e.md repeats them). An entry that no longer matches any warning fails the run, so the list cannot rot.
 */
export interface AcceptedWarning {
    /** `validate`, or the analyze code (e.g. `IST0133`). */
    readonly from: string;
    /** `Kind namespace/name`, as istioctl analyze writes its origin. */
    readonly origin: string;
    readonly reason: string;
    /** Stacks it applies to; every stack when absent. */
    readonly stacks?: readonly string[];
}

const ENVOY_FILTER_REASON = "bookinfo's per-pod local rate limit has no Istio API but EnvoyFilter; the AKS add-on allows EnvoyFilter without supporting it, which the pack's advisory envoy-filter-unsupported also says";

export const ACCEPTED_WARNINGS: readonly AcceptedWarning[] = [
    { from: "validate", origin: "EnvoyFilter bookinfo/productpage-local-ratelimit", reason: ENVOY_FILTER_REASON },
    { from: "IST0133", origin: "EnvoyFilter bookinfo/productpage-local-ratelimit", reason: ENVOY_FILTER_REASON },
];
