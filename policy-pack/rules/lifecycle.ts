/**
 * Revisions past their end of life (lib/revisions.ts, dated by its `today()`): refused in prod,
 * reported in dev, once per revision, on the ManagedCluster that runs it or else on the first
 * namespace labelled with it. A canary upgrade to a current revision is the way out, so it passes.
 */
import { endOfLifeProblems } from "../lib/revisions";
import { isSystemNamespace, MeshSettings } from "./config";
import { asStrings, at, GK, labelsOf, nameOf, ofKind } from "./k8s";
import { Finding, StackRule } from "./rule";
import { KubeObject } from "./types";

function pastEndOfLife(objects: readonly KubeObject[], s: MeshSettings): Finding[] {
    const holders = new Map<string, KubeObject>();
    const running: string[] = [];
    for (const c of ofKind(objects, GK.managedCluster)) {
        for (const r of asStrings(at(c, "properties", "serviceMeshProfile", "istio", "revisions"))) {
            holders.set(r, holders.get(r) ?? c);
            running.push(r);
        }
    }
    // A cluster whose newest revision is current is in a canary upgrade away from the old one.
    if (running.length > 0 && endOfLifeProblems(running.slice(-1)).length === 0 && running.length > 1) {
        return [];
    }
    for (const ns of ofKind(objects, GK.namespace)) {
        const rev = labelsOf(ns)["istio.io/rev"];
        if (rev !== undefined && !isSystemNamespace(s, nameOf(ns) ?? "")) {
            holders.set(rev, holders.get(rev) ?? ns);
        }
    }
    return [...holders].flatMap(([rev, object]) => endOfLifeProblems([rev]).map((message) => ({ object, message })));
}

const DESCRIPTION = "No ManagedCluster runs, and no namespace is labelled with, an Istio revision past its AKS end of life";
const REMEDIATION = "Upgrade to a supported revision with a canary upgrade (docs/upgrades.md): list the old and the new revision, move the namespaces, then drop the old one.";

export const revisionEndOfLife: StackRule = {
    name: "revision-end-of-life",
    description: `${DESCRIPTION} (environment prod: mandatory).`,
    severity: "high",
    enforcement: "mandatory",
    remediation: REMEDIATION,
    scope: "stack",
    settings: ["systemNamespaces", "environment"],
    kinds: [GK.managedCluster, GK.namespace],
    check(objects, s) {
        return s.environment === "prod" ? pastEndOfLife(objects, s) : [];
    },
};

export const revisionEndOfLifeDev: StackRule = {
    name: "revision-end-of-life-dev",
    description: `${DESCRIPTION} (environment dev: advisory, so an upgrade can be tried there first).`,
    severity: "medium",
    enforcement: "advisory",
    remediation: REMEDIATION,
    scope: "stack",
    settings: ["systemNamespaces", "environment"],
    kinds: [GK.managedCluster, GK.namespace],
    check(objects, s) {
        return s.environment === "dev" ? pastEndOfLife(objects, s) : [];
    },
};
