/**
 * Authorization: a default-deny (allow-nothing) policy under every mesh namespace, and ALLOW
 * policies that only grant what they name: no allow-all rules, no negative matchers, no wildcard
 * identities.
 */
import { asArray, asRecord, asString, asStrings, at, GK, hasEntries, namespaceOf, nameOf, ofKind, stringMap } from "./k8s";
import { isMeshNamespace } from "./mtls";
import { Finding, Issue, ResourceRule, StackRule } from "./rule";
import { KubeObject } from "./types";

const NEGATIVE_SOURCE = ["notPrincipals", "notRequestPrincipals", "notNamespaces", "notIpBlocks", "notRemoteIpBlocks", "notServiceAccounts"];
const NEGATIVE_OPERATION = ["notHosts", "notPorts", "notMethods", "notPaths"];

function actionOf(ap: KubeObject): string {
    return asString(at(ap, "spec", "action")) ?? "ALLOW";
}

function isEmpty(v: unknown): boolean {
    const r = asRecord(v);
    return !r || Object.keys(r).length === 0;
}

/** A rule matches every request when each clause it has contains an empty (match-all) entry. */
function matchesEverything(rule: unknown): boolean {
    const from = asArray(at(rule, "from"));
    const to = asArray(at(rule, "to"));
    const when = asArray(at(rule, "when"));
    return (from.length === 0 || from.some((f) => isEmpty(at(f, "source"))))
        && (to.length === 0 || to.some((t) => isEmpty(at(t, "operation"))))
        && when.length === 0;
}

export const authorizationPolicySafe: ResourceRule = {
    name: "authorization-policy-safe",
    description: "ALLOW AuthorizationPolicies grant only what they name: no allow-all rule, no negative matchers (notPaths, notPrincipals, ...), no \"*\" principals or namespaces.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "List the allowed principals (cluster.local/ns/<ns>/sa/<sa>), namespaces, ports and paths positively. Express exclusions as a DENY policy.",
    scope: "resource",
    settings: [],
    kinds: [GK.authorizationPolicy],
    check(ap) {
        if (actionOf(ap) !== "ALLOW") {
            return [];
        }
        const issues: Issue[] = [];
        asArray(at(ap, "spec", "rules")).forEach((rule, i) => {
            if (matchesEverything(rule)) {
                issues.push({ message: `rules[${i}] matches every request: this ALLOW policy allows all traffic to the workloads it selects` });
                return;
            }
            for (const f of asArray(at(rule, "from"))) {
                const source = at(f, "source");
                for (const key of NEGATIVE_SOURCE) {
                    if (at(source, key) !== undefined) {
                        issues.push({ message: `rules[${i}].from uses ${key}: an ALLOW with a negative match allows everything it does not name` });
                    }
                }
                for (const key of ["principals", "namespaces"]) {
                    if (asStrings(at(source, key)).includes("*")) {
                        issues.push({ message: `rules[${i}].from ${key} is "*": any caller with a mesh identity is allowed` });
                    }
                }
            }
            for (const t of asArray(at(rule, "to"))) {
                for (const key of NEGATIVE_OPERATION) {
                    if (at(t, "operation", key) !== undefined) {
                        issues.push({ message: `rules[${i}].to uses ${key}: an ALLOW with a negative match allows everything it does not name` });
                    }
                }
            }
            for (const w of asArray(at(rule, "when"))) {
                if (at(w, "notValues") !== undefined) {
                    issues.push({ message: `rules[${i}].when on ${asString(at(w, "key")) ?? "?"} uses notValues: an ALLOW with a negative match allows everything it does not name` });
                }
            }
        });
        return issues;
    },
};

/** `spec: {}` (or ALLOW without rules) for a whole namespace: denies every request no other ALLOW grants. */
function isAllowNothing(ap: KubeObject): boolean {
    return actionOf(ap) === "ALLOW"
        && asArray(at(ap, "spec", "rules")).length === 0
        && !hasEntries(stringMap(at(ap, "spec", "selector", "matchLabels")))
        && at(ap, "spec", "targetRef") === undefined
        && asArray(at(ap, "spec", "targetRefs")).length === 0;
}

export const authorizationDefaultDeny: StackRule = {
    name: "authorization-default-deny",
    description: "Every mesh namespace is under a default-deny (allow-nothing) AuthorizationPolicy: its own, or a mesh-wide one in the root namespace.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Add an AuthorizationPolicy with spec: {} named e.g. allow-nothing in the root namespace (aks-istio-system) or in each mesh namespace, then allow each call path explicitly.",
    scope: "stack",
    settings: ["rootNamespace", "systemNamespaces"],
    kinds: [GK.authorizationPolicy, GK.namespace],
    check(objects, s) {
        const denyAll = ofKind(objects, GK.authorizationPolicy).filter(isAllowNothing).map(namespaceOf);
        if (denyAll.includes(s.rootNamespace)) {
            return [];
        }
        const findings: Finding[] = [];
        for (const ns of objects.filter((o) => isMeshNamespace(o, s))) {
            const name = nameOf(ns) ?? "";
            if (!denyAll.includes(name)) {
                findings.push({ object: ns, message: `namespace ${name} has no allow-nothing AuthorizationPolicy (and ${s.rootNamespace} has no mesh-wide one): everything not denied is allowed` });
            }
        }
        return findings;
    },
};
