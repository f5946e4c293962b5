/**
 * The stamp that ties a stack's resources to the pack config judging them. The program annotates
 * every Namespace it creates with its stack name and a digest of the settings the pack needs from
 * the stack file (environment, mTLS exceptions, revisions); `npm run policy:config` writes the same
 * digest into policy-pack/config/<stack>.json, and the pack refuses a stamped stack whose config
 * holds another digest or none. The pack cannot read the stack file during `pulumi preview`; it
 * does see every Namespace, and every object whose verdict depends on those settings lives in one.
 */
import { createHash } from "crypto";

/** Annotation naming the stack that manages the namespace. */
export const STACK_ANNOTATION = "aks-istio-mesh.io/stack";
/** Annotation carrying the digest of the stack's pack settings. */
export const SETTINGS_ANNOTATION = "aks-istio-mesh.io/policy-settings";

/** Keys sorted at every level, so the digest does not depend on the order settings were written in. */
function canonical(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(canonical);
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    }
    return value;
}

/** `sha256:<16 hex>` of the settings, as the stamp and the pack config carry it. */
export function settingsDigest(settings: object): string {
    return `sha256:${createHash("sha256").update(JSON.stringify(canonical(settings))).digest("hex").slice(0, 16)}`;
}

/** The command that regenerates a stack's pack config. */
export function regenerateCommand(stack: string): string {
    return `npm run policy:config -- ${stack}`;
}
