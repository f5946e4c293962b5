/**
 * What istiod's validating webhook refuses that the CRD schemas (OpenAPI + CEL) let through: the API
 * server would reject the apply, so each rule is mandatory. The CRD checks themselves stay in the
 * offline schema check (tools/schema), which needs the CRD bundle; these need only the object.
 */
import { asArray, asRecord, asString, at, GK, isDns1123Label, nameOf } from "./k8s";
import { Issue, ResourceRule } from "./rule";

const WEBHOOK = "istiod's validating webhook refuses the object, so the apply fails";

export const virtualServiceRouteAction: ResourceRule = {
    name: "virtual-service-route-action",
    description: "Every HTTP route of a VirtualService says where traffic goes: route, redirect, directResponse or delegate.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Give each spec.http[] entry a route (destinations), a redirect, a directResponse or a delegate; ${WEBHOOK}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.virtualService],
    check(vs) {
        return asArray(at(vs, "spec", "http")).flatMap((route, i): Issue[] => {
            if (!asRecord(route)) {
                return [];
            }
            const acts = asArray(at(route, "route")).length > 0 || ["redirect", "directResponse", "delegate"].some((k) => at(route, k) !== undefined);
            return acts ? [] : [{ message: `spec.http[${i}] needs a route, redirect or directResponse` }];
        });
    },
};

export const virtualServiceRouteWeights: ResourceRule = {
    name: "virtual-service-route-weights",
    description: "Route weights are not negative, and several destinations do not all weigh 0.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Use weights of 0 or more with at least one positive weight per route (a 70/20 split is fine since Istio 1.15); ${WEBHOOK}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.virtualService],
    check(vs) {
        return (["http", "tcp", "tls"] as const).flatMap((section) =>
            asArray(at(vs, "spec", section)).flatMap((item, i): Issue[] => {
                const weights = asArray(at(item, "route")).map((d) => {
                    const w = at(d, "weight");
                    return typeof w === "number" ? w : 0;
                });
                const issues = weights.flatMap((w, j) => (w < 0 ? [{ message: `spec.${section}[${i}].route[${j}].weight ${w} is negative` }] : []));
                if (weights.length > 1 && weights.reduce((a, b) => a + b, 0) === 0) {
                    issues.push({ message: `spec.${section}[${i}].route: total weight of ${weights.length} destinations is 0; give at least one a positive weight` });
                }
                return issues;
            }));
    },
};

export const gatewayName: ResourceRule = {
    name: "gateway-name",
    description: "A Gateway's name is a DNS-1123 label (no dots): istiod uses it in generated resource names.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Rename the Gateway to lower-case letters, digits and '-', at most 63 characters (e.g. shop-gateway, not shop.gateway); ${WEBHOOK}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.gateway],
    check(gw) {
        const name = nameOf(gw);
        // istiod uses the name inside generated resource names: a DNS-1123 label, not a subdomain.
        return name !== undefined && !isDns1123Label(name)
            ? [{ message: `name "${name}" must be a DNS-1123 label (no dots, at most 63 characters)` }]
            : [];
    },
};

export const gatewayPortRange: ResourceRule = {
    name: "gateway-port-range",
    description: "Gateway server ports are within 1-65535 (the CRD schema allows any uint32).",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Use a port from 1 to 65535 (on the AKS ingress gateways: 80 or 443); ${WEBHOOK}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.gateway],
    check(gw) {
        return asArray(at(gw, "spec", "servers")).flatMap((server, i): Issue[] => {
            const n = at(server, "port", "number");
            return typeof n === "number" && (n < 1 || n > 65535) ? [{ message: `spec.servers[${i}].port.number ${n} is outside 1-65535` }] : [];
        });
    },
};

export const authorizationPolicyAction: ResourceRule = {
    name: "authorization-policy-action",
    description: "An AuthorizationPolicy's action fits its rules and provider: CUSTOM names a provider and has rules, DENY has rules, only CUSTOM has a provider.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `For CUSTOM set provider.name (an extension provider of the MeshConfig) and at least one rule ({} matches every request); give DENY at least one rule; drop provider from ALLOW/DENY/AUDIT; ${WEBHOOK}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.authorizationPolicy],
    check(ap) {
        const action = asString(at(ap, "spec", "action")) ?? "ALLOW";
        const hasRules = asArray(at(ap, "spec", "rules")).length > 0;
        const provider = at(ap, "spec", "provider");
        const issues: Issue[] = [];
        if (action === "CUSTOM" && !hasRules) {
            issues.push({ message: "spec.rules: CUSTOM action without rules never triggers; add an empty rule {} to match every request" });
        }
        if (action === "CUSTOM" && hasRules && !asString(at(provider, "name"))) {
            issues.push({ message: "spec.provider.name: CUSTOM action needs provider.name (an extension provider from the mesh config)" });
        }
        if (action !== "CUSTOM" && provider !== undefined) {
            issues.push({ message: `spec.provider is only allowed with action CUSTOM, not ${action}` });
        }
        if (action === "DENY" && !hasRules) {
            issues.push({ message: "spec.rules: DENY action without rules never triggers; add an empty rule {} to deny every request" });
        }
        return issues;
    },
};

export const sidecarEgressHosts: ResourceRule = {
    name: "sidecar-egress-hosts",
    description: "Every egress listener of a Sidecar imports at least one host.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `List the namespaces/hosts the workloads call in spec.egress[].hosts (e.g. ./* and aks-istio-system/*); ${WEBHOOK}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.sidecar],
    check(sc) {
        return asArray(at(sc, "spec", "egress")).flatMap((listener, i): Issue[] => {
            const hosts = at(listener, "hosts");
            return Array.isArray(hosts) && hosts.length === 0 ? [{ message: `spec.egress[${i}].hosts is empty; an egress listener needs at least one host` }] : [];
        });
    },
};

export const destinationRuleSubsetNames: ResourceRule = {
    name: "destination-rule-subset-names",
    description: "Subset names of a DestinationRule are unique: VirtualServices address subsets by name.",
    severity: "high",
    enforcement: "mandatory",
    remediation: `Give each spec.subsets[] entry its own name (usually the version label, v1, v2); ${WEBHOOK}.`,
    scope: "resource",
    settings: [],
    kinds: [GK.destinationRule],
    check(dr) {
        const seen = new Set<unknown>();
        return asArray(at(dr, "spec", "subsets")).flatMap((subset, i): Issue[] => {
            const name = at(subset, "name");
            if (name === undefined) {
                return [];
            }
            const duplicate = seen.has(name);
            seen.add(name);
            return duplicate ? [{ message: `spec.subsets[${i}].name "${String(name)}" is used by an earlier subset` }] : [];
        });
    },
};
