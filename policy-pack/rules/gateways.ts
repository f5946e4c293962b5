/**
 * Istio Gateways on AKS bind to the add-on's ingress gateways (selector `istio:
 * aks-istio-ingressgateway-external|internal`), whose Service exposes only 80 and 443 (plus the
 * 15021 status port), and terminate TLS with a credentialName secret in aks-istio-ingress.
 */
import { INGRESS_GATEWAYS, INGRESS_NAMESPACE, IngressGatewayInfo } from "../lib/aks";
import { egressGatewayLabels, MeshSettings } from "./config";
import { asArray, asString, asStrings, at, GK, labelsMatch, namespaceOf, nameOf, ofKind, stringMap, WORKLOAD_KINDS } from "./k8s";
import { hostsOverlap } from "./hosts";
import { Finding, Issue, ResourceRule, StackRule } from "./rule";
import { KnownPod, knownPods } from "./selectors";
import { KubeObject } from "./types";

/** The AKS ingress gateways by their `istio` selector label. */
const AKS_INGRESS: ReadonlyMap<string, IngressGatewayInfo> = new Map(Object.values(INGRESS_GATEWAYS).map((g) => [g.selector.istio, g]));
const TERMINATING = ["SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"];

function istioLabel(gw: KubeObject): string | undefined {
    return stringMap(at(gw, "spec", "selector"))["istio"];
}

function servers(gw: KubeObject): unknown[] {
    return asArray(at(gw, "spec", "servers"));
}

/** `ns/host` restricts which namespaces may bind; the listener host is the part after the slash. */
function serverHost(h: string): string {
    const i = h.indexOf("/");
    return i < 0 ? h : h.slice(i + 1);
}

function portNumber(server: unknown): number | undefined {
    const n = at(server, "port", "number");
    return typeof n === "number" ? n : undefined;
}

export const gatewaySelector: ResourceRule = {
    name: "gateway-selector",
    description: "A Gateway selects an AKS gateway: an ingress gateway (istio: aks-istio-ingressgateway-external or -internal) or an egress gateway named in egressGateways, the only gateway workloads the add-on runs.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Set spec.selector to { istio: aks-istio-ingressgateway-external } (or -internal); upstream samples' istio: ingressgateway matches nothing on AKS.",
    code: "IST0101",
    scope: "resource",
    settings: ["gatewaySelectors", "egressGateways"],
    kinds: [GK.gateway],
    check(gw, s) {
        const value = istioLabel(gw);
        const allowed = [...s.gatewaySelectors, ...s.egressGateways.map((g) => egressGatewayLabels(g).istio).filter((v): v is string => v !== undefined)];
        if (value === undefined || !allowed.includes(value)) {
            return [{
                code: "IST0101",
                message: `selector ${value === undefined ? "has no istio label" : `istio=${value}`} and matches no AKS gateway (allowed: ${allowed.join(", ")})`,
            }];
        }
        // Any further selector label must also be on the add-on's gateway pods, or the selector matches none.
        const pods = AKS_INGRESS.get(value)?.podLabels;
        const selector = stringMap(at(gw, "spec", "selector"));
        return pods && !labelsMatch(selector, pods) ? [{
            code: "IST0101",
            message: `selector ${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(",")} matches none of the ${value} pods (labels ${Object.entries(pods).map(([k, v]) => `${k}=${v}`).join(",")})`,
        }] : [];
    },
};

export const gatewayPorts: ResourceRule = {
    name: "gateway-ports",
    description: "Servers of a Gateway on an AKS ingress gateway use ports its Service exposes (80, 443).",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Use port 80 for HTTP and 443 for HTTPS; the add-on's ingress Service ports cannot be customised (upstream samples use 8080).",
    code: "IST0162",
    scope: "resource",
    settings: [],
    kinds: [GK.gateway],
    check(gw) {
        const ingress = AKS_INGRESS.get(istioLabel(gw) ?? "");
        if (!ingress) {
            return [];
        }
        return servers(gw).flatMap((server, i): Issue[] => {
            const port = portNumber(server);
            return port !== undefined && !ingress.ports.includes(port)
                ? [{ code: "IST0162", message: `servers[${i}] port ${port} is not exposed by the ${ingress.service} Service (${ingress.ports.join(", ")})` }]
                : [];
        });
    },
};

export const gatewayTls: ResourceRule = {
    name: "gateway-tls",
    description: "HTTPS/TLS Gateway servers terminate with a credentialName secret and allow no TLS version below 1.2.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Give HTTPS servers tls: { mode: SIMPLE, credentialName: <secret in aks-istio-ingress> } and leave minProtocolVersion unset (Envoy's default is TLS 1.2) or set TLSV1_2/TLSV1_3.",
    scope: "resource",
    settings: [],
    kinds: [GK.gateway],
    check(gw) {
        const issues: Issue[] = [];
        servers(gw).forEach((server, i) => {
            const protocol = (asString(at(server, "port", "protocol")) ?? "").toUpperCase();
            const tls = at(server, "tls");
            if ((protocol === "HTTPS" || protocol === "TLS") && tls === undefined) {
                issues.push({ message: `servers[${i}] is ${protocol} without tls settings` });
                return;
            }
            const mode = asString(at(tls, "mode")) ?? "PASSTHROUGH";
            if (tls !== undefined && TERMINATING.includes(mode)
                && !asString(at(tls, "credentialName")) && asStrings(at(tls, "credentialNames")).length === 0) {
                issues.push({ message: `servers[${i}] terminates TLS (${mode}) without credentialName; the AKS gateway reads certificates only from secrets in ${INGRESS_NAMESPACE}` });
            }
            const min = asString(at(tls, "minProtocolVersion"));
            if (min === "TLSV1_0" || min === "TLSV1_1") {
                issues.push({ message: `servers[${i}] allows ${min}; use TLSV1_2 or newer` });
            }
        });
        return issues;
    },
};

