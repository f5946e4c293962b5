/**
 * VirtualService references, resolved the way istioctl analyze resolves them: gateways exist,
 * destination hosts/ports/subsets exist, hosts are served by the bound gateways, and no two
 * mesh-bound VirtualServices claim one host.
 */
import { asArray, asString, asStrings, at, GK, namespaceOf, nameOf, ofKind } from "./k8s";
import { exportToOf, hostOf, hostRegistry, hostsOverlap, resolveHost, resourceKey, toFqdn } from "./hosts";
import { Finding, StackRule } from "./rule";
import { KubeObject } from "./types";

const MESH = "mesh";

interface Destination {
    readonly where: string;
    readonly host: string;
    readonly subset?: string;
    readonly port?: number;
}

function destination(where: string, d: unknown): Destination {
    const port = at(d, "port", "number");
    return { where, host: asString(at(d, "host")) ?? "", subset: asString(at(d, "subset")), port: typeof port === "number" ? port : undefined };
}

/** Route destinations of http/tcp/tls routes plus HTTP mirrors. */
function destinations(vs: KubeObject): Destination[] {
    const out: Destination[] = [];
    for (const section of ["http", "tcp", "tls"]) {
        asArray(at(vs, "spec", section)).forEach((route, i) => {
            asArray(at(route, "route")).forEach((r, j) => out.push(destination(`${section}[${i}].route[${j}]`, at(r, "destination"))));
            if (section === "http") {
                if (at(route, "mirror") !== undefined) {
                    out.push(destination(`http[${i}].mirror`, at(route, "mirror")));
                }
                asArray(at(route, "mirrors")).forEach((m, j) => out.push(destination(`http[${i}].mirrors[${j}]`, at(m, "destination"))));
            }
        });
    }
    return out;
}

function gatewaysOf(vs: KubeObject): string[] {
    return asStrings(at(vs, "spec", "gateways"));
}

/** `ns/name`, or a short name in the VirtualService's namespace. */
function gatewayId(ref: string, vsNs: string): string {
    return ref.includes("/") ? ref : `${vsNs}/${ref}`;
}

function idOf(o: KubeObject): string {
    return `${namespaceOf(o)}/${nameOf(o) ?? ""}`;
}

function findGateway(objects: readonly KubeObject[], id: string): KubeObject | undefined {
    return ofKind(objects, GK.gateway).find((g) => idOf(g) === id);
}

export const virtualServiceReferences: StackRule = {
    name: "virtual-service-references",
    description: "VirtualService gateways exist, destination hosts are Services/ServiceEntries visible from its namespace (short names resolve there, FQDN name.ns.svc.cluster.local elsewhere), ports exist and subsets are defined in a DestinationRule.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Create the missing Gateway/Service/DestinationRule subset or fix the reference; for a Service in another namespace use name.namespace.svc.cluster.local.",
    code: "IST0101",
    scope: "stack",
    settings: ["egressGateways"],
    kinds: [GK.virtualService, GK.gateway, GK.service, GK.serviceEntry, GK.destinationRule],
    check(objects, s) {
        const registry = hostRegistry(objects, s.egressGateways);
        const subsets = new Set(ofKind(objects, GK.destinationRule).flatMap((dr) =>
            asArray(at(dr, "spec", "subsets")).map((s) => `${resourceKey(hostOf(dr), namespaceOf(dr))}+${asString(at(s, "name")) ?? ""}`)));
        const findings: Finding[] = [];
        for (const vs of ofKind(objects, GK.virtualService)) {
            const ns = namespaceOf(vs);
            for (const ref of gatewaysOf(vs)) {
                if (ref !== MESH && !findGateway(objects, gatewayId(ref, ns))) {
                    findings.push({ object: vs, code: "IST0101", message: `gateway ${ref} not found (looked for ${gatewayId(ref, ns)})` });
                }
            }
            for (const d of destinations(vs)) {
                const entry = resolveHost(registry, d.host, ns, exportToOf(vs));
                if (!entry) {
                    findings.push({ object: vs, code: "IST0101", message: `${d.where}: host ${d.host} matches no Service or ServiceEntry visible from namespace ${ns}` });
                } else if (d.port !== undefined && entry.ports().length > 0 && !entry.ports().includes(d.port)) {
                    findings.push({ object: vs, code: "IST0101", message: `${d.where}: ${d.host} has no port ${d.port} (ports: ${entry.ports().join(", ")})` });
                }
                if (d.subset && !subsets.has(`${resourceKey(d.host, ns)}+${d.subset}`)) {
                    findings.push({ object: vs, code: "IST0101", message: `${d.where}: subset ${d.subset} of ${d.host} is not defined in any DestinationRule` });
                }
            }
        }
        return findings;
    },
};

