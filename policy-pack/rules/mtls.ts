/**
 * Mutual TLS: every PeerAuthentication STRICT (or UNSET beneath a STRICT parent), exactly one
 * mesh-wide STRICT policy in the root namespace, and every mesh namespace covered.
 */
import { isSystemNamespace, MeshSettings, MtlsException } from "./config";
import { asRecord, asString, at, GK, groupKind, hasEntries, labelsMatch, labelsOf, namespaceOf, nameOf, ofKind, stringMap } from "./k8s";
import { Finding, Issue, ResourceRule, StackRule } from "./rule";
import { KubeObject } from "./types";

type Mode = "STRICT" | "PERMISSIVE" | "DISABLE" | "UNSET";

function modeOf(v: unknown): Mode {
    const m = asString(v);
    return m === "STRICT" || m === "PERMISSIVE" || m === "DISABLE" ? m : "UNSET";
}

function paSelector(pa: KubeObject): Record<string, string> {
    return stringMap(at(pa, "spec", "selector", "matchLabels"));
}

/** An exception covers a PeerAuthentication when namespace and selector match (port, when set, narrows it to that port). */
function exceptionAllows(pa: KubeObject, exceptions: readonly MtlsException[], mode: Mode, port?: number): boolean {
    const ns = namespaceOf(pa);
    const selector = paSelector(pa);
    return exceptions.some((e) =>
        e.namespace === ns
        && (!e.selector || (hasEntries(selector) && labelsMatch(e.selector, selector)))
        && (e.port === undefined || e.port === port)
        && (mode === "PERMISSIVE" || e.mode === "DISABLE"));
}

/** Why no exception applies, saying what the pack was given: a stack's exceptions reach it only through its generated config. */
function unapproved(exceptions: readonly MtlsException[], ns: string, port?: number): string {
    const what = `${ns}${port === undefined ? "" : ` port ${port}`}`;
    return exceptions.length === 0
        ? `the pack's config approves no mTLS exception (a stack's mesh.mtlsExceptions reach the pack only through npm run policy:config)`
        : `none of the ${exceptions.length} mtlsExceptions in the pack's config covers ${what} with this selector and mode`;
}

function isMeshWide(pa: KubeObject, s: MeshSettings): boolean {
    return namespaceOf(pa) === s.rootNamespace && !hasEntries(paSelector(pa));
}

export const peerAuthenticationStrict: ResourceRule = {
    name: "peer-authentication-strict",
    description: "PeerAuthentication modes and every portLevelMtls entry are STRICT (UNSET only beneath a STRICT parent); relaxations only via configured mtlsExceptions.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Set spec.mtls.mode and each spec.portLevelMtls[port].mode to STRICT. For a reviewed carve-out (e.g. an admission webhook called by the API server), add { namespace, selector, port } to the mtlsExceptions setting.",
    scope: "resource",
    settings: ["rootNamespace", "mtlsExceptions"],
    kinds: [GK.peerAuthentication],
    check(pa, s) {
        const issues: Issue[] = [];
        const mode = modeOf(at(pa, "spec", "mtls", "mode"));
        const selector = paSelector(pa);
        if (isMeshWide(pa, s) && mode !== "STRICT") {
            issues.push({ message: `the mesh-wide PeerAuthentication in ${s.rootNamespace} has mode ${mode}; it must be STRICT (UNSET falls back to PERMISSIVE)` });
        } else if (mode !== "STRICT" && mode !== "UNSET" && !exceptionAllows(pa, s.mtlsExceptions, mode)) {
            issues.push({ message: `spec.mtls.mode is ${mode}; only STRICT is allowed, and ${unapproved(s.mtlsExceptions, namespaceOf(pa))}` });
        }
        const ports = asRecord(at(pa, "spec", "portLevelMtls"));
        if (ports && Object.keys(ports).length > 0) {
            if (!hasEntries(selector)) {
                issues.push({ message: "spec.portLevelMtls has no effect without spec.selector (Istio ignores port-level mTLS on namespace and mesh policies)" });
            }
            for (const [port, entry] of Object.entries(ports)) {
                const pm = modeOf(at(entry, "mode"));
                if (pm !== "STRICT" && pm !== "UNSET" && !exceptionAllows(pa, s.mtlsExceptions, pm, Number(port))) {
                    issues.push({ message: `spec.portLevelMtls[${port}].mode is ${pm}; only STRICT or UNSET is allowed, and ${unapproved(s.mtlsExceptions, namespaceOf(pa), Number(port))}` });
                }
            }
        }
        return issues;
    },
};

/**
 * One finding per distinct object among PeerAuthentications that compete: the same object declared
 * twice (one name) is one object to fix, not two identical lines.
 */