function wildcardHosts(gw: KubeObject): Issue[] {
    return servers(gw).flatMap((server, i) =>
        asStrings(at(server, "hosts")).filter((h) => serverHost(h) === "*")
            .map((h) => ({ message: `servers[${i}] host "${h}" accepts any Host header; name the hosts this gateway serves` })));
}

const WILDCARD_DESCRIPTION = "Gateway servers name their hosts instead of a bare \"*\"";
const WILDCARD_REMEDIATION = "Replace \"*\" in servers[].hosts with the DNS names served (e.g. shop.example.com, or a namespace-scoped ns/shop.example.com).";

export const gatewayWildcardHost: ResourceRule = {
    name: "gateway-wildcard-host",
    description: `${WILDCARD_DESCRIPTION} (environment prod; see gateway-wildcard-host-dev).`,
    severity: "medium",
    enforcement: "mandatory",
    remediation: WILDCARD_REMEDIATION,
    scope: "resource",
    settings: ["environment"],
    kinds: [GK.gateway],
    check(gw, s: MeshSettings) {
        return s.environment === "prod" ? wildcardHosts(gw) : [];
    },
};

export const gatewayWildcardHostDev: ResourceRule = {
    name: "gateway-wildcard-host-dev",
    description: `${WILDCARD_DESCRIPTION} (environment dev: advisory, since dev stacks often have no DNS name).`,
    severity: "low",
    enforcement: "advisory",
    remediation: WILDCARD_REMEDIATION,
    scope: "resource",
    settings: ["environment"],
    kinds: [GK.gateway],
    check(gw, s: MeshSettings) {
        return s.environment === "dev" ? wildcardHosts(gw) : [];
    },
};

function selectorKey(gw: KubeObject): string {
    return Object.entries(stringMap(at(gw, "spec", "selector"))).map(([k, v]) => `${k}=${v}`).sort().join(",");
}

function idOf(o: KubeObject): string {
    return `${namespaceOf(o)}/${nameOf(o) ?? ""}`;
}

/**
 * Whether two Gateways bind the same workload, as istioctl decides it: equal selectors, or one selector's text
 * contained in the other's (a sub-selector) with some pod matching both.
 */
function sameWorkload(a: KubeObject, b: KubeObject, pods: readonly KnownPod[]): boolean {
    const ka = selectorKey(a);
    const kb = selectorKey(b);
    if (ka === kb) {
        return true;
    }
    const sa = stringMap(at(a, "spec", "selector"));
    const sb = stringMap(at(b, "spec", "selector"));
    return (ka.includes(kb) || kb.includes(ka)) && pods.some((p) => labelsMatch(sa, p.labels) && labelsMatch(sb, p.labels));
}

export const gatewayConflicts: StackRule = {
    name: "gateway-conflicts",
    description: "No two Gateways bound to the same gateway workload (same selector, or a sub-selector matching the same pods) claim overlapping hosts on one port.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Serve each host on a port from one Gateway (merge the servers), or give the Gateways distinct hosts.",
    code: "IST0145",
    scope: "stack",
    settings: ["egressGateways"],
    kinds: [GK.gateway, GK.managedCluster, ...WORKLOAD_KINDS],
    check(objects, s) {
        const gateways = ofKind(objects, GK.gateway);
        const pods = knownPods(objects, s.egressGateways);
        const findings: Finding[] = [];
        for (const gw of gateways) {
            for (const server of servers(gw)) {
                const port = portNumber(server);
                const hosts = asStrings(at(server, "hosts")).map(serverHost);
                const rivals = gateways.filter((other) => idOf(other) !== idOf(gw) && sameWorkload(gw, other, pods)
                    && servers(other).some((os) => portNumber(os) === port
                        && asStrings(at(os, "hosts")).map(serverHost).some((oh) => hosts.some((h) => hostsOverlap(h, oh)))));
                if (rivals.length > 0) {
                    findings.push({ object: gw, code: "IST0145", message: `port ${port} hosts ${hosts.join(", ")} conflict with ${rivals.map(idOf).join(", ")} (selector ${selectorKey(gw)})` });
                }
            }
        }
        return findings;
    },
};

export const gatewayIngressEnabled: StackRule = {
    name: "gateway-ingress-enabled",
    description: "When the stack holds the ManagedCluster, each Gateway's AKS ingress gateway (External or Internal) is enabled on it.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Enable the gateway in serviceMeshProfile.istio.components.ingressGateways ({ mode: \"External\" | \"Internal\", enabled: true }) or select the one that is enabled.",
    code: "IST0101",
    scope: "stack",
    settings: [],
    kinds: [GK.gateway, GK.managedCluster],
    check(objects) {
        const clusters = ofKind(objects, GK.managedCluster);
        if (clusters.length === 0) {
            return [];
        }
        const enabled = clusters.flatMap((c) => asArray(at(c, "properties", "serviceMeshProfile", "istio", "components", "ingressGateways")))
            .filter((g) => at(g, "enabled") === true).map((g) => asString(at(g, "mode")));
        const findings: Finding[] = [];
        for (const gw of ofKind(objects, GK.gateway)) {
            const mode = AKS_INGRESS.get(istioLabel(gw) ?? "")?.mode;
            if (mode !== undefined && !enabled.includes(mode)) {
                findings.push({ object: gw, code: "IST0101", message: `selects the ${mode} ingress gateway, which the cluster does not enable` });
            }
        }
        return findings;
    },
};
