/**
 * Advisory hygiene: protocol-named Service ports, no deprecated Istio annotations, one default
 * Sidecar per namespace, and a shared MeshConfig the AKS add-on accepts.
 */
import { parse } from "yaml";
import { sharedMeshConfigName } from "../lib/aks";
import { parseRevision } from "../lib/revisions";
import { isSystemNamespace } from "./config";
import { annotationsOf, asArray, asRecord, asString, at, GK, groupKind, labelsOf, namespaceOf, nameOf, ofKind, podTemplate, WORKLOAD_KINDS } from "./k8s";
import { Finding, Issue, ResourceRule, StackRule } from "./rule";

/** Protocol prefixes Istio recognises in a port name or appProtocol (case-insensitive). */
const PROTOCOLS = ["tcp", "udp", "grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tls", "mongo", "redis", "mysql"];
/** Kubernetes-defined appProtocol values Istio maps (h2c → HTTP2, ws → HTTP, wss → HTTPS). */
const K8S_APP_PROTOCOLS = ["kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss"];
/** Ports Istio treats as TCP whatever their name (SMTP, DNS, MySQL, MongoDB): sniffing would break them. */
const WELL_KNOWN_PORTS = [25, 53, 3306, 27017];

/** Istio's port protocol detection: true when the port resolves to a known protocol. */
function protocolKnown(port: unknown): boolean {
    if (asString(at(port, "protocol")) === "UDP") {
        return true;
    }
    const appProtocol = asString(at(port, "appProtocol"));
    if (appProtocol !== undefined && K8S_APP_PROTOCOLS.includes(appProtocol)) {
        return true;
    }
    const name = (appProtocol ?? asString(at(port, "name")) ?? "").toLowerCase();
    const prefix = name.startsWith("grpc-web") ? "grpc-web" : name.split("-")[0];
    const number = at(port, "port");
    return PROTOCOLS.includes(prefix) || (typeof number === "number" && WELL_KNOWN_PORTS.includes(number));
}

export const servicePortNames: ResourceRule = {
    name: "service-port-names",
    description: "Service ports declare their protocol by name (<protocol>[-<suffix>]) or appProtocol, so Istio does not fall back to sniffing or plain TCP.",
    severity: "low",
    enforcement: "advisory",
    remediation: "Name each port http, http2, grpc, tcp, tls, https, ... optionally with a suffix (http-web), or set appProtocol.",
    code: "IST0118, IST0150",
    scope: "resource",
    settings: ["rootNamespace", "systemNamespaces"],
    kinds: [GK.service],
    check(svc, s) {
        if (isSystemNamespace(s, namespaceOf(svc)) || "gateway.istio.io/managed" in labelsOf(svc)) {
            return [];
        }
        const externalName = at(svc, "spec", "type") === "ExternalName";
        return asArray(at(svc, "spec", "ports")).flatMap((port): Issue[] => {
            const name = asString(at(port, "name")) ?? "";
            if (protocolKnown(port) && !(externalName && name === "tcp")) {
                return [];
            }
            const label = `port ${name || "(unnamed)"} (${String(at(port, "port"))})`;
            return [externalName
                ? { code: "IST0150", message: `${label} of an ExternalName Service does not name a protocol; Istio routes it as plain TCP` }
                : { code: "IST0118", message: `${label} does not follow <protocol>[-<suffix>] and has no appProtocol; Istio has to guess the protocol` }];
        });
    },
};

