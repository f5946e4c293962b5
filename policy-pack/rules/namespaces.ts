/**
 * Sidecar injection on AKS: the add-on's webhooks select namespaces by `istio.io/rev` only, skip
 * namespaces carrying `istio-injection`, and do not support ambient mode.
 */
import { isSystemNamespace, MeshSettings } from "./config";
import { asStrings, at, GK, labelsOf, nameOf, ofKind } from "./k8s";
import { Finding, Issue, ResourceRule, StackRule } from "./rule";
import { KubeObject } from "./types";

const REV = "istio.io/rev";
const LEGACY = "istio-injection";
const DATAPLANE = "istio.io/dataplane-mode";

function allowedValues(s: MeshSettings): string[] {
    return [...s.allowedRevisions, ...s.revisionTags];
}

/** True when the namespace carries a revision label the resource rule accepts. */
function acceptedRevision(ns: KubeObject, s: MeshSettings): string | undefined {
    const labels = labelsOf(ns);
    const rev = labels[REV];
    return rev !== undefined && !(LEGACY in labels) && allowedValues(s).includes(rev) ? rev : undefined;
}

export const namespaceInjectionLabels: ResourceRule = {
    name: "namespace-injection-labels",
    description: "Every non-system namespace carries istio.io/rev with an allowed revision or tag, and no istio-injection or ambient label.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Label the namespace istio.io/rev=<revision> (e.g. asm-1-30, or a revision tag) and remove istio-injection and istio.io/dataplane-mode. Namespaces deliberately outside the mesh belong in the systemNamespaces setting.",
    code: "IST0102, IST0123",
    scope: "resource",
    settings: ["rootNamespace", "systemNamespaces", "allowedRevisions", "revisionTags"],
    kinds: [GK.namespace],
    check(ns, s) {
        const name = nameOf(ns) ?? "";
        if (isSystemNamespace(s, name)) {
            return [];
        }
        const labels = labelsOf(ns);
        const rev = labels[REV];
        const issues: Issue[] = [];
        if (labels[DATAPLANE] === "ambient") {
            issues.push({ message: `label ${DATAPLANE}=ambient: the AKS Istio add-on does not support ambient mode` });
        }
        if (rev !== undefined && LEGACY in labels) {
            issues.push({ code: "IST0123", message: `both ${LEGACY} and ${REV} are set; keep only ${REV} (the AKS add-on skips namespaces labelled ${LEGACY})` });
        } else if (LEGACY in labels) {
            issues.push({ message: `label ${LEGACY}=${labels[LEGACY]} is ignored by the AKS add-on and makes injection skip the namespace; use ${REV}=<revision>` });
        } else if (rev === undefined) {
            issues.push({ code: "IST0102", message: `no ${REV} label: pods in this namespace get no sidecar` });
        }
        if (rev !== undefined && !allowedValues(s).includes(rev)) {
            issues.push({ message: `${REV}=${rev} is not an allowed revision or tag (allowed: ${allowedValues(s).join(", ") || "none"})` });
        }
        return issues;
    },
};

export const namespaceRevisionOnCluster: StackRule = {
    name: "namespace-revision-on-cluster",
    description: "When the stack holds the ManagedCluster, every namespace's istio.io/rev names a revision the cluster runs (or a configured tag).",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Point istio.io/rev at one of the cluster's serviceMeshProfile.istio.revisions (during a canary upgrade either of the two), or at a revision tag listed in revisionTags.",
    scope: "stack",
    settings: ["rootNamespace", "systemNamespaces", "allowedRevisions", "revisionTags"],
    kinds: [GK.namespace, GK.managedCluster],
    check(objects, s) {
        const clusters = ofKind(objects, GK.managedCluster);
        if (clusters.length === 0) {
            return [];
        }
        const running = clusters.flatMap((c) => asStrings(at(c, "properties", "serviceMeshProfile", "istio", "revisions")));
        const findings: Finding[] = [];
        for (const ns of ofKind(objects, GK.namespace)) {
            if (isSystemNamespace(s, nameOf(ns) ?? "")) {
                continue;
            }
            const rev = acceptedRevision(ns, s);
            if (rev !== undefined && !running.includes(rev) && !s.revisionTags.includes(rev)) {
                findings.push({ object: ns, message: `${REV}=${rev} but the cluster runs ${running.join(", ") || "no explicit revision"}; sidecars would not be injected` });
            }
        }
        return findings;
    },
};
