/**
 * A picture of the mesh from the objects a stack applies: ingress gateway → entry services →
 * callees, namespaces as boxes, versions with their weights, each edge marked with mTLS and
 * authorization, faults and rate limits noted. Derived from the manifests alone, so it shows what
 * the cluster would enforce, not what the specs intended.
 */

import { ROOT_NAMESPACE } from "../../policy-pack/lib/aks";

/** Annotation on an app's ServiceEntry naming the services that call the host (components/egress-gateway.ts). */
const EGRESS_CALLERS = "aks-istio-mesh/egress-from";

type Obj = Record<string, any>;

export interface MeshEdge {
    from: string;
    to: string;
    ports: string[];
    /** An ALLOW policy admits the caller's identity (or the namespace has no authorization at all). */
    authorized: boolean;
    /** The callee's namespace enforces STRICT mTLS. */
    mtls: boolean;
    label?: string;
    /** An edge to a host outside the mesh: whether the bytes leave encrypted (the caller's TLS, or TLS the mesh originates). */
    external?: { tls: boolean };
}

export interface MeshNode {
    id: string;
    namespace: string;
    name: string;
    /** Version → weight in percent, or undefined when no route splits traffic. */
    versions: { name: string; weight?: number }[];
    notes: string[];
}

export interface MeshGraph {
    gateways: string[];
    nodes: MeshNode[];
    edges: MeshEdge[];
    /** Hosts outside the mesh the apps call (ServiceEntries, MESH_EXTERNAL). */
    externals: string[];
}

const groupOf = (o: Obj) => String(o.apiVersion ?? "").split("/")[0];
const isKind = (o: Obj, group: string, kind: string) => groupOf(o) === group && o.kind === kind;
const ns = (o: Obj) => o.metadata?.namespace ?? "default";

/** `reviews`, `reviews.bookinfo`, `reviews.bookinfo.svc.cluster.local` → the Service's id. */
function resolveHost(host: string, fromNs: string): string {
    const parts = host.split(".");
    return `${parts[1] ?? fromNs}/${parts[0]}`;
}

/**
 * Whether a workload's ports only accept mTLS, the way Istio resolves PeerAuthentications: a
 * port-level mode, else the workload policy's mode, else the namespace's, else the root's.
 */
function strictMtls(objects: Obj[], rootNamespace: string): (namespace: string, app: string, ports: string[]) => boolean {
    const pas = objects.filter((o) => isKind(o, "security.istio.io", "PeerAuthentication"));
    const set = (mode: unknown) => (mode === undefined || mode === "UNSET" ? undefined : String(mode));
    const nsWide = (namespace: string) => set(pas.find((p) => ns(p) === namespace && !p.spec?.selector)?.spec?.mtls?.mode);
    return (namespace, app, ports) => {
        const inherited = nsWide(namespace) ?? nsWide(rootNamespace);
        const workload = pas.find((p) => ns(p) === namespace && p.spec?.selector?.matchLabels?.app === app);
        const base = set(workload?.spec?.mtls?.mode) ?? inherited;
        const levels = Object.keys(workload?.spec?.portLevelMtls ?? {});
        const modes = [base, ...levels.filter((port) => ports.length === 0 || ports.includes(port))
            .map((port) => set(workload!.spec.portLevelMtls[port]?.mode) ?? base)];
        return modes.every((m) => m === "STRICT");
    };
}