/** Deprecated Istio annotations and what replaces them (istio/api annotations marked deprecated). */
const DEPRECATED_ANNOTATIONS: Readonly<Record<string, string>> = {
    "sidecar.istio.io/inject": "use the sidecar.istio.io/inject label",
    "sidecar.istio.io/statsInclusionPrefixes": "use proxyStatsMatcher in proxy.istio.io/config",
    "sidecar.istio.io/statsInclusionSuffixes": "use proxyStatsMatcher in proxy.istio.io/config",
    "sidecar.istio.io/statsInclusionRegexps": "use proxyStatsMatcher in proxy.istio.io/config",
    "sidecar.istio.io/controlPlaneAuthPolicy": "remove it; control-plane traffic is always mTLS",
    "sidecar.istio.io/discoveryAddress": "remove it; the add-on sets the discovery address",
    "alpha.istio.io/kubernetes-serviceaccounts": "remove it",
    "alpha.istio.io/canonical-serviceaccounts": "remove it",
    "alpha.istio.io/identity": "remove it",
};

function deprecatedOn(meta: unknown, where: string): Issue[] {
    const labels = labelsOf(meta);
    return Object.keys(annotationsOf(meta))
        // Having the replacement label too means the annotation is kept for old proxies on purpose.
        .filter((a) => Object.prototype.hasOwnProperty.call(DEPRECATED_ANNOTATIONS, a) && !(a === "sidecar.istio.io/inject" && a in labels))
        .map((a) => ({ code: "IST0135", message: `${where}annotation ${a} is deprecated: ${DEPRECATED_ANNOTATIONS[a]}` }));
}

export const deprecatedAnnotations: ResourceRule = {
    name: "deprecated-annotations",
    description: "No deprecated Istio annotations on Namespaces, Services, workloads or their pod templates.",
    severity: "low",
    enforcement: "advisory",
    remediation: "Replace deprecated annotations (e.g. the sidecar.istio.io/inject annotation by the label of the same name).",
    code: "IST0135",
    scope: "resource",
    settings: [],
    kinds: [GK.namespace, GK.service, ...WORKLOAD_KINDS],
    check(obj) {
        const issues = deprecatedOn(obj, "");
        const template = groupKind(obj) === GK.pod ? undefined : podTemplate(obj);
        return template ? [...issues, ...deprecatedOn(template, "pod template ")] : issues;
    },
};

export const sidecarDefaultSelector: StackRule = {
    name: "sidecar-default-selector",
    description: "At most one Sidecar without workloadSelector per namespace.",
    severity: "medium",
    enforcement: "advisory",
    remediation: "Keep one namespace-wide Sidecar; give the others a workloadSelector.",
    code: "IST0111",
    scope: "stack",
    settings: [],
    kinds: [GK.sidecar],
    check(objects) {
        const byNs = new Map<string, string[]>();
        const defaults = ofKind(objects, GK.sidecar).filter((sc) => at(sc, "spec", "workloadSelector") === undefined);
        for (const sc of defaults) {
            byNs.set(namespaceOf(sc), [...(byNs.get(namespaceOf(sc)) ?? []), nameOf(sc) ?? ""]);
        }
        return defaults.flatMap((sc): Finding[] => {
            const names = byNs.get(namespaceOf(sc)) ?? [];
            return names.length > 1
                ? [{ object: sc, code: "IST0111", message: `${names.length} Sidecars without workloadSelector in ${namespaceOf(sc)} (${names.join(", ")}); Istio picks one arbitrarily` }]
                : [];
        });
    },
};

