/**
 * Workloads in mesh namespaces keep their sidecar and its traffic capture, do not run as the
 * proxy's UID, declare resource requests, and (in prod) survive voluntary disruptions.
 */
import { isSystemNamespace } from "./config";
import { annotationsOf, asArray, asRecord, asString, at, GK, labelSelectorMatches, labelsOf, namespaceOf, nameOf, ofKind, podTemplate, WORKLOAD_KINDS } from "./k8s";
import { Finding, Issue, ResourceRule, StackRule } from "./rule";

const INJECT = "sidecar.istio.io/inject";
/** Istio's proxy runs as this UID; traffic from it bypasses capture (IST0144). */
const PROXY_UID = 1337;

/** Pod annotations that shrink or switch off traffic capture; `*` keeps full capture where allowed. */
const CAPTURE_BYPASS: Readonly<Record<string, (value: string) => boolean>> = {
    "traffic.sidecar.istio.io/excludeInboundPorts": (v) => v.trim() !== "",
    "traffic.sidecar.istio.io/excludeOutboundPorts": (v) => v.trim() !== "",
    "traffic.sidecar.istio.io/excludeOutboundIPRanges": (v) => v.trim() !== "",
    "traffic.sidecar.istio.io/excludeInterfaces": (v) => v.trim() !== "",
    "traffic.sidecar.istio.io/kubevirtInterfaces": (v) => v.trim() !== "",
    "traffic.sidecar.istio.io/includeInboundPorts": (v) => v.trim() !== "*",
    "traffic.sidecar.istio.io/includeOutboundIPRanges": (v) => v.trim() !== "*",
    "sidecar.istio.io/interceptionMode": (v) => v.trim().toUpperCase() === "NONE",
};

function containers(podSpec: unknown): unknown[] {
    return asArray(at(podSpec, "containers"));
}

export const workloadSidecarInjection: ResourceRule = {
    name: "workload-sidecar-injection",
    description: "Workloads in mesh namespaces do not opt out of injection (label or annotation sidecar.istio.io/inject: \"false\"), do not bypass traffic capture, and do not use hostNetwork.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Remove sidecar.istio.io/inject: \"false\", the traffic.sidecar.istio.io/* exclusions and hostNetwork from the pod template. Workloads that must stay outside the mesh belong in a namespace listed in systemNamespaces.",
    scope: "resource",
    settings: ["rootNamespace", "systemNamespaces"],
    kinds: WORKLOAD_KINDS,
    check(obj, s) {
        const template = podTemplate(obj);
        if (!template || isSystemNamespace(s, namespaceOf(obj))) {
            return [];
        }
        const issues: Issue[] = [];
        const labels = labelsOf(template);
        const annotations = annotationsOf(template);
        if (labels[INJECT]?.toLowerCase() === "false") {
            issues.push({ message: `pod label ${INJECT}: "false" disables the sidecar` });
        }
        if (annotations[INJECT]?.toLowerCase() === "false") {
            issues.push({ message: `pod annotation ${INJECT}: "false" disables the sidecar` });
        }
        for (const [key, bypasses] of Object.entries(CAPTURE_BYPASS)) {
            const value = annotations[key];
            if (value !== undefined && bypasses(value)) {
                issues.push({ message: `pod annotation ${key}: "${value}" lets traffic bypass the sidecar (and STRICT mTLS)` });
            }
        }
        if (at(template, "spec", "hostNetwork") === true) {
            issues.push({ message: "hostNetwork: true pods get no sidecar and bypass the mesh" });
        }
        return issues;
    },
};

export const workloadReservedUid: ResourceRule = {
    name: "workload-reserved-uid",
    description: "Application containers do not run as UID 1337, which Istio reserves for the sidecar proxy.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Run the application under another UID (securityContext.runAsUser on the pod and its containers).",
    code: "IST0144",
    scope: "resource",
    settings: ["rootNamespace", "systemNamespaces"],
    kinds: WORKLOAD_KINDS,
    check(obj, s) {
        const template = podTemplate(obj);
        if (!template || isSystemNamespace(s, namespaceOf(obj))) {
            return [];
        }
        const issues: Issue[] = [];
        if (at(template, "spec", "securityContext", "runAsUser") === PROXY_UID) {
            issues.push({ code: "IST0144", message: `pod securityContext.runAsUser is ${PROXY_UID}, the proxy's UID: its traffic would skip the sidecar` });
        }
        for (const c of containers(at(template, "spec"))) {
            const name = asString(at(c, "name")) ?? "";
            if (name !== "istio-proxy" && at(c, "securityContext", "runAsUser") === PROXY_UID) {
                issues.push({ code: "IST0144", message: `container ${name} runs as UID ${PROXY_UID}, the proxy's UID: its traffic would skip the sidecar` });
            }
        }
        return issues;
    },
};

