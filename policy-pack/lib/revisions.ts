/**
 * The AKS Istio add-on revisions this project supports: the one table every part reads.
 *
 * Stack config validation and the pack check revisions and Kubernetes versions against it, the pack
 * uses it as the default set of allowed revisions, `npm run schemas:fetch` downloads and verifies each
 * row's CRD bundle, the offline schema check validates against that bundle, and docs/revisions.md is
 * generated from it (a test keeps them equal). Source: the AKS Istio support policy and the AKS
 * changelog; check a region with `az aks mesh get-revisions --location <region>` before adding a row.
 * How to add a revision: docs/revisions.md.
 */
export interface RevisionInfo {
    /** AKS revision name, `asm-<major>-<minor>`. */
    readonly revision: string;
    /** Upstream Istio minor version behind the revision. */
    readonly istio: string;
    /**
     * The Istio patch release whose CRDs the offline schema check uses (and the e2e tier's istioctl):
     * the patch AKS ships for the revision when the row was last reviewed.
     */
    readonly istioPatch: string;
    /** SHA-256 of that release's `manifests/charts/base/files/crd-all.gen.yaml`; a download must match it. */
    readonly crdSha256: string;
    /** Oldest compatible AKS Kubernetes minor version (`major.minor`). */
    readonly minKubernetes: string;
    /** Newest compatible AKS Kubernetes minor version (`major.minor`). */
    readonly maxKubernetes: string;
    /** End of life (`YYYY-MM`), as the AKS support policy publishes it; the revision is supported through that month. */
    readonly endOfLife: string;
    /** True while the AKS support policy gives the month as an estimate. */
    readonly endOfLifeExpected: boolean;
}

/** Supported revisions, oldest first. */
export const SUPPORTED_REVISIONS: readonly RevisionInfo[] = [
    {
        revision: "asm-1-29", istio: "1.29", istioPatch: "1.29.6",
        crdSha256: "53fd74da78d4d3ecb2e7e369e53101ea4e81b00b40f03eb75894d2e97dd5b19a",
        minKubernetes: "1.31", maxKubernetes: "1.36", endOfLife: "2026-09", endOfLifeExpected: true,
    },
    {
        revision: "asm-1-30", istio: "1.30", istioPatch: "1.30.3",
        crdSha256: "dcb43ff6b9af2f629b80b6a82597f5a91db259c757e66cc5353ac007da28351a",
        minKubernetes: "1.32", maxKubernetes: "1.36", endOfLife: "2026-12", endOfLifeExpected: true,
    },
];

const REVISION_PATTERN = /^asm-(\d+)-(\d+)$/;

