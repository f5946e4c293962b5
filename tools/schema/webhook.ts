/**
 * Checks istiod's validating webhook makes that the CRD schemas (OpenAPI + CEL) do not. Each is a small
 * function over the plain object; they read defensively because the schema check reports wrong types.
 */
import { Finding, asList, asRecord, pointer } from "./finding";
import { isDns1123Label } from "./metadata";

type Check = (object: Record<string, unknown>) => Finding[];

const specOf = (object: Record<string, unknown>) => asRecord(object.spec) ?? {};
const webhook = (path: string, message: string): Finding => ({ path, message, rule: "webhook" });

/** Every HTTP route must say where traffic goes: route, redirect, directResponse or a delegate. */
export const httpRouteHasAction: Check = (object) =>
    asList(specOf(object).http).flatMap((item, i) => {
        const route = asRecord(item);
        if (!route) return [];
        const acts = asList(route.route).length > 0 || route.redirect !== undefined || route.directResponse !== undefined || route.delegate !== undefined;
        return acts ? [] : [webhook(pointer("/spec/http", i), "HTTP route needs a route, redirect or directResponse")];
    });

/** Weights may not be negative, and several destinations may not all weigh 0 (a 70/20 split is fine since Istio 1.15). */
export const routeWeights: Check = (object) => {
    const spec = specOf(object);
    return (["http", "tcp", "tls"] as const).flatMap((section) =>
        asList(spec[section]).flatMap((item, i) => {
            const destinations = asList(asRecord(item)?.route);
            const at = pointer("/spec", section, i, "route");
            const weights = destinations.map((d) => {
                const weight = asRecord(d)?.weight;
                return typeof weight === "number" ? weight : 0;
            });
            const findings = weights.flatMap((w, j) => (w < 0 ? [webhook(pointer(at, j, "weight"), `weight ${w} is negative`)] : []));
            if (weights.length > 1 && weights.reduce((a, b) => a + b, 0) === 0) {
                findings.push(webhook(at, `total weight of ${weights.length} destinations is 0; give at least one a positive weight`));
            }
            return findings;
        }),
    );
};

/** istiod uses a Gateway's name in generated resource names, so it must be a DNS-1123 label, not just a subdomain. */
export const gatewayName: Check = (object) => {
    const name = asRecord(object.metadata)?.name;
    return typeof name === "string" && !isDns1123Label(name)
        ? [webhook("/metadata/name", `Gateway name "${name}" must be a DNS-1123 label (no dots, at most 63 characters)`)]
        : [];
};

/** The schema allows any uint32 port; a listener needs 1-65535. */
export const gatewayServerPorts: Check = (object) =>
    asList(specOf(object).servers).flatMap((server, i) => {
        const number = asRecord(asRecord(server)?.port)?.number;
        return typeof number === "number" && (number < 1 || number > 65535)
            ? [webhook(pointer("/spec/servers", i, "port", "number"), `port ${number} is outside 1-65535`)]
            : [];
    });

/** HTTPS and TLS servers terminate or pass through TLS, so they need `tls` settings. */
export const gatewayServerTls: Check = (object) =>
    asList(specOf(object).servers).flatMap((item, i) => {
        const server = asRecord(item);
        const protocol = asRecord(server?.port)?.protocol;
        const tlsProtocol = typeof protocol === "string" && ["HTTPS", "TLS"].includes(protocol.toUpperCase());
        return server && tlsProtocol && server.tls === undefined
            ? [webhook(pointer("/spec/servers", i, "tls"), `${protocol} server needs tls settings`)]
            : [];
    });

/** CUSTOM delegates to an extension provider and needs rules to trigger; DENY without rules never triggers. */
export const authorizationPolicyAction: Check = (object) => {
    const spec = specOf(object);
    const action = typeof spec.action === "string" ? spec.action : "ALLOW";
    const hasRules = asList(spec.rules).length > 0;
    const providerName = asRecord(spec.provider)?.name;
    const findings: Finding[] = [];
    if (action === "CUSTOM" && !hasRules) {
        findings.push(webhook("/spec/rules", "CUSTOM action without rules never triggers; add an empty rule {} to match every request"));
    }
    if (action === "CUSTOM" && hasRules && (typeof providerName !== "string" || providerName === "")) {
        findings.push(webhook("/spec/provider/name", "CUSTOM action needs provider.name (an extension provider from the mesh config)"));
    }
    if (action !== "CUSTOM" && spec.provider !== undefined) {
        findings.push(webhook("/spec/provider", `provider is only allowed with action CUSTOM, not ${action}`));
    }
    if (action === "DENY" && !hasRules) {
        findings.push(webhook("/spec/rules", "DENY action without rules never triggers; add an empty rule {} to deny every request"));
    }
    return findings;
};

/** An egress listener with an empty host list imports nothing (a missing list is the schema's `required`). */
export const sidecarEgressHosts: Check = (object) =>
    asList(specOf(object).egress).flatMap((listener, i) => {
        const hosts = asRecord(listener)?.hosts;
        return Array.isArray(hosts) && hosts.length === 0
            ? [webhook(pointer("/spec/egress", i, "hosts"), "egress listener needs at least one host")]
            : [];
    });

/** Subsets are addressed by name from VirtualServices, so names must be unique. */
export const destinationRuleSubsetNames: Check = (object) => {
    const seen = new Set<unknown>();
    return asList(specOf(object).subsets).flatMap((subset, i) => {
        const name = asRecord(subset)?.name;
        if (name === undefined) return [];
        const duplicate = seen.has(name);
        seen.add(name);
        return duplicate ? [webhook(pointer("/spec/subsets", i, "name"), `duplicate subset name "${String(name)}"`)] : [];
    });
};

const CHECKS: Record<string, Check[]> = {
    "networking.istio.io/VirtualService": [httpRouteHasAction, routeWeights],
    "networking.istio.io/Gateway": [gatewayName, gatewayServerPorts, gatewayServerTls],
    "networking.istio.io/DestinationRule": [destinationRuleSubsetNames],
    "networking.istio.io/Sidecar": [sidecarEgressHosts],
    "security.istio.io/AuthorizationPolicy": [authorizationPolicyAction],
};

/** Runs the webhook checks registered for `group/kind` (none for other kinds). */
export function webhookChecks(group: string, kind: string, object: Record<string, unknown>): Finding[] {
    return (CHECKS[`${group}/${kind}`] ?? []).flatMap((check) => check(object));
}
