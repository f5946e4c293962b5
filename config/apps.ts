/**
 * App specs as data: an app's namespace, its services and who calls whom. The built-in catalog
 * (components/apps) and the specs users write inline in `aks-istio-mesh:apps` are validated by the
 * same schema; every problem names the offending field, e.g. `aks-istio-mesh:apps[2].spec.calls[0].to`.
 */
import { z } from "zod";
import { RESERVED_NAMESPACES, reservedNamespaceOwner } from "../policy-pack/lib/aks";
import { revisionName } from "./mesh";
import { appTraffic, appTrafficOverride, AppTraffic, mergeTraffic, ServiceTrafficOverride } from "./traffic";
import { boolean, describe, fail, integer, key, list, object, oneOf, parseWith, record, text, unique } from "./schema";

/** Istio protocol prefixes for Service port names (`<protocol>[-suffix]`). */
export const PROTOCOLS = ["http", "http2", "https", "grpc", "tcp", "tls", "mongo", "redis", "mysql"] as const;

const DNS_LABEL = { pattern: /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, hint: "a DNS label: lower-case letters, digits and '-', starting with a letter" };
/** registry/path:tag or @sha256 digest; `latest` is not a pin. */
const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/;
const QUANTITY = /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

const dnsLabel = () => text(DNS_LABEL);
const image = () => text({
    hint: "an image reference with a pinned tag or digest, e.g. docker.io/istio/examples-bookinfo-details-v1:1.20.3",
    check: (s) => !IMAGE.test(s) ? `${describe(s)} is not an image reference with a pinned tag or digest (registry/name:tag or name@sha256:...)`
        : s.endsWith(":latest") ? `${describe(s)} uses the moving tag "latest"; pin a version or a digest` : undefined,
});
const port = () => integer(1, 65535);
const quantity = () => text({ pattern: QUANTITY, hint: "a Kubernetes quantity such as 100m or 128Mi" });
const absolutePath = () => text({ pattern: /^\//, hint: "an absolute path" });
const stringMap = () => record(text());

const resources = object({
    requests: object({ cpu: quantity(), memory: quantity() }),
    limits: object({ cpu: quantity(), memory: quantity() }),
});

const probe = object({
    /** HTTP GET on a path and container port; exclusive with `tcpPort`. */
    httpGet: object({ path: absolutePath(), port: port() }).optional(),
    /** TCP connect to a container port. */
    tcpPort: port().optional(),
    initialDelaySeconds: integer(0, 3600).optional(),
    periodSeconds: integer(1, 3600).optional(),
    failureThreshold: integer(1, 1000).optional(),
}).refine((p) => (p.httpGet === undefined) !== (p.tcpPort === undefined), { error: "needs exactly one of httpGet or tcpPort" });

const portSpec = object({
    /** Suffix of the Service port name: `<protocol>-<name>`; omit for just `<protocol>`. */
    name: dnsLabel().optional(),
    port: port(),
    /** Container port; defaults to `port`. */
    targetPort: port().optional(),
    protocol: oneOf(PROTOCOLS, { required: `is required so Istio knows the protocol; one of ${PROTOCOLS.join(", ")}` }),
});

const service = object({
    name: dnsLabel(),
    /** Deployment (default) or StatefulSet for stateful backends. */
    workload: oneOf(["Deployment", "StatefulSet"]).default("Deployment"),
    /** Image with a pinned tag or digest. */
    image: image(),
    /** Versions run side by side (Deployment `<name>-<version>`, label `version`); default [v1]. */
    versions: list(object({ name: dnsLabel(), image: image().optional() }), { min: 1, minMessage: "needs at least one version" }).default([{ name: "v1" }]),
    ports: list(portSpec, { min: 1, minMessage: "needs at least one port" }),
    /** Replicas per version; default 1 (at least 2 for Deployments under high availability). */
    replicas: integer(1, 100).optional(),
    /** Must run one pod at a time (e.g. a scheduler): exempt from high availability's replica floor. */
    singleton: boolean().optional(),
    resources,
    probes: object({ startup: probe.optional(), readiness: probe.optional(), liveness: probe.optional() }).optional(),
    env: stringMap().optional(),
    /** Env vars from a Secret the app declares (`secrets`). */
    secretEnv: record(object({ secret: text(), key: text() })).optional(),
    securityContext: object({
        runAsUser: integer(0, 2147483647).optional(),
        runAsNonRoot: boolean().optional(),
        readOnlyRootFilesystem: boolean().optional(),
    }).optional(),
    /** emptyDir volumes: volume name → mount path. */
    emptyDirs: stringMap().optional(),
    /** Configuration files mounted read-only: absolute path → content (one ConfigMap per service). */
    files: record(text(), (p) => (/^\/([^/]+\/)*[-._a-zA-Z0-9]+$/.test(p) ? undefined
        : "must be an absolute file path whose name has only letters, digits, '-', '_' and '.'")).optional(),
    podAnnotations: stringMap().optional(),
    /** ServiceAccount (the workload's mesh identity); default the service name. */
    serviceAccount: dnsLabel().optional(),
    /** Containers that must finish before the service starts (run after the native sidecar). */
    initContainers: list(object({ name: dnsLabel(), image: image(), command: list(text()), resources })).optional(),
}).superRefine((s, ctx) => {
    unique(ctx, s.ports.map((p) => String(p.port)), ["ports"], "port");
    unique(ctx, s.ports.map((p) => `${p.protocol}${p.name ? `-${p.name}` : ""}`), ["ports"], "port name");
    unique(ctx, s.versions.map((v) => v.name), ["versions"], "version");
    unique(ctx, Object.keys(s.files ?? {}).map((p) => p.slice(p.lastIndexOf("/") + 1)), ["files"], "file name");
    if (s.files && s.emptyDirs && Object.hasOwn(s.emptyDirs, "spec-files")) {
        ctx.addIssue({ code: "custom", path: ["emptyDirs", "spec-files"], input: "spec-files", message: "\"spec-files\" is the volume of the service's files; name the emptyDir differently" });
    }
    if (s.workload === "StatefulSet" && s.versions.length > 1) {
        ctx.addIssue({ code: "custom", path: ["versions"], input: s.versions, message: "a StatefulSet runs one version" });
    }
});

const secretSpec = object({
    name: dnsLabel(),
    literals: stringMap().optional(),
    /** Keys filled with a random password of the given length. */
    random: record(integer(16, 128)).optional(),
});

const call = object({ from: text(), to: text(), port: port() });
const ingressRoute = object({
    service: text(),
    port: port(),
    paths: list(object({ match: oneOf(["exact", "prefix"]), path: absolutePath() }), { min: 1, minMessage: "needs at least one path" }),
});

/** An app spec: the built-in catalog's and the ones users write inline. */
export const appSpec = object({
    name: dnsLabel(),
    namespace: dnsLabel().optional(),
    services: list(service, { min: 1, minMessage: "needs at least one service" }),
    calls: list(call).default([]),
    ingress: list(ingressRoute).default([]),
    secrets: list(secretSpec).default([]),
    /** Default routing per service (canary weights, header routes, faults, rate limit); stacks override it. */
    traffic: z.unknown().optional(),
}).superRefine((a, ctx) => {
    unique(ctx, a.secrets.map((s) => s.name), ["secrets"], "secret");
    unique(ctx, a.services.map((s) => s.name), ["services"], "service");
    // A ServiceAccount is a service's mesh identity: sharing one would merge what the callers may reach.
    unique(ctx, a.services.map((s) => s.serviceAccount ?? s.name), ["services"], "serviceAccount");
    const reserved = a.services.findIndex((s) => s.name === "nothing");
    if (reserved >= 0) {
        ctx.addIssue({ code: "custom", path: ["services", reserved, "name"], input: "nothing", message: `"nothing" is reserved: the namespace's allow-nothing AuthorizationPolicy has that name` });
    }
    const keys = new Map(a.secrets.map((s) => [s.name, new Set([...Object.keys(s.literals ?? {}), ...Object.keys(s.random ?? {})])]));
    a.services.forEach((s, i) => {
        for (const [env, ref] of Object.entries(s.secretEnv ?? {})) {
            if (!keys.get(ref.secret)?.has(ref.key)) {
                ctx.addIssue({ code: "custom", path: ["services", i, "secretEnv", env], input: ref, message: `refers to ${ref.secret}.${ref.key}, which is not a key of a secret the app declares` });
            }
        }
    });
    const byName = new Map(a.services.map((s) => [s.name, s]));
    const names = [...byName.keys()].join(", ");
    /** An unknown service blames the service key; a known service without the port blames the port. */
    const servicePort = (at: (string | number)[], serviceKey: string, svc: string, p: number): void => {
        const target = byName.get(svc);
        if (!target) {
            ctx.addIssue({ code: "custom", path: [...at, serviceKey], input: svc, message: `${describe(svc)} is not a service of ${a.name}; services: ${names}` });
        } else if (!target.ports.some((x) => x.port === p)) {
            const ports = target.ports.map((x) => x.port);
            ctx.addIssue({ code: "custom", path: [...at, "port"], input: p, message: `${svc} has no port ${p}; ${ports.length === 1 ? `its port is ${ports[0]}` : `its ports: ${ports.join(", ")}`}` });
        }
    };
    a.calls.forEach((c, i) => {
        if (!byName.has(c.from)) {
            ctx.addIssue({ code: "custom", path: ["calls", i, "from"], input: c.from, message: `${describe(c.from)} is not a service of ${a.name}; services: ${names}` });
        } else {
            servicePort(["calls", i], "to", c.to, c.port);
        }
    });
    unique(ctx, a.calls.map((c) => `${c.from} -> ${c.to}:${c.port}`), ["calls"], "call");
    a.ingress.forEach((r, i) => servicePort(["ingress", i], "service", r.service, r.port));
}).transform((a) => ({ ...a, namespace: a.namespace ?? a.name }));

type ParsedSpec = z.output<typeof appSpec>;
export type AppSpec = Omit<ParsedSpec, "traffic"> & { readonly traffic?: AppTraffic };
export type ServiceSpec = AppSpec["services"][number];

/** Validates an app spec (catalog or inline) and its traffic defaults; `path` prefixes every message. */
export function parseAppSpec(raw: unknown, path: string): AppSpec {
    const spec = parseWith(appSpec, raw, path);
    const traffic = spec.traffic === undefined ? undefined : parseWith(appTraffic(spec.services), spec.traffic, `${path}.traffic`);
    return { ...spec, traffic };
}

/** An app the stack deploys: its spec, the revision its namespace uses and its traffic with the stack's overrides. */
export interface AppConfig {
    readonly spec: AppSpec;
    /** Revision label of the app's namespace; default the newest configured revision. */
    readonly revision: string;
    /** The spec's traffic defaults with the stack's overrides applied. */
    readonly traffic: AppTraffic;
}

/** An entry of `aks-istio-mesh:apps`: a catalog name, or `{ name, revision?, spec?, traffic? }`. */
const appEntry = z.preprocess((v) => (typeof v === "string" ? { name: v } : v),
    object({ name: text(), revision: revisionName("one of mesh.revisions").optional(), spec: z.unknown().optional(), traffic: z.unknown().optional() }));

/** `aks-istio-mesh:apps`: catalog names, or `{ name, revision?, spec?, traffic? }` entries for revisions, overrides and apps of your own. */
export const apps = list(appEntry).default([]);

/**
 * Resolves the app entries against the built-in catalog and the mesh's revisions (a catalog entry
 * is validated like any spec).
 */
export function resolveApps(raw: unknown, catalog: Readonly<Record<string, unknown>>, revisions: readonly string[]): AppConfig[] {
    const path = key("apps");
    const entries = parseWith(apps, raw, path);
    const newest = revisions[revisions.length - 1];
    const resolved = entries.map((v, i): AppConfig => {
        const p = `${path}[${i}]`;
        const entry = v;
        // A short entry (`- pets`) is named by its index, as the user wrote no `name:` key.
        const namePath = Array.isArray(raw) && typeof raw[i] === "string" ? p : `${p}.name`;
        let spec: AppSpec | undefined;
        if (entry.spec !== undefined) {
            spec = parseAppSpec(entry.spec, `${p}.spec`);
            if (spec.name !== entry.name) {
                fail(`${p}.spec.name`, `must equal the entry's name "${entry.name}"`);
            }
        } else if (entry.name in catalog) {
            spec = parseAppSpec(catalog[entry.name], `catalog.${entry.name}`);
        } else {
            fail(namePath, `${describe(entry.name)} is not a built-in app (${Object.keys(catalog).join(", ")}); give a spec for an app of your own`);
        }
        if (RESERVED_NAMESPACES.includes(spec.namespace)) {
            const explicit = typeof entry.spec === "object" && entry.spec !== null && "namespace" in entry.spec;
            fail(explicit ? `${p}.spec.namespace` : entry.spec !== undefined ? `${p}.spec.name` : namePath,
                `${explicit ? describe(spec.namespace) : `the app's namespace defaults to its name ${describe(spec.namespace)}, which`} belongs to ${reservedNamespaceOwner(spec.namespace)}; reserved namespaces (${RESERVED_NAMESPACES.join(", ")}) cannot hold an app: set ${p}.spec.namespace to a namespace of its own`);
        }
        const revision = entry.revision ?? newest;
        if (!revisions.includes(revision)) {
            fail(`${p}.revision`, `${describe(revision)} is not allowed; allowed: ${revisions.join(", ")}`);
        }
        const overrides: Record<string, ServiceTrafficOverride> = entry.traffic === undefined ? {} : parseWith(appTrafficOverride(spec.services), entry.traffic, `${p}.traffic`);
        return { spec, revision, traffic: mergeTraffic(spec.traffic, overrides) };
    });
    const dup = (names: string[], what: string) => {
        const seen = new Set<string>();
        for (const n of names) {
            if (seen.has(n)) {
                fail(path, `duplicate ${what} "${n}"`);
            }
            seen.add(n);
        }
    };
    dup(resolved.map((a) => a.spec.name), "app");
    dup(resolved.map((a) => a.spec.namespace), "app namespace");
    return resolved;
}

/** Pod labels of a service's workloads, one set per version (the convention components/app.ts renders). */
export function podLabels(svc: ServiceSpec): Record<string, string>[] {
    return svc.versions.map((v) => ({ app: svc.name, version: v.name }));
}