/** MeshConfig fields the AKS add-on accepts in istio-shared-configmap-<revision> (supported + allowed). */
const MESH_FIELDS = [
    "defaultConfig", "outboundTrafficPolicy", "accessLogFile", "accessLogFormat", "accessLogEncoding",
    "enableEnvoyAccessLogService", "disableEnvoyListenerLog", "discoverySelectors",
    "proxyListenPort", "proxyInboundListenPort", "proxyHttpPort", "connectTimeout", "tcpKeepalive", "extensionProviders",
    "defaultProviders", "enableTracing", "trustDomain", "trustDomainAliases", "caCertificates", "defaultServiceExportTo",
    "defaultVirtualServiceExportTo", "defaultDestinationRuleExportTo", "localityLbSetting", "dnsRefreshRate",
    "h2UpgradePolicy", "enablePrometheusMerge", "pathNormalization", "defaultHttpRetryPolicy", "serviceSettings",
    "meshMTLS", "tlsDefaults", "ingressService", "ingressSelector",
];
/** ProxyConfig fields (defaultConfig) the add-on accepts. */
const PROXY_FIELDS = [
    "drainDuration", "concurrency", "terminationDrainDuration", "holdApplicationUntilProxyStarts",
    "tracingServiceName", "statsUdpAddress", "proxyAdminPort", "tracing", "envoyAccessLogService", "envoyMetricsService",
    "proxyMetadata", "statusPort", "extraStatTags", "gatewayTopology", "proxyStatsMatcher", "meshId", "caCertificatesPem",
    "privateKeyProvider", "proxyHeaders",
];
const SHARED_PREFIX = sharedMeshConfigName("");
/** The add-on's own MeshConfig, istio-<revision>, which it reconciles. */
const MANAGED = /^istio-asm-\d+-\d+$/;

function meshIssues(text: string): Issue[] {
    let mesh: unknown;
    try {
        mesh = parse(text);
    } catch (e) {
        return [{ message: `data.mesh is not valid YAML: ${(e as Error).message.split("\n")[0]}` }];
    }
    const issues: Issue[] = [];
    for (const key of Object.keys(asRecord(mesh) ?? {})) {
        if (!MESH_FIELDS.includes(key)) {
            issues.push({ message: `data.mesh field ${key} is blocked by the AKS add-on's admission webhook` });
        }
    }
    const proxy = asRecord(at(mesh, "defaultConfig")) ?? {};
    for (const key of Object.keys(proxy)) {
        if (!PROXY_FIELDS.includes(key)) {
            issues.push({ message: `data.mesh defaultConfig.${key} is blocked by the AKS add-on's admission webhook` });
        }
    }
    if (proxy.concurrency === 0) {
        issues.push({ message: "data.mesh defaultConfig.concurrency is 0: every proxy starts one worker per node core" });
    }
    return issues;
}

export const aksMeshConfig: ResourceRule = {
    name: "aks-meshconfig",
    description: "MeshConfig goes into istio-shared-configmap-<revision> in aks-istio-system, under data.mesh, using only fields the AKS add-on allows; the add-on's own istio-<revision> ConfigMap is left alone.",
    severity: "medium",
    enforcement: "advisory",
    remediation: "Put MeshConfig in a ConfigMap istio-shared-configmap-<revision> in aks-istio-system (one per revision during a canary upgrade), key mesh, with only the fields listed in the AKS MeshConfig documentation.",
    scope: "resource",
    settings: ["rootNamespace"],
    kinds: [GK.configMap],
    check(cm, s) {
        const name = nameOf(cm) ?? "";
        const ns = namespaceOf(cm);
        if (MANAGED.test(name) && ns === s.rootNamespace) {
            return [{ message: `${name} is reconciled by the AKS add-on; changes are overwritten. Use ${sharedMeshConfigName(name.slice("istio-".length))}` }];
        }
        if (!name.startsWith(SHARED_PREFIX) || name.length === SHARED_PREFIX.length) {
            return [];
        }
        const revision = name.slice(SHARED_PREFIX.length);
        const issues: Issue[] = [];
        if (ns !== s.rootNamespace) {
            issues.push({ message: `${name} has no effect outside ${s.rootNamespace}` });
        }
        if (!parseRevision(revision)) {
            issues.push({ message: `${name}: "${revision}" is not a revision name (asm-<major>-<minor>)` });
        }
        const mesh = at(cm, "data", "mesh");
        if (typeof mesh !== "string") {
            issues.push({ message: `${name} has no data.mesh; the add-on reads MeshConfig only from that key` });
        } else {
            issues.push(...meshIssues(mesh));
        }
        return issues;
    },
};
