/**
 * Istio APIs the AKS add-on blocks or does not support: the blocked CRDs are rejected by its
 * admission webhooks at apply time (a preview-time policy fails earlier), EnvoyFilter is allowed but
 * unsupported, and its patches get istioctl's EnvoyFilter checks.
 */
import { asArray, asString, at, GK, GroupKind, NETWORKING } from "./k8s";
import { Issue, ResourceRule } from "./rule";

const BLOCKED: readonly GroupKind[] = [
    `${NETWORKING}/ProxyConfig`,
    `${NETWORKING}/WorkloadEntry`,
    `${NETWORKING}/WorkloadGroup`,
    "install.istio.io/IstioOperator",
    "extensions.istio.io/WasmPlugin",
];

export const aksBlockedIstioApis: ResourceRule = {
    name: "aks-blocked-istio-apis",
    description: "No ProxyConfig, WorkloadEntry, WorkloadGroup, IstioOperator or WasmPlugin: the AKS Istio add-on blocks these resources.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Remove the resource. Proxy settings go into the shared MeshConfig (istio-shared-configmap-<revision>) or the proxy.istio.io/config pod annotation; VM workloads and Wasm extensions are not available with the add-on.",
    scope: "resource",
    settings: [],
    kinds: BLOCKED,
    check(obj) {
        return [{ message: `${asString(obj.kind)} is blocked by the AKS Istio add-on's admission webhooks` }];
    },
};

export const envoyFilterUnsupported: ResourceRule = {
    name: "envoy-filter-unsupported",
    description: "EnvoyFilter is allowed by the AKS add-on but outside its support scope, and patches Envoy internals that change between revisions.",
    severity: "medium",
    enforcement: "advisory",
    remediation: "Prefer first-class APIs (Telemetry, AuthorizationPolicy, DestinationRule, VirtualService); if an EnvoyFilter is unavoidable, re-test it before every revision upgrade.",
    scope: "resource",
    settings: [],
    kinds: [GK.envoyFilter],
    check() {
        return [{ message: "EnvoyFilter is outside the AKS Istio add-on's support scope; re-test it on every revision upgrade" }];
    },
};

const RELATIVE = ["INSERT_BEFORE", "INSERT_AFTER", "REPLACE", "REMOVE"];
const ROUTE_LEVEL = ["ROUTE_CONFIGURATION", "HTTP_ROUTE"];
const FILTER_LEVEL = ["HTTP_FILTER", "NETWORK_FILTER"];

export const envoyFilterPatches: ResourceRule = {
    name: "envoy-filter-patches",
    description: "EnvoyFilter patches use operations valid for their applyTo, and relative operations set a priority (istioctl's EnvoyFilter checks).",
    severity: "medium",
    enforcement: "advisory",
    remediation: "Set spec.priority when using INSERT_BEFORE/INSERT_AFTER/REPLACE/REMOVE; use REPLACE only on HTTP_FILTER/NETWORK_FILTER and no ADD/REMOVE on ROUTE_CONFIGURATION/HTTP_ROUTE.",
    code: "IST0151, IST0152, IST0153, IST0154, IST0155",
    scope: "resource",
    settings: [],
    kinds: [GK.envoyFilter],
    check(ef) {
        const issues: Issue[] = [];
        const priority = at(ef, "spec", "priority") ?? 0;
        // Names of filters earlier patches pin to a proxyVersion: a relative op on them is fragile across upgrades.
        const versioned: string[] = [];
        for (const [i, patch] of asArray(at(ef, "spec", "configPatches")).entries()) {
            if (at(patch, "patch") === undefined) {
                break;
            }
            const op = asString(at(patch, "patch", "operation")) ?? "";
            const applyTo = asString(at(patch, "applyTo")) ?? "";
            const name = at(patch, "patch", "value") === undefined ? ""
                : asString(at(patch, "patch", "value", "name")) ?? asString(at(patch, "match", "listener", "filterChain", "filter", "name")) ?? "";
            const where = `configPatches[${i}]`;
            if (op === "ADD" && ROUTE_LEVEL.includes(applyTo)) {
                issues.push({ code: "IST0153", message: `${where}: ADD on ${applyTo} is ignored; use MERGE` });
            } else if (op === "REMOVE" && ROUTE_LEVEL.includes(applyTo)) {
                issues.push({ code: "IST0154", message: `${where}: REMOVE on ${applyTo} is ignored` });
            } else if (op === "REPLACE" && !FILTER_LEVEL.includes(applyTo)) {
                issues.push({ code: "IST0152", message: `${where}: REPLACE only works on HTTP_FILTER or NETWORK_FILTER, not ${applyTo || "an unset applyTo"}` });
            } else if (RELATIVE.includes(op) && priority === 0) {
                issues.push(versioned.includes(name)
                    ? { code: "IST0155", message: `${where}: relative operation ${op} on ${name}, which another patch pins to a proxyVersion, without spec.priority` }
                    : { code: "IST0151", message: `${where}: relative operation ${op} without spec.priority; the result depends on the order filters are applied` });
            }
            if (asString(at(patch, "match", "proxy", "proxyVersion"))) {
                versioned.push(name);
            }
        }
        return issues;
    },
};
