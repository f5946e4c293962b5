import { ROOT_NAMESPACE } from "../policy-pack/lib/aks";
import { serviceAccountName } from "./app";
import type { AppSpec, IngressSpec, JwtIssuer } from "./apps/spec";
import { AuthorizationPolicySpec, PeerAuthenticationSpec, RequestAuthenticationSpec, SidecarSpec } from "./istio";
import { serviceHost } from "./routing";

/**
 * Pure derivations of an app's security objects: least-privilege authorization from its call
 * graph, STRICT mTLS with the declared exceptions, and the Sidecar's egress scope.
 */

/** SPIFFE principal of a ServiceAccount (trust domain cluster.local, the add-on's). */
export function principal(namespace: string, serviceAccount: string): string {
    return `cluster.local/ns/${namespace}/sa/${serviceAccount}`;
}

/** A call from a service of one app into a service of another app of the stack (`to: <app>/<service>`). */
export interface CrossAppCall {
    readonly callerNamespace: string;
    readonly callerServiceAccount: string;
    readonly calleeNamespace: string;
    readonly calleeService: string;
    /** The callee's Service port. */
    readonly port: number;
}

/** Every call between apps of the stack, resolved to namespaces and identities (config has checked the names). */
export function crossAppCalls(apps: readonly AppSpec[]): CrossAppCall[] {
    const byName = new Map(apps.map((a) => [a.name, a]));
    return apps.flatMap((caller) => caller.calls.filter((c) => c.to.includes("/")).map((c): CrossAppCall => {
        const [app, service] = c.to.split("/");
        const from = caller.services.find((s) => s.name === c.from)!;
        return {
            callerNamespace: caller.namespace,
            callerServiceAccount: serviceAccountName(from),
            calleeNamespace: byName.get(app)!.namespace,
            calleeService: service,
            port: c.port,
        };
    }));
}

/** Namespaces of other apps that call a service of `namespace`, by service name. */
export function callerNamespaces(namespace: string, calls: readonly CrossAppCall[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const c of calls.filter((x) => x.calleeNamespace === namespace && x.callerNamespace !== namespace)) {
        out.set(c.calleeService, [...new Set([...(out.get(c.calleeService) ?? []), c.callerNamespace])].sort());
    }
    return out;
}

/** Sidecar egress hosts (`namespace/fqdn`) of the services in other apps that `namespace` calls. */
export function calleeHosts(namespace: string, calls: readonly CrossAppCall[]): string[] {
    return [...new Set(calls.filter((c) => c.callerNamespace === namespace && c.calleeNamespace !== namespace)
        .map((c) => egressHost(serviceHost(c.calleeService, c.calleeNamespace))))].sort();
}

/** An ALLOW policy for one destination workload, named after it. */
export interface WorkloadPolicy {
    readonly name: string;
    readonly spec: AuthorizationPolicySpec;
}

/**
 * One ALLOW policy per service that is called: a rule per port (the workload's container port,
 * which is what AuthorizationPolicy matches) listing exactly the callers' principals, plus the
 * principals of the ingress gateways serving the app on entry services, and the callers from other apps (`inbound`, in
 * their own namespaces). Services nobody calls get no policy, so the namespace's allow-nothing
 * policy denies them everything.
 */
export function authorizationRules(app: AppSpec, gatewayPrincipals: readonly string[], inbound: readonly CrossAppCall[] = []): WorkloadPolicy[] {
    const byName = new Map(app.services.map((s) => [s.name, s]));
    const callers = new Map<string, Map<number, Set<string>>>();
    const allow = (to: string, servicePort: number, who: string) => {
        const svc = byName.get(to)!;
        const p = svc.ports.find((x) => x.port === servicePort)!;
        const ports = callers.get(to) ?? new Map<number, Set<string>>();
        const target = p.targetPort ?? p.port;
        ports.set(target, (ports.get(target) ?? new Set()).add(who));
        callers.set(to, ports);
    };
    for (const call of app.calls.filter((c) => !c.to.includes("/"))) {
        allow(call.to, call.port, principal(app.namespace, serviceAccountName(byName.get(call.from)!)));
    }
    for (const call of inbound.filter((c) => c.calleeNamespace === app.namespace)) {
        allow(call.calleeService, call.port, principal(call.callerNamespace, call.callerServiceAccount));
    }
    // Where a route of a service requires end-user auth, the gateway's access to that service is
    // per route: its paths, with a request principal of the issuer where required.
    type GatewayRule = { port: number; issuer?: string; principals: Set<string>; paths: string[] };
    const guarded = new Map<string, GatewayRule[]>();
    const authed = new Set(app.ingress.filter((r) => r.requireAuth).map((r) => r.service));
    for (const gatewayPrincipal of gatewayPrincipals) {
        for (const ing of app.ingress) {
            if (!authed.has(ing.service)) {
                allow(ing.service, ing.port, gatewayPrincipal);
                continue;
            }
            const svc = byName.get(ing.service)!;
            const p = svc.ports.find((x) => x.port === ing.port)!;
            const issuer = ing.requireAuth ? issuerOf(app, ing)!.issuer : undefined;
            const rules = guarded.get(ing.service) ?? [];
            const port = p.targetPort ?? p.port;
            const rule = rules.find((r) => r.port === port && r.issuer === issuer)
                ?? (rules.push({ port, issuer, principals: new Set(), paths: [] }), rules[rules.length - 1]);
            rule.principals.add(gatewayPrincipal);
            rule.paths.push(...ing.paths.map((x) => (x.match === "exact" ? x.path : `${x.path}*`)).filter((x) => !rule.paths.includes(x)));
            guarded.set(ing.service, rules);
        }
    }
    return app.services.filter((s) => callers.has(s.name) || guarded.has(s.name)).map((s) => ({
        name: `allow-${s.name}`,
        spec: {
            selector: { matchLabels: { app: s.name } },
            action: "ALLOW",
            rules: [
                ...[...(callers.get(s.name) ?? [])].sort(([a], [b]) => a - b).map(([port, who]) => ({
                    from: [{ source: { principals: [...who].sort() } }],
                    to: [{ operation: { ports: [String(port)] } }],
                })),
                ...(guarded.get(s.name) ?? []).map((r) => ({
                    from: [{ source: { principals: [...r.principals].sort(), ...(r.issuer ? { requestPrincipals: [`${r.issuer}/*`] } : {}) } }],
                    to: [{ operation: { ports: [String(r.port)], paths: r.paths } }],
                })),
            ],
        },
    }));
}

