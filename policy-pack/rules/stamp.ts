/**
 * The pack config must be the one generated from the stack it judges: the program stamps its
 * Namespaces with the digest of its pack settings (lib/stamp.ts), the generated config carries the
 * same digest, and any difference (a stale config, another stack's, none at all) stops the run
 * instead of silently judging by the wrong environment or exceptions.
 */
import { regenerateCommand, SETTINGS_ANNOTATION, STACK_ANNOTATION } from "../lib/stamp";
import { GK, nameOf, ofKind, stringMap, at } from "./k8s";
import { Finding, StackRule } from "./rule";

export const packConfigCurrent: StackRule = {
    name: "pack-config-current",
    description: "The pack config is the one npm run policy:config generated from the stack being judged: its settingsDigest equals the digest the program stamps on its Namespaces.",
    severity: "critical",
    enforcement: "mandatory",
    remediation: "Regenerate the stack's config with npm run policy:config -- <stack> and pass it: --policy-pack-config policy-pack/config/<stack>.json.",
    scope: "stack",
    settings: ["settingsDigest"],
    kinds: [GK.namespace],
    check(objects, s) {
        const stamped = ofKind(objects, GK.namespace).filter((ns) => SETTINGS_ANNOTATION in stringMap(at(ns, "metadata", "annotations")));
        const stale = stamped.find((ns) => stringMap(at(ns, "metadata", "annotations"))[SETTINGS_ANNOTATION] !== s.settingsDigest);
        if (!stale) {
            return [];
        }
        const annotations = stringMap(at(stale, "metadata", "annotations"));
        const stack = annotations[STACK_ANNOTATION] ?? "<stack>";
        const finding: Finding = {
            object: stale,
            message: `${s.settingsDigest ? `the pack config was generated from other settings (${s.settingsDigest}) than` : "the pack config holds no settings digest (not given, or not written by npm run policy:config), so it is not the one for"} stack ${stack}'s settings (${annotations[SETTINGS_ANNOTATION]}, stamped on namespace ${nameOf(stale)}): its verdicts would use another environment or other mTLS exceptions; run ${regenerateCommand(stack)} and pass --policy-pack-config policy-pack/config/${stack}.json`,
        };
        return [finding];
    },
};
