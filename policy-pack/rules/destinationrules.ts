/**
 * DestinationRules: client TLS never disabled and always verifying the server, hosts that exist,
 * subsets that select pods.
 */
import { asArray, asString, at, GK, hasEntries, labelsMatch, labelsOf, namespaceOf, ofKind, podTemplate, stringMap, WORKLOAD_KINDS } from "./k8s";
import { exportToOf, hostOf, hostRegistry, resolveHost, serviceSelector } from "./hosts";
import { Finding, Issue, ResourceRule, StackRule } from "./rule";
import { KnownPod, nodeTopologies, podsOnNodes } from "./selectors";
import { KubeObject } from "./types";

interface TlsSite {
    readonly where: string;
    readonly tls: unknown;
    /** The analyzer code for this level; subset levels are checked beyond what istioctl covers. */
    readonly code?: string;
}

function portName(setting: unknown): string {
    const n = at(setting, "port", "number");
    return typeof n === "number" ? `port ${n}` : "a port";
}

/** The four places a ClientTLSSettings can sit. */
function tlsSites(dr: KubeObject): TlsSite[] {
    const sites: TlsSite[] = [];
    const policy = (tp: unknown, prefix: string, top: boolean): void => {
        if (at(tp, "tls") !== undefined) {
            sites.push({ where: `${prefix}trafficPolicy.tls`, tls: at(tp, "tls"), code: top ? "IST0128" : undefined });
        }
        asArray(at(tp, "portLevelSettings")).forEach((pls, i) => {
            if (at(pls, "tls") !== undefined) {
                sites.push({ where: `${prefix}trafficPolicy.portLevelSettings[${i}] (${portName(pls)}).tls`, tls: at(pls, "tls"), code: top ? "IST0129" : undefined });
            }
        });
    };
    policy(at(dr, "spec", "trafficPolicy"), "", true);
    asArray(at(dr, "spec", "subsets")).forEach((subset, i) => {
        policy(at(subset, "trafficPolicy"), `subsets[${i}] (${asString(at(subset, "name")) ?? "?"}).`, false);
    });
    return sites;
}

export const destinationRuleTls: ResourceRule = {
    name: "destination-rule-tls",
    description: "DestinationRule TLS at every level (top, port-level, subset, subset port-level) is never DISABLE, and SIMPLE/MUTUAL verify the server (caCertificates, or credentialName with a workloadSelector) without insecureSkipVerify.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Use ISTIO_MUTUAL for in-mesh hosts (or omit tls: auto mTLS applies). For TLS origination set tls.caCertificates (or credentialName plus spec.workloadSelector) and remove insecureSkipVerify.",
    code: "IST0128, IST0129",
    scope: "resource",
    settings: [],
    kinds: [GK.destinationRule],
    check(dr) {
        const issues: Issue[] = [];
        const hasWorkloadSelector = hasEntries(stringMap(at(dr, "spec", "workloadSelector", "matchLabels")));
        for (const site of tlsSites(dr)) {
            const mode = asString(at(site.tls, "mode"));
            if (mode === "DISABLE") {
                issues.push({ message: `${site.where}.mode is DISABLE: traffic to ${hostOf(dr)} leaves the proxy in plain text` });
            }
            if ((mode === "SIMPLE" || mode === "MUTUAL")
                && !asString(at(site.tls, "caCertificates"))
                && !(asString(at(site.tls, "credentialName")) && hasWorkloadSelector)) {
                issues.push({ code: site.code, message: `${site.where}.mode is ${mode} without caCertificates: the server certificate of ${hostOf(dr)} is not verified` });
            }
            if (at(site.tls, "insecureSkipVerify") === true) {
                issues.push({ message: `${site.where}.insecureSkipVerify is true: the server certificate of ${hostOf(dr)} is not verified` });
            }
        }
        return issues;
    },
};

export const destinationRuleHost: StackRule = {
    name: "destination-rule-host",
    description: "A DestinationRule's host is a Service or ServiceEntry host visible from its namespace.",
    severity: "medium",
    enforcement: "advisory",
    remediation: "Fix spec.host: a short name resolves in the DestinationRule's namespace; use name.namespace.svc.cluster.local for another namespace, or add a ServiceEntry for an external host.",
    code: "IST0174",
    scope: "stack",
    settings: ["egressGateways"],
    kinds: [GK.destinationRule, GK.service, GK.serviceEntry],
    check(objects, s) {
        const registry = hostRegistry(objects, s.egressGateways);
        const findings: Finding[] = [];
        for (const dr of ofKind(objects, GK.destinationRule)) {
            const host = hostOf(dr);
            // Wildcard hosts (e.g. *.svc.cluster.local in the root namespace) are deliberate catch-alls.
            if (host.startsWith("*")) {
                continue;
            }
            if (!resolveHost(registry, host, namespaceOf(dr), exportToOf(dr))) {
                findings.push({ object: dr, code: "IST0174", message: `host ${host} matches no Service or ServiceEntry visible from namespace ${namespaceOf(dr)}` });
            }
        }
        return findings;
    },
};

export const destinationRuleSubsetPods: StackRule = {
    name: "destination-rule-subset-pods",
    description: "Every DestinationRule subset selects pods of its Service (pod template labels, plus the topology labels pods get from the cluster's nodes: region and zone).",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Make subsets[].labels match the pod template labels (e.g. version: v1) of a workload behind the Service, or a region/zone the cluster's node pools run in.",
    code: "IST0173",
    scope: "stack",
    settings: ["egressGateways"],
    kinds: [GK.destinationRule, GK.service, GK.serviceEntry, GK.managedCluster, ...WORKLOAD_KINDS],
    check(objects, s) {
        const registry = hostRegistry(objects, s.egressGateways);
        const pods = ofKind(objects, ...WORKLOAD_KINDS).map((w) => ({ namespace: namespaceOf(w), labels: labelsOf(podTemplate(w)) }));
        const placed = podsOnNodes(pods, nodeTopologies(objects));
        const findings: Finding[] = [];
        for (const dr of ofKind(objects, GK.destinationRule)) {
            const subsets = asArray(at(dr, "spec", "subsets"));
            const entry = subsets.length > 0 ? resolveHost(registry, hostOf(dr), namespaceOf(dr), exportToOf(dr)) : undefined;
            const selector = entry && serviceSelector(entry);
            if (!entry || !selector || !hasEntries(selector)) {
                continue;
            }
            // Only judge Services whose workloads are in the set; otherwise the pods live elsewhere.
            const inNamespace = (p: KnownPod) => p.namespace === namespaceOf(entry.object);
            if (!pods.some((p) => inNamespace(p) && labelsMatch(selector, p.labels))) {
                continue;
            }
            for (const subset of subsets) {
                const wanted = { ...selector, ...stringMap(at(subset, "labels")) };
                if (!placed.some((p) => inNamespace(p) && labelsMatch(wanted, p.labels))) {
                    findings.push({ object: dr, code: "IST0173", message: `subset ${asString(at(subset, "name")) ?? "?"} (${Object.entries(stringMap(at(subset, "labels"))).map(([k, v]) => `${k}=${v}`).join(", ")}) selects no pod of ${entry.host}` });
                }
            }
        }
        return findings;
    },
};