/** The issuer of a route's tokens: its own, else the app's. */
export function issuerOf(app: AppSpec, route: IngressSpec): JwtIssuer | undefined {
    return route.auth ?? app.auth;
}

/** A named RequestAuthentication of an app namespace. */
export interface NamedRequestAuthentication {
    readonly name: string;
    readonly spec: RequestAuthenticationSpec;
}

/**
 * One RequestAuthentication per entry service with a route that requires auth, validating the
 * tokens of those routes' issuers (the route's own, else the app's). The token is required by the
 * ALLOW rule's request principal on those routes' paths.
 */
export function requestAuthentications(app: AppSpec): NamedRequestAuthentication[] {
    const byService = new Map<string, JwtIssuer[]>();
    // Only issuers a route requires: a token validated but never required lets requests without one through.
    for (const route of app.ingress.filter((r) => r.requireAuth)) {
        const issuer = issuerOf(app, route);
        const list = byService.get(route.service) ?? [];
        if (issuer && !list.some((i) => i.issuer === issuer.issuer)) {
            list.push(issuer);
        }
        byService.set(route.service, list);
    }
    return [...byService].filter(([, issuers]) => issuers.length > 0).map(([service, issuers]) => ({
        name: `end-user-${service}`,
        spec: { selector: { matchLabels: { app: service } }, jwtRules: issuers.map((i) => ({ issuer: i.issuer, jwksUri: i.jwksUri })) },
    }));
}

/** A reviewed carve-out from STRICT mTLS: the selected workloads (or one port of them) accept plain text. */
export interface MtlsException {
    /** Namespace of the workloads. */
    readonly namespace: string;
    /** Pod labels of the workloads relaxed. */
    readonly selector: Readonly<Record<string, string>>;
    /** Only this (container) port is PERMISSIVE; omit for every port of the workloads. */
    readonly port?: number;
    /** Why the exception exists, for reviewers. */
    readonly reason: string;
}

/** A named PeerAuthentication of an app namespace. */
export interface NamedPeerAuthentication {
    readonly name: string;
    readonly spec: PeerAuthenticationSpec;
}

/**
 * The namespace-wide STRICT policy, and one workload policy per declared exception: PERMISSIVE on
 * the one port when given (the rest stays STRICT), else on every port of the selected workloads.
 */
export function peerAuthentications(namespace: string, exceptions: readonly MtlsException[]): NamedPeerAuthentication[] {
    const own = exceptions.filter((e) => e.namespace === namespace);
    return [
        { name: "default", spec: { mtls: { mode: "STRICT" } } },
        ...own.map((e, i): NamedPeerAuthentication => ({
            name: `mtls-exception-${i}`,
            spec: {
                selector: { matchLabels: { ...e.selector } },
                ...(e.port === undefined
                    ? { mtls: { mode: "PERMISSIVE" } }
                    : { mtls: { mode: "STRICT" }, portLevelMtls: { [String(e.port)]: { mode: "PERMISSIVE" } } }),
            },
        })),
    ];
}

/**
 * Egress scope of the app's sidecars: its own namespace, the control plane and `extraHosts` (the
 * services of other apps it calls, the tracing collector, the egress gateway), with the stack's outbound policy (REGISTRY_ONLY blocks hosts outside the registry).
 */
export function sidecarSpec(outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY", extraHosts: readonly string[] = []): SidecarSpec {
    return { egress: [{ hosts: ["./*", `${ROOT_NAMESPACE}/*`, ...extraHosts] }], outboundTrafficPolicy: { mode: outboundTrafficPolicy } };
}

/** A Service FQDN (`name.namespace.svc...`) as a Sidecar egress host, `namespace/fqdn`. */
export function egressHost(serviceFqdn: string): string {
    return `${serviceFqdn.split(".")[1]}/${serviceFqdn}`;
}