export const containerResourceRequests: ResourceRule = {
    name: "container-resource-requests",
    description: "Containers of mesh workloads declare CPU and memory requests.",
    severity: "low",
    enforcement: "advisory",
    remediation: "Set resources.requests.cpu and resources.requests.memory on every container.",
    scope: "resource",
    settings: ["rootNamespace", "systemNamespaces"],
    kinds: WORKLOAD_KINDS,
    check(obj, s) {
        const template = podTemplate(obj);
        if (!template || isSystemNamespace(s, namespaceOf(obj))) {
            return [];
        }
        const issues: Issue[] = [];
        for (const c of containers(at(template, "spec"))) {
            const requests = asRecord(at(c, "resources", "requests")) ?? {};
            const missing = ["cpu", "memory"].filter((r) => requests[r] === undefined);
            if (missing.length > 0) {
                issues.push({ message: `container ${asString(at(c, "name")) ?? "?"} has no ${missing.join(" or ")} request` });
            }
        }
        return issues;
    },
};

const REPLICATED = [GK.deployment, GK.statefulSet];

export const workloadAvailability: StackRule = {
    name: "workload-availability",
    description: "In prod, Deployments and StatefulSets run at least 2 replicas (or an HPA keeps at least 2) and a PodDisruptionBudget covers their pods.",
    severity: "medium",
    enforcement: "advisory",
    remediation: "Set spec.replicas >= 2 (or HorizontalPodAutoscaler minReplicas >= 2) and add a PodDisruptionBudget whose selector matches the pod template labels.",
    scope: "stack",
    settings: ["rootNamespace", "systemNamespaces", "environment"],
    kinds: [...REPLICATED, GK.pdb, GK.hpa],
    check(objects, s) {
        if (s.environment !== "prod") {
            return [];
        }
        const pdbs = ofKind(objects, GK.pdb);
        const hpas = ofKind(objects, GK.hpa);
        const findings: Finding[] = [];
        for (const w of ofKind(objects, ...REPLICATED)) {
            const ns = namespaceOf(w);
            if (isSystemNamespace(s, ns)) {
                continue;
            }
            const name = nameOf(w);
            const hpa = hpas.find((h) => namespaceOf(h) === ns
                && at(h, "spec", "scaleTargetRef", "kind") === w.kind && at(h, "spec", "scaleTargetRef", "name") === name);
            const minReplicas = hpa ? (at(hpa, "spec", "minReplicas") ?? 1) : (at(w, "spec", "replicas") ?? 1);
            if (typeof minReplicas === "number" && minReplicas < 2) {
                findings.push({ object: w, message: `${hpa ? "HPA minReplicas" : "replicas"} is ${minReplicas}; prod workloads need at least 2 to survive a node drain` });
            }
            const podLabels = labelsOf(podTemplate(w));
            if (!pdbs.some((p) => namespaceOf(p) === ns && at(p, "spec", "selector") !== undefined && labelSelectorMatches(at(p, "spec", "selector"), podLabels))) {
                findings.push({ object: w, message: "no PodDisruptionBudget selects its pods" });
            }
        }
        return findings;
    },
};

export const autoscalerTarget: StackRule = {
    name: "autoscaler-target",
    description: "A HorizontalPodAutoscaler scales a Deployment or StatefulSet of its namespace that leaves spec.replicas unset, so no deployment resets the replica count the HPA chose.",
    severity: "medium",
    enforcement: "mandatory",
    remediation: "Point spec.scaleTargetRef at the workload (kind and name, same namespace) and remove the workload's spec.replicas; the HPA's minReplicas sets the floor.",
    scope: "stack",
    settings: [],
    kinds: [...REPLICATED, GK.hpa],
    check(objects) {
        const workloads = ofKind(objects, ...REPLICATED);
        const findings: Finding[] = [];
        for (const hpa of ofKind(objects, GK.hpa)) {
            const ns = namespaceOf(hpa);
            const kind = asString(at(hpa, "spec", "scaleTargetRef", "kind"));
            const name = asString(at(hpa, "spec", "scaleTargetRef", "name"));
            const own = workloads.filter((w) => namespaceOf(w) === ns);
            const target = own.find((w) => w.kind === kind && nameOf(w) === name);
            // Only judged where the set holds the namespace's workloads; otherwise the target lives elsewhere.
            if (!target && own.length > 0) {
                findings.push({ object: hpa, message: `scaleTargetRef ${kind ?? "?"} ${name ?? "?"} matches no Deployment or StatefulSet in namespace ${ns} (there: ${own.map((w) => `${w.kind} ${nameOf(w) ?? "?"}`).join(", ")})` });
            } else if (target && at(target, "spec", "replicas") !== undefined) {
                findings.push({ object: target, message: `sets spec.replicas (${String(at(target, "spec", "replicas"))}) while HorizontalPodAutoscaler ${nameOf(hpa) ?? "?"} scales it: every deployment resets the count the HPA chose; leave spec.replicas unset` });
            }
        }
        return findings;
    },
};
