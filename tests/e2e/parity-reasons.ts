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
}

export const REASONS: readonly ParityReason[] = [];
