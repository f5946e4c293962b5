import { EgressGatewayInfo } from "../policy-pack/lib/aks";
import { principal } from "./authz";
import { serviceAccountName } from "./app";
import type { AppSpec, EgressSpec } from "./apps/spec";
import { AuthorizationPolicySpec, DestinationRuleSpec, GatewaySpec, ServiceEntrySpec, VirtualServiceSpec } from "./istio";

/**
 * The app side of external hosts: pure derivations of an app's ServiceEntries and, when the stack
 * runs an AKS egress gateway, the Gateway, routes and authorization that send the app's calls
 * through it. The cluster side (enabling the gateway on the ManagedCluster) is not here.
 */

/** An add-on egress gateway as apps address it: its name (the Service), namespace and pod selector (config builds it). */
export type EgressGatewayRef = EgressGatewayInfo;

/** Port of the egress gateway the sidecars send to, over ISTIO_MUTUAL: the identity the gateway authorizes. */
export const EGRESS_GATEWAY_PORT = 443;
/** Port the mesh opens TLS on when it originates TLS for a caller speaking plain HTTP. */
const TLS_PORT = 443;
/**
 * The CA bundle of the istio-proxy image: TLS the mesh originates verifies the host's certificate
 * against the public roots (the pack refuses SIMPLE without caCertificates).
 */
export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** Annotation on a ServiceEntry naming the services that declared the host (for reviewers and the mesh picture). */
export const EGRESS_CALLERS_ANNOTATION = "aks-istio-mesh/egress-from";

/** `api.example.com` → `api-example-com`: object and subset names derived from a host. */
export function hostSlug(host: string): string {
    return host.replace(/\./g, "-");
}

/** A named Istio object spec of one kind, in the namespace it belongs in. */
export interface Named<S> {
    readonly name: string;
    readonly namespace: string;
    readonly spec: S;
    readonly annotations?: Record<string, string>;
}

/** Every object the app's external hosts need. */
export interface EgressObjects {
    readonly serviceEntries: Named<ServiceEntrySpec>[];
    readonly destinationRules: Named<DestinationRuleSpec>[];
    readonly virtualServices: Named<VirtualServiceSpec>[];
    readonly gateways: Named<GatewaySpec>[];
    readonly authorizationPolicies: Named<AuthorizationPolicySpec>[];
}

const UPPER = { http: "HTTP", https: "HTTPS", tls: "TLS" } as const;

function gatewayHost(g: EgressGatewayRef): string {
    return `${g.name}.${g.namespace}.svc.cluster.local`;
}

/** The host as the mesh knows it: resolved by DNS (the add-on's egress gateway requires it), outside the mesh. */
function serviceEntry(app: AppSpec, e: EgressSpec, gateway: EgressGatewayRef | undefined): Named<ServiceEntrySpec> {
    const viaSidecar = e.originateTls && !gateway;
    const ports: NonNullable<ServiceEntrySpec["ports"]> = [{
        number: e.port,
        name: `${e.protocol}-${e.port}`,
        protocol: UPPER[e.protocol],
        // Without a gateway the caller's own sidecar opens TLS to the host's TLS port.
        ...(viaSidecar ? { targetPort: TLS_PORT } : {}),
    }];
    if (e.originateTls && gateway) {
        ports.push({ number: TLS_PORT, name: `https-${TLS_PORT}`, protocol: "HTTPS" });
    }
    return {
        name: `egress-${hostSlug(e.host)}`,
        namespace: app.namespace,
        annotations: { [EGRESS_CALLERS_ANNOTATION]: [...e.from].sort().join(",") },
        spec: {
            hosts: [e.host],
            location: "MESH_EXTERNAL",
            resolution: "DNS",
            ports,
            // The app's own sidecars, and the egress gateway that forwards for them.
            exportTo: gateway ? [".", gateway.namespace] : ["."],
        },
    };
}

/** TLS the mesh opens to the host (SIMPLE, verified against the public roots, SNI the host). */
function originationRule(app: AppSpec, e: EgressSpec, port: number, exportTo: string[]): Named<DestinationRuleSpec> {
    return {
        name: `egress-${hostSlug(e.host)}`,
        namespace: app.namespace,
        spec: {
            host: e.host,
            exportTo,
            trafficPolicy: { portLevelSettings: [{ port: { number: port }, tls: { mode: "SIMPLE", sni: e.host, caCertificates: SYSTEM_CA_BUNDLE } }] },
        },
    };
}