/** Parses `asm-1-30` into `[1, 30]`; undefined when the name is not a revision name. */
export function parseRevision(revision: string): [number, number] | undefined {
    const m = REVISION_PATTERN.exec(revision);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Parses a Kubernetes version (`1.34` or `1.34.2`) into `[major, minor]`. */
export function parseKubernetesMinor(version: string): [number, number] | undefined {
    const m = /^(\d+)\.(\d+)(\.\d+)?$/.exec(version);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function revisionInfo(revision: string): RevisionInfo | undefined {
    return SUPPORTED_REVISIONS.find((r) => r.revision === revision);
}

/** True when `b` is the revision right after `a` (same major, minor + 1). */
export function areConsecutive(a: string, b: string): boolean {
    const pa = parseRevision(a);
    const pb = parseRevision(b);
    return !!pa && !!pb && pa[0] === pb[0] && pb[1] === pa[1] + 1;
}

function compareMinor(a: [number, number], b: [number, number]): number {
    return a[0] - b[0] || a[1] - b[1];
}

/** True when the revision's compatibility window contains the Kubernetes version's minor. */
export function isCompatible(revision: string, kubernetesVersion: string): boolean {
    const info = revisionInfo(revision);
    const k = parseKubernetesMinor(kubernetesVersion);
    if (!info || !k) {
        return false;
    }
    const lo = parseKubernetesMinor(info.minKubernetes)!;
    const hi = parseKubernetesMinor(info.maxKubernetes)!;
    return compareMinor(k, lo) >= 0 && compareMinor(k, hi) <= 0;
}

/**
 * Checks a revision list the way the add-on does: one revision, or two consecutive ones during a
 * canary upgrade, each supported and compatible with the Kubernetes version (when given).
 * Returns a list of problems; empty when the list is valid.
 */
export function revisionListProblems(revisions: readonly string[], kubernetesVersion?: string): string[] {
    const supported = SUPPORTED_REVISIONS.map((r) => r.revision).join(", ");
    const problems: string[] = [];
    if (revisions.length < 1 || revisions.length > 2) {
        problems.push(`must hold one revision, or two consecutive revisions during a canary upgrade (got ${revisions.length})`);
        return problems;
    }
    for (const r of revisions) {
        if (!parseRevision(r)) {
            problems.push(`"${r}" is not a revision name; use asm-<major>-<minor>, one of ${supported}`);
        } else if (!revisionInfo(r)) {
            problems.push(`"${r}" is not a supported revision; supported: ${supported}`);
        } else if (kubernetesVersion !== undefined && !isCompatible(r, kubernetesVersion)) {
            const info = revisionInfo(r)!;
            problems.push(`"${r}" is not compatible with Kubernetes ${kubernetesVersion}; it supports ${info.minKubernetes} to ${info.maxKubernetes}`);
        }
    }
    if (revisions.length === 2 && problems.length === 0 && !areConsecutive(revisions[0], revisions[1])) {
        problems.push(`two revisions must be consecutive and in order (old, new), e.g. asm-1-29 then asm-1-30; got ${revisions.join(", ")}`);
    }
    return problems;
}

/**
 * Today, for end-of-life checks: the date in $AKS_ISTIO_MESH_TODAY (YYYY-MM-DD) when set, so tests and
 * reviews of a past or future day are deterministic, else the clock.
 */
export function today(): Date {
    const fixed = process.env.AKS_ISTIO_MESH_TODAY;
    return fixed && /^\d{4}-\d{2}-\d{2}$/.test(fixed) ? new Date(`${fixed}T00:00:00Z`) : new Date();
}

/** True once the revision's end-of-life month is over (it is supported through that month). */
export function isPastEndOfLife(info: RevisionInfo, on: Date = today()): boolean {
    const [y, m] = info.endOfLife.split("-").map(Number);
    return on.getTime() >= Date.UTC(y, m, 1);
}

/**
 * Revisions of the list whose end of life has passed, each as one sentence with the date and what
 * to upgrade to; empty when none has.
 */
export function endOfLifeProblems(revisions: readonly string[], on: Date = today()): string[] {
    const current = SUPPORTED_REVISIONS.filter((r) => !isPastEndOfLife(r, on)).map((r) => r.revision);
    return revisions.flatMap((r) => {
        const info = revisionInfo(r);
        return info && isPastEndOfLife(info, on)
            ? [`${r} reached its end of life in ${info.endOfLife}${info.endOfLifeExpected ? " (the AKS estimate)" : ""}: AKS no longer supports it; upgrade to ${current.join(" or ") || "a newer revision (none in the table yet)"}`]
            : [];
    });
}

/** The table as Markdown, for docs/revisions.md (a test keeps the file equal to it). */
export function revisionTable(): string {
    const rows = SUPPORTED_REVISIONS.map((r) =>
        `| ${r.revision} | ${r.istio} | ${r.istioPatch} | ${r.minKubernetes}–${r.maxKubernetes} | ${r.endOfLife}${r.endOfLifeExpected ? " (expected)" : ""} | \`${r.crdSha256}\` |`);
    return ["| revision | Istio | pinned patch | Kubernetes | end of life | crd-all.gen.yaml SHA-256 |", "|---|---|---|---|---|---|", ...rows].join("\n");
}
