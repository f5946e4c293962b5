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

/** Issuers whose tokens a RequestAuthentication validates for workloads with `labels` in `ns` (or mesh-wide from the root). */
function validatedIssuers(ras: readonly KubeObject[], ns: string, selector: Record<string, string>, root: string): string[] {
    return ras.filter((ra) => {
        const sel = stringMap(at(ra, "spec", "selector", "matchLabels"));
        const scoped = namespaceOf(ra) === ns || namespaceOf(ra) === root;
        // A namespace-wide one covers every workload; a selecting one, the workloads the policy selects.
        return scoped && (!hasEntries(sel) || Object.entries(sel).every(([k, v]) => selector[k] === v));
    }).flatMap((ra) => asArray(at(ra, "spec", "jwtRules")).map((r) => asString(at(r, "issuer")) ?? ""));
}

export const requestAuthenticationPairs: StackRule = {
    name: "request-authentication-pairs",
    description: "End-user auth comes in pairs: an ALLOW rule requiring a request principal of an issuer has a RequestAuthentication validating that issuer's tokens for the same workloads, and a RequestAuthentication's issuer is required by some ALLOW rule there (alone it lets requests without a token through).",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Add a RequestAuthentication (jwtRules: issuer, jwksUri) selecting the workload the policy protects, and require its tokens with requestPrincipals: [\"<issuer>/*\"] in the workload's ALLOW rule for the routes that need them.",
    scope: "stack",
    settings: ["rootNamespace"],
    kinds: [GK.authorizationPolicy, GK.requestAuthentication],
    check(objects, s) {
        const ras = ofKind(objects, GK.requestAuthentication);
        const aps = ofKind(objects, GK.authorizationPolicy).filter((ap) => actionOf(ap) === "ALLOW");
        const required = (ap: KubeObject) => asArray(at(ap, "spec", "rules")).flatMap((r) => asArray(at(r, "from")))
            .flatMap((f) => asStrings(at(f, "source", "requestPrincipals")));
        const findings: Finding[] = [];
        for (const ap of aps) {
            const selector = stringMap(at(ap, "spec", "selector", "matchLabels"));
            const issuers = validatedIssuers(ras, namespaceOf(ap), selector, s.rootNamespace);
            for (const rp of required(ap)) {
                const issuer = rp.includes("/") ? rp.slice(0, rp.lastIndexOf("/")) : rp;
                if (rp !== "*" && !issuers.includes(issuer)) {
                    findings.push({ object: ap, message: `requires request principal ${rp}, but no RequestAuthentication validates tokens of ${issuer} for these workloads: every request is denied` });
                }
            }
        }
        for (const ra of ras) {
            const sel = stringMap(at(ra, "spec", "selector", "matchLabels"));
            const covering = aps.filter((ap) => namespaceOf(ap) === namespaceOf(ra)
                && Object.entries(stringMap(at(ap, "spec", "selector", "matchLabels"))).every(([k, v]) => !hasEntries(sel) || sel[k] === v));
            const demanded = covering.flatMap(required);
            for (const issuer of asArray(at(ra, "spec", "jwtRules")).map((r) => asString(at(r, "issuer")) ?? "")) {
                if (!demanded.some((rp) => rp === "*" || rp.startsWith(`${issuer}/`) || rp === issuer)) {
                    findings.push({ object: ra, message: `validates tokens of ${issuer}, but no ALLOW rule requires them (requestPrincipals): a request without a token passes` });
                }
            }
        }
        return findings;
    },
};
