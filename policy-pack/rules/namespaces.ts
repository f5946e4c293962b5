/**
 * Sidecar injection on AKS: the add-on's webhooks select namespaces by `istio.io/rev` only, skip
 * namespaces carrying `istio-injection`, and do not support ambient mode.
 */
import { PROGRAM_NAMESPACES, RESERVED_NAMESPACES, reservedNamespaceOwner } from "../lib/aks";
import { isSystemNamespace, MeshSettings } from "./config";
import { asStrings, at, GK, labelsOf, nameOf, ofKind } from "./k8s";
import { Finding, Issue, ResourceRule, StackRule } from "./rule";
import { KubeObject } from "./types";

const REV = "istio.io/rev";
const LEGACY = "istio-injection";
const DATAPLANE = "istio.io/dataplane-mode";
const PART_OF = "app.kubernetes.io/part-of";

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

/** True when a Namespace asks for sidecars: the mark of an app namespace. */
function enrolled(ns: KubeObject): boolean {
    const labels = labelsOf(ns);
    return REV in labels || labels[LEGACY] === "enabled";
}

export const namespaceReserved: ResourceRule = {
    name: "namespace-reserved",
    description: "No namespace that Kubernetes, the AKS Istio add-on, another AKS add-on or this program's observability owns is enrolled in the mesh as an app namespace.",
    severity: "critical",
    enforcement: "mandatory",
    remediation: `Give the app a namespace of its own. Reserved: ${RESERVED_NAMESPACES.join(", ")}, the root namespace and every namespace in systemNamespaces; ${Object.entries(PROGRAM_NAMESPACES).map(([n, owner]) => `${n} only with ${PART_OF}=${owner}`).join(", ")}.`,
    scope: "resource",
    settings: ["rootNamespace", "systemNamespaces"],
    kinds: [GK.namespace],
    check(ns, s) {
        const name = nameOf(ns) ?? "";
        if (!enrolled(ns)) {
            return [];
        }
        const owner = PROGRAM_NAMESPACES[name];
        if (owner !== undefined) {
            const partOf = labelsOf(ns)[PART_OF];
            return partOf === owner ? [] : [{ message: `namespace ${name} belongs to this program's observability (${PART_OF}=${owner}), not to ${partOf === undefined ? "an app" : `app ${partOf}`}: give the app a namespace of its own` }];
        }
        const by = reservedNamespaceOwner(name) ?? (isSystemNamespace(s, name) ? "the platform (systemNamespaces)" : undefined);
        return by === undefined ? [] : [{ message: `namespace ${name} belongs to ${by}: an app here would put sidecars and its mesh policies on the owner's pods; give the app a namespace of its own` }];
    },
};
