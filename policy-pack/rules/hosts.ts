/**
 * Istio host names as istioctl analyze resolves them: short names are relative to the referring
 * object's namespace, `name.ns.svc.cluster.local` names a Service, anything else (dotted or
 * wildcard) is taken literally; Services and ServiceEntries are visible per their exportTo.
 */
import { annotationsOf, asArray, asString, asStrings, at, GK, groupKind, namespaceOf, nameOf, stringMap } from "./k8s";
import { EgressGatewaySetting, egressGatewayLabels } from "./config";
import { KubeObject } from "./types";

const DOMAIN = "svc.cluster.local";
const SVC_FQDN = /^(.+)\.(.+)\.svc\.cluster\.local$/;

export function toFqdn(host: string, ns: string): string {
    return host.startsWith("*") || host.includes(".") ? host : `${host}.${ns}.${DOMAIN}`;
}

/** The `namespace/name` a host refers to (for a non-Service host: the referring namespace plus the literal host). */
export function resourceKey(host: string, ns: string): string {
    const m = SVC_FQDN.exec(toFqdn(host, ns));
    return m ? `${m[2]}/${m[1]}` : `${ns}/${host}`;
}

/** Host overlap as Istio defines it: equal, or a wildcard (`*.x`, `*`) covering the other's suffix. */
export function hostsOverlap(a: string, b: string): boolean {
    const aw = a.startsWith("*");
    const bw = b.startsWith("*");
    if (aw && bw) {
        return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
    }
    if (aw) {
        return b.endsWith(a.slice(1));
    }
    if (bw) {
        return a.endsWith(b.slice(1));
    }
    return a === b;
}

export interface HostEntry {
    /** FQDN (or ServiceEntry host, possibly a wildcard). */
    readonly host: string;
    /** Read on demand, so rules that only need the host do not touch (possibly unknown) port lists. */
    ports(): number[];
    /** Namespaces that see it; `*` for all. */
    readonly scopes: readonly string[];
    readonly object: KubeObject;
}

function scopes(exportTo: readonly string[], ownNs: string): string[] {
    if (exportTo.length === 0 || exportTo.includes("*")) {
        return ["*"];
    }
    return exportTo.map((e) => (e === "." ? ownNs : e));
}

function portNumbers(o: KubeObject, field: "port" | "number"): number[] {
    return asArray(at(o, "spec", "ports")).map((p) => at(p, field)).filter((p): p is number => typeof p === "number");
}

/** Ports of an add-on egress gateway's Service, as the AKS add-on's gateway charts expose them. */
const EGRESS_GATEWAY_PORTS = [80, 443];

/**
 * Every host Services and ServiceEntries in the set define, plus the Services of the add-on's
 * egress gateways (`egressGateways`), which exist in the cluster though no stack creates them.
 */
export function hostRegistry(objects: readonly KubeObject[], egressGateways: readonly EgressGatewaySetting[] = []): HostEntry[] {
    const entries: HostEntry[] = egressGateways.map((g) => ({
        host: `${g.name}.${g.namespace}.${DOMAIN}`,
        ports: () => [...EGRESS_GATEWAY_PORTS],
        scopes: ["*"],
        object: { apiVersion: "v1", kind: "Service", metadata: { name: g.name, namespace: g.namespace }, spec: { selector: egressGatewayLabels(g) } },
    }));
    for (const o of objects) {
        const ns = namespaceOf(o);
        if (groupKind(o) === GK.service) {
            const exportTo = (annotationsOf(o)["networking.istio.io/exportTo"] ?? "").split(",").map((x) => x.trim()).filter((x) => x !== "");
            entries.push({
                host: `${nameOf(o) ?? ""}.${ns}.${DOMAIN}`,
                ports: () => portNumbers(o, "port"),
                scopes: scopes(exportTo, ns),
                object: o,
            });
        } else if (groupKind(o) === GK.serviceEntry) {
            for (const h of asStrings(at(o, "spec", "hosts"))) {
                entries.push({ host: toFqdn(h, ns), ports: () => portNumbers(o, "number"), scopes: scopes(asStrings(at(o, "spec", "exportTo")), ns), object: o });
            }
        }
    }
    return entries;
}

/**
 * Resolves a destination host from `sourceNs` (the VirtualService's or DestinationRule's namespace,
 * whose exportTo widens where it looks), exact names first, then wildcard ServiceEntries.
 */
export function resolveHost(registry: readonly HostEntry[], host: string, sourceNs: string, exportTo: readonly string[] = []): HostEntry | undefined {
    const fqdn = toFqdn(host, sourceNs);
    const visible = ["*", ...(exportTo.length === 0 ? [sourceNs] : exportTo.map((e) => (e === "." ? sourceNs : e)))];
    const exact = registry.find((e) => e.host === fqdn && e.scopes.some((s) => visible.includes(s)));
    if (exact) {
        return exact;
    }
    const bare = fqdn.startsWith("*") ? fqdn.slice(1) : fqdn;
    return registry.find((e) => e.host.startsWith("*") && (e.scopes.includes("*") || e.scopes.includes(sourceNs)) && bare.endsWith(e.host.slice(1)));
}

/** The Service (selector) behind a registry entry, when it is a Service. */
export function serviceSelector(entry: HostEntry): Record<string, string> | undefined {
    return groupKind(entry.object) === GK.service ? stringMap(at(entry.object, "spec", "selector")) : undefined;
}

export function exportToOf(obj: KubeObject): string[] {
    return asStrings(at(obj, "spec", "exportTo"));
}

export function hostOf(obj: KubeObject): string {
    return asString(at(obj, "spec", "host")) ?? "";
}
