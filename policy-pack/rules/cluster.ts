/** The AKS ManagedCluster: the Istio add-on on, with explicit, supported, compatible revisions. */
import { revisionInfo, revisionListProblems } from "../lib/revisions";
import { asArray, asString, at, GK } from "./k8s";
import { Issue, ResourceRule } from "./rule";

export const aksMeshProfile: ResourceRule = {
    name: "aks-mesh-profile",
    description: "The ManagedCluster enables the Istio add-on (serviceMeshProfile.mode Istio) with explicit revisions: one, or two consecutive during a canary upgrade, each supported, allowed and compatible with the Kubernetes version.",
    severity: "critical",
    enforcement: "mandatory",
    remediation: "Set serviceMeshProfile: { mode: \"Istio\", istio: { revisions: [\"asm-1-30\"] } } with a revision from the supported table that matches kubernetesVersion; during a canary upgrade list the old and the new revision in that order.",
    scope: "resource",
    settings: ["allowedRevisions"],
    kinds: [GK.managedCluster],
    check(cluster, s) {
        const profile = at(cluster, "properties", "serviceMeshProfile");
        if (at(profile, "mode") !== "Istio") {
            return [{ message: `serviceMeshProfile.mode is ${asString(at(profile, "mode")) ?? "not set"}; the Istio add-on must be enabled (mode: Istio)` }];
        }
        const revisions = asArray(at(profile, "istio", "revisions"));
        if (revisions.length === 0) {
            return [{ message: "serviceMeshProfile.istio.revisions is empty: AKS then installs its default revision, which changes under you; list the revision explicitly" }];
        }
        const names = revisions.map((r) => asString(r) ?? String(r));
        const version = asString(at(cluster, "properties", "kubernetesVersion"));
        const issues: Issue[] = revisionListProblems(names, version).map((p) => ({ message: `serviceMeshProfile.istio.revisions: ${p}` }));
        for (const r of names) {
            if (revisionInfo(r) && !s.allowedRevisions.includes(r)) {
                issues.push({ message: `serviceMeshProfile.istio.revisions: "${r}" is supported by AKS but not in allowedRevisions (${s.allowedRevisions.join(", ")})` });
            }
        }
        for (const mode of ["External", "Internal"]) {
            const count = asArray(at(profile, "istio", "components", "ingressGateways")).filter((g) => at(g, "mode") === mode).length;
            if (count > 1) {
                issues.push({ message: `${count} ${mode} ingress gateways: AKS supports at most one per mode` });
            }
        }
        return issues;
    },
};