export function meshGraph(objects: Obj[], rootNamespace = ROOT_NAMESPACE): MeshGraph {
    const meshNamespaces = new Set(objects.filter((o) => o.kind === "Namespace" && o.metadata?.labels?.["istio.io/rev"]).map((o) => o.metadata.name));
    // Headless Services only name a StatefulSet's pods; callers use the ClusterIP Service.
    const services = objects.filter((o) => o.kind === "Service" && groupOf(o) === "v1" && meshNamespaces.has(ns(o)) && o.spec?.clusterIP !== "None");
    const workloads = objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind) && meshNamespaces.has(ns(o)));
    const vss = objects.filter((o) => isKind(o, "networking.istio.io", "VirtualService"));
    const strict = strictMtls(objects, rootNamespace);

    const nodes = new Map<string, MeshNode>();
    for (const s of services) {
        const id = `${ns(s)}/${s.metadata.name}`;
        const versions = workloads
            .filter((w) => ns(w) === ns(s) && w.spec?.template?.metadata?.labels?.app === s.metadata.name)
            .map((w) => ({ name: String(w.spec.template.metadata.labels.version ?? "") }));
        nodes.set(id, { id, namespace: ns(s), name: s.metadata.name, versions, notes: [] });
    }

    // Identity (SPIFFE principal) → the service whose pods run as it.
    const principalOf = new Map<string, string>();
    for (const w of workloads) {
        const sa = w.spec?.template?.spec?.serviceAccountName ?? "default";
        const app = w.spec?.template?.metadata?.labels?.app;
        if (app) {
            principalOf.set(`cluster.local/ns/${ns(w)}/sa/${sa}`, `${ns(w)}/${app}`);
        }
    }

    const gateways = objects.filter((o) => isKind(o, "networking.istio.io", "Gateway"));
    const gatewayIds = new Map(gateways.map((g) => [`${ns(g)}/${g.metadata.name}`, String(Object.values(g.spec?.selector ?? {})[0] ?? g.metadata.name)]));
    const edges: MeshEdge[] = [];
    const authzNamespaces = new Set(objects.filter((o) => isKind(o, "security.istio.io", "AuthorizationPolicy")).map(ns));

    for (const vs of vss) {
        const bound = (vs.spec?.gateways ?? []).map((g: string) => (g.includes("/") ? g : `${ns(vs)}/${g}`)).filter((g: string) => gatewayIds.has(g));
        for (const route of vs.spec?.http ?? []) {
            const dests = (route.route ?? []) as Obj[];
            for (const d of dests) {
                const target = nodes.get(resolveHost(d.destination?.host ?? "", ns(vs)));
                if (!target) {
                    continue;
                }
                if (bound.length > 0) {
                    for (const g of bound) {
                        const paths = (route.match ?? []).map((m: Obj) => m.uri?.exact ?? m.uri?.prefix ?? m.uri?.regex).filter(Boolean);
                        edges.push({ from: `gateway:${gatewayIds.get(g)}`, to: target.id, ports: [], authorized: false, mtls: false, label: paths.join(" ") });
                    }
                    continue;
                }
                const header = (route.match ?? []).map((m: Obj) => Object.entries(m.headers ?? {}).map(([h, v]) => `${h}=${(v as Obj).exact ?? (v as Obj).prefix ?? "*"}`).join(",")).filter(Boolean).join(" | ");
                const version = target.versions.find((v) => v.name === d.destination?.subset);
                if (version && !header) {
                    version.weight = d.weight ?? 100;
                } else if (header && d.destination?.subset) {
                    target.notes.push(`${header} → ${d.destination.subset}`);
                }
            }
            if (route.fault) {
                const host = nodes.get(resolveHost(dests[0]?.destination?.host ?? "", ns(vs)));
                const what = [route.fault.delay && `delay ${route.fault.delay.fixedDelay}`, route.fault.abort && `abort ${route.fault.abort.httpStatus}`].filter(Boolean).join(", ");
                host?.notes.push(`fault: ${what}`);
            }
        }
    }

    for (const f of objects.filter((o) => isKind(o, "networking.istio.io", "EnvoyFilter"))) {
        const app = f.spec?.workloadSelector?.labels?.app;
        const text = JSON.stringify(f.spec?.configPatches ?? []);
        const tokens = /"max_tokens":(\d+)/.exec(text)?.[1];
        const interval = /"fill_interval":"([^"]+)"/.exec(text)?.[1];
        if (app && text.includes("local_ratelimit")) {
            nodes.get(`${ns(f)}/${app}`)?.notes.push(`rate limit${tokens && interval ? ` ${tokens}/${interval}` : ""}`);
        }
    }

    for (const ap of objects.filter((o) => isKind(o, "security.istio.io", "AuthorizationPolicy") && (o.spec?.action ?? "ALLOW") === "ALLOW")) {
        const app = ap.spec?.selector?.matchLabels?.app;
        const target = app && nodes.get(`${ns(ap)}/${app}`);
        if (!target) {
            continue;
        }
        for (const rule of ap.spec?.rules ?? []) {
            const ports = (rule.to ?? []).flatMap((t: Obj) => t.operation?.ports ?? []);
            const guardedPaths = (rule.to ?? []).flatMap((t: Obj) => t.operation?.paths ?? []);
            for (const from of rule.from ?? []) {
                const tokenNeeded = (from.source?.requestPrincipals ?? []).length > 0;
                for (const principal of from.source?.principals ?? []) {
                    const caller = principalOf.get(principal);
                    const gateway = /\/sa\/(aks-istio-ingressgateway-[a-z]+)$/.exec(principal)?.[1];
                    const edge = edges.find((e) => e.to === target.id && e.from === (caller ?? `gateway:${gateway}`));
                    if (edge) {
                        edge.authorized = true;
                        edge.ports = ports;
                        if (tokenNeeded) {
                            edge.label = `${edge.label ?? ""} · token for ${guardedPaths.join(" ") || "all paths"}`.trim();
                        }
                    } else if (caller) {
                        edges.push({ from: caller, to: target.id, ports, authorized: true, mtls: false });
                    }
                }
            }
        }
    }
    for (const e of edges) {
        const [namespace, name] = e.to.split("/");
        e.authorized ||= !authzNamespaces.has(namespace);
        e.mtls = strict(namespace, name, e.ports);
    }
    const externals = egressEdges(objects, edges);
    // Once a route splits traffic, a version it leaves out gets none.
    for (const n of nodes.values()) {
        if (n.versions.some((v) => v.weight !== undefined)) {
            n.versions.forEach((v) => { v.weight ??= 0; });
        }
    }
    return { gateways: [...new Set(gatewayIds.values())], nodes: [...nodes.values()], edges, externals };
}

