/**
 * istioctl analyze warnings on the rendered stacks that are accepted rather than fixed, each with its reason
 * (docs/e2e.md repeats them). An entry that no longer matches any message fails the run, so the list cannot rot.
 */
export interface AcceptedFinding {
    /** Stacks it applies to; every stack when absent. */
    readonly stacks?: readonly string[];
    readonly code: string;
    /** istioctl's origin, `Kind namespace/name`. */
    readonly origin: string;
    readonly reason: string;
}

export const ACCEPTED_WARNINGS: readonly AcceptedFinding[] = [];