export const virtualServiceDestinationPort: StackRule = {
    name: "virtual-service-destination-port",
    description: "A VirtualService routing to a Service with several ports names the destination port.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Add destination.port.number for routes to multi-port Services.",
    code: "IST0112",
    scope: "stack",
    settings: ["egressGateways"],
    kinds: [GK.virtualService, GK.service, GK.serviceEntry],
    check(objects, s) {
        const registry = hostRegistry(objects, s.egressGateways);
        const findings: Finding[] = [];
        for (const vs of ofKind(objects, GK.virtualService)) {
            for (const d of destinations(vs)) {
                const entry = d.port === undefined ? resolveHost(registry, d.host, namespaceOf(vs), exportToOf(vs)) : undefined;
                if (entry && entry.ports().length > 1) {
                    findings.push({ object: vs, code: "IST0112", message: `${d.where}: ${d.host} exposes ports ${entry.ports().join(", ")}; set destination.port` });
                }
            }
        }
        return findings;
    },
};

/** Hosts a Gateway offers to VirtualServices in `vsNs` (`ns/host` only to that namespace, `./host` to the Gateway's). */
function gatewayHostsFor(gw: KubeObject, vsNs: string): string[] {
    const gwNs = namespaceOf(gw);
    return asArray(at(gw, "spec", "servers")).flatMap((server) => asStrings(at(server, "hosts"))).flatMap((h) => {
        const i = h.indexOf("/");
        if (i < 0) {
            return [h];
        }
        const scope = h.slice(0, i) === "." ? gwNs : h.slice(0, i);
        return scope === "*" || scope === vsNs ? [h.slice(i + 1)] : [];
    });
}

export const virtualServiceGatewayHosts: StackRule = {
    name: "virtual-service-gateway-hosts",
    description: "A VirtualService bound to a Gateway has a host that Gateway serves to its namespace (a missing Gateway serves none).",
    severity: "medium",
    enforcement: "advisory",
    remediation: "Make spec.hosts match a host in the Gateway's servers[].hosts (and its namespace scope, ns/host).",
    code: "IST0132",
    scope: "stack",
    settings: [],
    kinds: [GK.virtualService, GK.gateway],
    check(objects) {
        const findings: Finding[] = [];
        for (const vs of ofKind(objects, GK.virtualService)) {
            const ns = namespaceOf(vs);
            const vsHosts = asStrings(at(vs, "spec", "hosts"));
            for (const ref of gatewaysOf(vs)) {
                if (ref === MESH) {
                    continue;
                }
                const id = gatewayId(ref, ns);
                const gw = findGateway(objects, id);
                if (!gw) {
                    findings.push({ object: vs, code: "IST0132", message: `gateway ${id} does not exist, so it serves none of the hosts ${vsHosts.join(", ")}` });
                } else if (!gatewayHostsFor(gw, ns).some((gh) => vsHosts.some((h) => hostsOverlap(gh, h)))) {
                    findings.push({ object: vs, code: "IST0132", message: `none of the hosts ${vsHosts.join(", ")} is served by gateway ${idOf(gw)} to namespace ${ns}` });
                }
            }
        }
        return findings;
    },
};

/** Namespaces a mesh-bound VirtualService's hosts are visible in: `*` for all (no exportTo, or one holding `*`). */
function meshScopes(vs: KubeObject): string[] {
    const exportTo = exportToOf(vs);
    return exportTo.length === 0 || exportTo.includes("*") ? ["*"] : [...new Set(exportTo.map((e) => (e === "." ? namespaceOf(vs) : e)))];
}

export const virtualServiceMeshHostConflicts: StackRule = {
    name: "virtual-service-mesh-host-conflicts",
    description: "No two VirtualServices bound to the mesh gateway define the same host for the same namespaces, counting a VirtualService exported to all namespaces in every scope (Istio's behaviour is then undefined).",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Merge the routes into one VirtualService per host, or narrow exportTo of every VirtualService for that host so the scopes do not overlap.",
    code: "IST0109",
    scope: "stack",
    settings: [],
    kinds: [GK.virtualService],
    check(objects) {
        const byHost = new Map<string, { scope: string; host: string; list: KubeObject[] }>();
        for (const vs of ofKind(objects, GK.virtualService)) {
            const gateways = gatewaysOf(vs);
            if (gateways.length > 0 && !gateways.includes(MESH)) {
                continue;
            }
            for (const scope of meshScopes(vs)) {
                for (const h of new Set(asStrings(at(vs, "spec", "hosts")))) {
                    const host = toFqdn(h, namespaceOf(vs));
                    const key = `${scope}/${host}`;
                    const entry = byHost.get(key) ?? { scope, host, list: [] };
                    entry.list.push(vs);
                    byHost.set(key, entry);
                }
            }
        }
        // As istioctl: a scoped host also conflicts with the VirtualServices exported everywhere whose host covers it.
        const everywhere = [...byHost.values()].filter((e) => e.scope === "*");
        const findings: Finding[] = [];
        const reported = new Set<KubeObject>();
        for (const [key, { scope, host, list }] of byHost) {
            const all = scope === "*" ? list : [...list, ...everywhere.filter((e) => hostsOverlap(e.host, host)).flatMap((e) => e.list)];
            if (all.length < 2) {
                continue;
            }
            for (const vs of all.filter((v) => !reported.has(v))) {
                reported.add(vs);
                findings.push({ object: vs, code: "IST0109", message: `host ${key} is also defined by ${all.filter((o) => o !== vs).map(idOf).join(", ")} on the mesh gateway` });
            }
        }
        return findings;
    },
};