/**
 * Edges from each service that declared an external host (its ServiceEntry's annotation) to the
 * host: through the egress gateway whose Gateway serves the host when there is one, authorized when
 * no AuthorizationPolicy on that gateway names the host or one admits the caller's identity.
 */
function egressEdges(objects: Obj[], edges: MeshEdge[]): string[] {
    const entries = objects.filter((o) => isKind(o, "networking.istio.io", "ServiceEntry") && o.spec?.location === "MESH_EXTERNAL");
    const gateways = objects.filter((o) => isKind(o, "networking.istio.io", "Gateway"));
    const policies = objects.filter((o) => isKind(o, "security.istio.io", "AuthorizationPolicy"));
    const saOf = new Map<string, string>();
    for (const w of objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind))) {
        const app = w.spec?.template?.metadata?.labels?.app;
        if (app) {
            saOf.set(`${ns(w)}/${app}`, w.spec?.template?.spec?.serviceAccountName ?? "default");
        }
    }
    const externals = new Set<string>();
    for (const se of entries) {
        const callers = String(se.metadata?.annotations?.[EGRESS_CALLERS] ?? "").split(",").filter(Boolean);
        const port = se.spec?.ports?.[0];
        const protocol = String(port?.protocol ?? "").toLowerCase();
        const originated = objects.some((o) => isKind(o, "networking.istio.io", "DestinationRule") && ns(o) === ns(se)
            && (se.spec?.hosts ?? []).includes(o.spec?.host) && JSON.stringify(o.spec?.trafficPolicy ?? {}).includes("\"SIMPLE\""));
        // Only hosts an app declared: other ServiceEntries (e.g. Kiali's) have no callers the picture knows.
        for (const host of callers.length > 0 ? se.spec?.hosts ?? [] : []) {
            externals.add(host);
            const gw = gateways.find((g) => (g.spec?.servers ?? []).some((sv: Obj) => (sv.hosts ?? []).includes(host)));
            const guard = gw && policies.filter((p) => ns(p) === ns(gw) && JSON.stringify(p.spec?.rules ?? []).includes(JSON.stringify(host)));
            for (const caller of callers) {
                const who = `cluster.local/ns/${ns(se)}/sa/${saOf.get(`${ns(se)}/${caller}`) ?? caller}`;
                const authorized = !guard || guard.length === 0 || guard.some((p) => JSON.stringify(p.spec?.rules ?? []).includes(JSON.stringify(who)));
                const via = gw ? `via ${String(Object.values(gw.spec?.selector ?? {})[0] ?? gw.metadata.name)} ` : "";
                edges.push({
                    from: `${ns(se)}/${caller}`, to: `external:${host}`, ports: [], authorized, mtls: !!gw,
                    label: `${via}${protocol}:${port?.number ?? ""}`, external: { tls: protocol !== "http" || originated },
                });
            }
        }
    }
    return [...externals].sort();
}