/**
 * The app's external hosts as Istio objects. Without an egress gateway: a ServiceEntry per host,
 * exported to the app's namespace only (plus a DestinationRule where the sidecar originates TLS).
 * With one, per host also: a Gateway server on the egress gateway (ISTIO_MUTUAL, so the gateway
 * sees the caller's identity), a VirtualService sending the sidecars' traffic to the gateway and
 * the gateway's on to the host, a subset of the gateway's DestinationRule setting the SNI, and an
 * AuthorizationPolicy on the gateway admitting only the declaring services' ServiceAccounts.
 */
export function egressObjects(app: AppSpec, gateway?: EgressGatewayRef): EgressObjects {
    const entries = app.egress ?? [];
    const out: EgressObjects = { serviceEntries: [], destinationRules: [], virtualServices: [], gateways: [], authorizationPolicies: [] };
    const accounts = new Map(app.services.map((s) => [s.name, serviceAccountName(s)]));
    for (const e of entries) {
        out.serviceEntries.push(serviceEntry(app, e, gateway));
        if (!gateway) {
            if (e.originateTls) {
                out.destinationRules.push(originationRule(app, e, e.port, ["."]));
            }
            continue;
        }
        const slug = hostSlug(e.host);
        const gatewayName = `${app.name}-${slug}`;
        const gatewayRef = `${gateway.namespace}/${gatewayName}`;
        const tlsFromCaller = e.protocol !== "http";
        out.gateways.push({
            name: gatewayName,
            namespace: gateway.namespace,
            spec: {
                selector: { ...gateway.selector },
                servers: [{
                    port: { number: EGRESS_GATEWAY_PORT, name: `${tlsFromCaller ? "tls" : "https"}-${slug}`, protocol: tlsFromCaller ? "TLS" : "HTTPS" },
                    hosts: [e.host],
                    tls: { mode: "ISTIO_MUTUAL" },
                }],
            },
        });
        const toGateway = [{ destination: { host: gatewayHost(gateway), subset: slug, port: { number: EGRESS_GATEWAY_PORT } } }];
        const hostPort = e.originateTls ? TLS_PORT : e.port;
        const toHost = [{ destination: { host: e.host, port: { number: hostPort } } }];
        out.virtualServices.push({
            name: `egress-${slug}`,
            namespace: app.namespace,
            spec: {
                hosts: [e.host],
                gateways: ["mesh", gatewayRef],
                exportTo: [".", gateway.namespace],
                ...(tlsFromCaller
                    ? {
                        tls: [{ match: [{ gateways: ["mesh"], port: e.port, sniHosts: [e.host] }], route: toGateway }],
                        // The gateway ends the mTLS and forwards the caller's own TLS stream as it is.
                        tcp: [{ match: [{ gateways: [gatewayRef], port: EGRESS_GATEWAY_PORT }], route: toHost }],
                    }
                    : {
                        http: [
                            { name: "to-egress-gateway", match: [{ gateways: ["mesh"], port: e.port }], route: toGateway },
                            { name: "to-host", match: [{ gateways: [gatewayRef], port: EGRESS_GATEWAY_PORT }], route: toHost },
                        ],
                    }),
            },
        });
        if (e.originateTls) {
            // The gateway opens TLS to the host; only the gateway's namespace needs the rule.
            out.destinationRules.push(originationRule(app, e, TLS_PORT, [gateway.namespace]));
        }
        const principals = [...e.from].map((s) => principal(app.namespace, accounts.get(s)!)).sort();
        out.authorizationPolicies.push({
            name: gatewayName,
            namespace: gateway.namespace,
            spec: {
                selector: { matchLabels: { ...gateway.selector } },
                action: "ALLOW",
                // The SNI of the sidecar's mTLS connection is the host (the subset sets it), for HTTP and TLS alike.
                rules: [{ from: [{ source: { principals } }], when: [{ key: "connection.sni", values: [e.host] }] }],
            },
        });
    }
    if (gateway && entries.length > 0) {
        out.destinationRules.push({
            name: "egress-gateway",
            namespace: app.namespace,
            spec: {
                host: gatewayHost(gateway),
                exportTo: ["."],
                subsets: entries.map((e) => ({
                    name: hostSlug(e.host),
                    trafficPolicy: { portLevelSettings: [{ port: { number: EGRESS_GATEWAY_PORT }, tls: { mode: "ISTIO_MUTUAL", sni: e.host } }] },
                })),
            },
        });
    }
    return out;
}

/** The Sidecar egress host of the egress gateway's Service (`namespace/fqdn`), which the app's sidecars send to. */
export function egressGatewaySidecarHost(gateway: EgressGatewayRef): string {
    return `${gateway.namespace}/${gatewayHost(gateway)}`;
}