function duplicates(list: readonly KubeObject[], what: string, keep: string): Finding[] {
    const byName = new Map<string, KubeObject[]>();
    for (const pa of list) {
        const n = nameOf(pa) ?? "";
        byName.set(n, [...(byName.get(n) ?? []), pa]);
    }
    const names = [...byName.keys()];
    return [...byName].map(([n, same]) => ({
        object: same[0],
        message: names.length === 1
            ? `PeerAuthentication ${n} is declared ${same.length} times as one of the ${what}; the declarations overwrite each other, so keep ${keep}`
            : `${list.length} ${what} (${names.join(", ")}); Istio applies only the oldest, so keep ${keep}`,
    }));
}

/** Effective mode after UNSET inheritance: workload → namespace-wide → mesh-wide → PERMISSIVE. */
function effective(mode: Mode, parent: Mode): Mode {
    return mode === "UNSET" ? parent : mode;
}

export const meshMtlsStrict: StackRule = {
    name: "mesh-mtls-strict",
    description: "Exactly one selector-less STRICT PeerAuthentication exists in the root namespace, UNSET modes inherit STRICT, and every mesh namespace is covered by STRICT mTLS.",
    severity: "critical",
    enforcement: "mandatory",
    remediation: "Create one PeerAuthentication without a selector in the root namespace (aks-istio-system) with spec.mtls.mode: STRICT, keep at most one namespace-wide PeerAuthentication per namespace, and give UNSET policies a STRICT parent.",
    scope: "stack",
    settings: ["rootNamespace", "systemNamespaces", "mtlsExceptions"],
    kinds: [GK.peerAuthentication, GK.namespace, GK.managedCluster],
    check(objects, s) {
        const findings: Finding[] = [];
        const pas = ofKind(objects, GK.peerAuthentication);
        const meshNamespaces = objects.filter((o) => isMeshNamespace(o, s));
        const meshPresent = meshNamespaces.length > 0 || objects.some(isIstioCluster);

        const meshWide = pas.filter((pa) => isMeshWide(pa, s));
        if (meshWide.length === 0 && meshPresent) {
            findings.push({ subject: { kind: "PeerAuthentication", namespace: s.rootNamespace }, message: `no mesh-wide PeerAuthentication in ${s.rootNamespace}: without one, Istio accepts plain text (PERMISSIVE)` });
        }
        if (meshWide.length > 1) {
            findings.push(...duplicates(meshWide, `selector-less PeerAuthentications in ${s.rootNamespace}`, "exactly one"));
        }
        const meshMode: Mode = meshWide.length > 0 && meshWide.every((pa) => modeOf(at(pa, "spec", "mtls", "mode")) === "STRICT") ? "STRICT" : "PERMISSIVE";

        const nsWide = new Map<string, KubeObject[]>();
        for (const pa of pas) {
            if (!isMeshWide(pa, s) && !hasEntries(paSelector(pa))) {
                const ns = namespaceOf(pa);
                nsWide.set(ns, [...(nsWide.get(ns) ?? []), pa]);
            }
        }
        const nsMode = (ns: string): Mode => {
            const list = nsWide.get(ns);
            if (!list) {
                return meshMode;
            }
            return list.every((pa) => effective(modeOf(at(pa, "spec", "mtls", "mode")), meshMode) === "STRICT") ? "STRICT" : "PERMISSIVE";
        };
        for (const [ns, list] of nsWide) {
            if (list.length > 1) {
                findings.push(...duplicates(list, `namespace-wide PeerAuthentications in ${ns}`, "one"));
            }
        }

        // UNSET inherits; report only inherited weakness (explicit modes are peer-authentication-strict's job).
        for (const pa of pas) {
            if (isMeshWide(pa, s) || modeOf(at(pa, "spec", "mtls", "mode")) !== "UNSET") {
                continue;
            }
            const ns = namespaceOf(pa);
            const parent = hasEntries(paSelector(pa)) ? nsMode(ns) : meshMode;
            if (parent !== "STRICT" && !exceptionAllows(pa, s.mtlsExceptions, "PERMISSIVE")) {
                findings.push({ object: pa, message: `spec.mtls.mode is UNSET and inherits ${parent} from its parent policy; set STRICT` });
            }
        }

        for (const nsObj of meshNamespaces) {
            const ns = nameOf(nsObj) ?? "";
            const excepted = s.mtlsExceptions.some((e) => e.namespace === ns && !e.selector && e.port === undefined);
            if (!excepted && nsMode(ns) !== "STRICT") {
                findings.push({ object: nsObj, message: `namespace ${ns} is not covered by STRICT mTLS (no STRICT mesh-wide or namespace-wide PeerAuthentication applies)` });
            }
        }
        return findings;
    },
};

/** A namespace that asks for sidecars: non-system and labelled for injection. */
export function isMeshNamespace(o: KubeObject, s: MeshSettings): boolean {
    if (groupKind(o) !== GK.namespace) {
        return false;
    }
    const name = nameOf(o) ?? "";
    const labels = labelsOf(o);
    return !isSystemNamespace(s, name) && ("istio.io/rev" in labels || labels["istio-injection"] === "enabled");
}

function isIstioCluster(o: KubeObject): boolean {
    return groupKind(o) === GK.managedCluster && at(o, "properties", "serviceMeshProfile", "mode") === "Istio";
}