const q = (s: string) => JSON.stringify(s);

export function toDot(g: MeshGraph): string {
    const lines = [
        "digraph mesh {",
        "  rankdir=LR; fontname=\"Helvetica\"; node [fontname=\"Helvetica\" fontsize=11 shape=box style=\"rounded,filled\" fillcolor=\"#f5f7fa\" margin=\"0.25,0.08\"]; edge [fontname=\"Helvetica\" fontsize=9];",
        "  label=\"edges: mTLS = STRICT mutual TLS, TLS = encrypted to an external host, plaintext otherwise · ✓ an AuthorizationPolicy allows the caller · ✗ none does (red, dashed)\"; labelloc=b;",
    ];
    for (const gw of g.gateways) {
        lines.push(`  ${q(`gateway:${gw}`)} [label=${q(`ingress gateway\n${gw}`)} shape=cds fillcolor="#dbe9ff"];`);
    }
    const byNs = new Map<string, MeshNode[]>();
    for (const n of g.nodes) {
        byNs.set(n.namespace, [...(byNs.get(n.namespace) ?? []), n]);
    }
    for (const [namespace, list] of byNs) {
        lines.push(`  subgraph ${q(`cluster_${namespace}`)} { label=${q(`namespace ${namespace}`)}; style="rounded,dashed";`);
        for (const n of list) {
            const versions = n.versions.map((v) => (v.weight === undefined ? v.name : `${v.name} ${v.weight}%`)).join(" · ");
            lines.push(`    ${q(n.id)} [label=${q([n.name, versions, ...n.notes].filter(Boolean).join("\n"))}];`);
        }
        lines.push("  }");
    }
    for (const host of g.externals) {
        lines.push(`  ${q(`external:${host}`)} [label=${q(`external\n${host}`)} shape=note fillcolor="#fff4e0"];`);
    }
    for (const e of g.edges) {
        const wire = e.external ? (e.external.tls ? "TLS" : "plaintext") : e.mtls ? "mTLS" : "plaintext";
        const marks = `${wire} ${e.authorized ? "✓" : "✗"}`;
        const secure = e.external ? e.external.tls : e.mtls;
        const label = [e.label, e.ports.length ? `:${e.ports.join(",")}` : "", marks].filter(Boolean).join(" ");
        const style = e.authorized ? (secure ? "color=\"#2b7a3d\"" : "color=\"#b8860b\"") : "color=\"#c0392b\" style=dashed";
        lines.push(`  ${q(e.from)} -> ${q(e.to)} [label=${q(label)} ${style}];`);
    }
    lines.push("}");
    return lines.join("\n");
}

/** Lays the graph out with Graphviz (compiled to wasm) and returns SVG. */
export async function renderSvg(dot: string): Promise<string> {
    // ESM-only package; Node >= 20.19 loads it through require().
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Graphviz } = require("@hpcc-js/wasm-graphviz") as typeof import("@hpcc-js/wasm-graphviz");
    const graphviz = await Graphviz.load();
    return graphviz.dot(dot);
}
