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
/** Protocols of an external host as the caller speaks them (https and tls: the caller's own TLS). */
export const EGRESS_PROTOCOLS = ["http", "https", "tls"] as const;

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
    /** A HorizontalPodAutoscaler per version's Deployment; the HPA owns the replica count. */
    autoscaling: object({
        minReplicas: integer(1, 100),
        maxReplicas: integer(1, 1000),
        /** Target average CPU utilization, percent of the CPU requests. */
        cpuUtilization: integer(1, 100),
    }).refine((a) => a.maxReplicas >= a.minReplicas, { error: "maxReplicas must be at least minReplicas", path: ["maxReplicas"] }).optional(),
    /** Persistent volumes of a StatefulSet, one claim per pod. */
    volumeClaims: list(object({
        name: dnsLabel(),
        mountPath: absolutePath(),
        size: text({ pattern: /^\d+(\.\d+)?(Mi|Gi|Ti)$/, hint: "a storage size such as 8Gi (Mi, Gi or Ti)" }),
        storageClassName: dnsLabel().optional(),
    }), { min: 1, minMessage: "needs at least one claim, or leave volumeClaims out" }).optional(),
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
    const scaled = s.autoscaling;
    const conflict = !scaled ? undefined
        : s.workload === "StatefulSet" ? "is for Deployments; a StatefulSet keeps its declared replicas (more pods of a broker are not more capacity unless it clusters itself)"
            : s.singleton ? "contradicts singleton: a singleton runs one pod"
                : s.replicas !== undefined ? "and replicas would fight over the replica count on every deployment: remove replicas (the HPA owns it)" : undefined;
    if (conflict) {
        ctx.addIssue({ code: "custom", path: ["autoscaling"], input: scaled, message: conflict });
    }
    if (s.volumeClaims && s.workload !== "StatefulSet") {
        ctx.addIssue({ code: "custom", path: ["volumeClaims"], input: s.volumeClaims, message: "needs workload: StatefulSet (a Deployment's pods would share one claim); use emptyDirs for scratch space" });
    }
    const claims = (s.volumeClaims ?? []).map((c) => c.name);
    unique(ctx, claims, ["volumeClaims"], "volume claim");
    const clash = claims.find((c) => Object.hasOwn(s.emptyDirs ?? {}, c) || (c === "spec-files" && s.files));
    if (clash) {
        ctx.addIssue({ code: "custom", path: ["volumeClaims"], input: clash, message: `"${clash}" is already a volume of the service; name the claim differently` });
    }
});

const secretSpec = object({
    name: dnsLabel(),
    literals: stringMap().optional(),
    /** Keys filled with a random password of the given length. */
    random: record(integer(16, 128)).optional(),
});

/** `to`: a service of the app, or `<app>/<service>` for a service of another app of the stack. */
const httpsUrl = (what: string) => text({
    hint: `an https URL (${what})`,
    check: (s) => (/^https:\/\/[^/\s]+(\/\S*)?$/.test(s) ? undefined : `${describe(s)} is not an https URL; ${what} must be fetched over TLS`),
});
/** An issuer of end-user JWTs and its JSON Web Key Set. */
const jwtIssuer = object({
    issuer: text({ hint: "the token's iss claim, e.g. https://login.example.com/" }),
    jwksUri: httpsUrl("the issuer's signing keys"),
});

const call = object({
    from: text(),
    to: text({
        check: (s) => (!s.includes("/") || /^[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*$/.test(s) ? undefined
            : `${describe(s)} is not a service name or <app>/<service> (one '/', DNS labels either side)`),
    }),
    port: port(),
});

/** An external DNS name: dotted DNS labels, lower case, no wildcard (the mesh resolves it by DNS). */
const EXTERNAL_HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const externalHost = () => text({
    hint: "a DNS name such as api.example.com",
    check: (s) => s.includes("*") ? `${describe(s)} is a wildcard; name each host: the egress gateway resolves hosts by DNS (resolution: DNS)`
        : /\.(svc\.)?cluster\.local$|\.svc$/.test(s) ? `${describe(s)} is a cluster Service, not an external host; list it in calls as <app>/<service>`
            : !EXTERNAL_HOST.test(s) ? `${describe(s)} is not a DNS name (lower-case labels separated by dots, e.g. api.example.com)` : undefined,
});

/** An external host the app calls, its port and protocol, and the services that call it. */
const egressEntry = object({
    host: externalHost(),
    port: port(),
    protocol: oneOf(EGRESS_PROTOCOLS, { required: `is required; one of ${EGRESS_PROTOCOLS.join(", ")}` }),
    /** Services of the app that call the host. */
    from: list(text(), { min: 1, minMessage: "needs at least one service of the app: those that call the host" }),
    /** The caller speaks plain HTTP on `port`; the mesh opens TLS to the host on 443. */
    originateTls: boolean().optional(),
}).superRefine((e, ctx) => {
    if (e.originateTls && e.protocol !== "http") {
        ctx.addIssue({ code: "custom", path: ["originateTls"], input: true, message: `needs protocol http (the caller speaks plain HTTP and the mesh adds TLS); with ${e.protocol} the caller already speaks TLS` });
    } else if (e.originateTls && e.port === 443) {
        ctx.addIssue({ code: "custom", path: ["port"], input: e.port, message: "is the port the mesh opens TLS on; with originateTls the caller's plain HTTP port is another, e.g. 80" });
    }
});
const ingressRoute = object({
    service: text(),
    port: port(),
    paths: list(object({ match: oneOf(["exact", "prefix"]), path: absolutePath() }), { min: 1, minMessage: "needs at least one path" }),
    /** The issuer of this route's tokens; default the app's `auth`. */
    auth: jwtIssuer.optional(),
    /** Requests on these paths need a valid token of the issuer. */
    requireAuth: boolean().optional(),
});

/** An app spec: the built-in catalog's and the ones users write inline. */
export const appSpec = object({
    name: dnsLabel(),
    namespace: dnsLabel().optional(),
    services: list(service, { min: 1, minMessage: "needs at least one service" }),
    calls: list(call).default([]),
    ingress: list(ingressRoute).default([]),
    secrets: list(secretSpec).default([]),
    /** External hosts the app calls: ServiceEntries, routed through the egress gateway when the stack has one. */
    egress: list(egressEntry).default([]),
    /** The issuer of end-user tokens for the app's ingress routes. */
    auth: jwtIssuer.optional(),
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
        // A call into another app is checked once the stack's apps are known (resolveApps).
        const other = c.to.includes("/");
        if (other && c.to.split("/")[0] === a.name) {
            ctx.addIssue({ code: "custom", path: ["calls", i, "to"], input: c.to, message: `names the app itself; write the service alone: "${c.to.split("/")[1]}"` });
        } else if (!byName.has(c.from)) {
            ctx.addIssue({ code: "custom", path: ["calls", i, "from"], input: c.from, message: `${describe(c.from)} is not a service of ${a.name}; services: ${names}` });
        } else if (!other) {
            servicePort(["calls", i], "to", c.to, c.port);
        }
    });
    unique(ctx, a.calls.map((c) => `${c.from} -> ${c.to}:${c.port}`), ["calls"], "call");
    unique(ctx, a.egress.map((e) => e.host), ["egress"], "egress host");
    a.egress.forEach((e, i) => e.from.forEach((from, j) => {
        if (!byName.has(from)) {
            ctx.addIssue({ code: "custom", path: ["egress", i, "from", j], input: from, message: `${describe(from)} is not a service of ${a.name}; services: ${names}` });
        }
    }));
    if (a.auth && !a.ingress.some((r) => r.requireAuth && !r.auth)) {
        ctx.addIssue({ code: "custom", path: ["auth"], input: a.auth, message: "is the issuer of no route: set requireAuth: true on the ingress routes that need a token, or remove auth" });
    }
    a.ingress.forEach((r, i) => {
        if (r.requireAuth && !r.auth && !a.auth) {
            ctx.addIssue({ code: "custom", path: ["ingress", i, "requireAuth"], input: true, message: "needs an issuer: set auth { issuer, jwksUri } on the route or on the app" });
        } else if (r.auth && !r.requireAuth) {
            ctx.addIssue({ code: "custom", path: ["ingress", i, "auth"], input: r.auth, message: "names an issuer the route does not require: set requireAuth: true (a token checked but not required lets requests without one through)" });
        }
        servicePort(["ingress", i], "service", r.service, r.port);
    });
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

/**
 * An entry of `aks-istio-mesh:apps`: a catalog name, or `{ name, revision?, spec?, traffic?, egress? }`;
 * `egress` adds external hosts to the app's own (e.g. one stack's dependency of a catalog app).
 */
const appEntry = z.preprocess((v) => (typeof v === "string" ? { name: v } : v),
    object({ name: text(), revision: revisionName("one of mesh.revisions").optional(), spec: z.unknown().optional(), traffic: z.unknown().optional(), egress: list(egressEntry).optional() }));

/** `aks-istio-mesh:apps`: catalog names, or `{ name, revision?, spec?, traffic?, egress? }` entries for revisions, overrides, external hosts and apps of your own. */
export const apps = list(appEntry).default([]);

/**
 * Resolves the app entries against the built-in catalog and the mesh's revisions (a catalog entry
 * is validated like any spec). Under `highAvailability`, an autoscaled Deployment must be able to
 * run the 2 replicas the environment keeps.
 */
export function resolveApps(raw: unknown, catalog: Readonly<Record<string, unknown>>, revisions: readonly string[], highAvailability = false): AppConfig[] {
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
        const added = entry.egress ?? [];
        added.forEach((e, j) => {
            const unknown = e.from.findIndex((s) => !spec.services.some((x) => x.name === s));
            if (unknown >= 0) {
                fail(`${p}.egress[${j}].from[${unknown}]`, `${describe(e.from[unknown])} is not a service of ${spec.name}; services: ${spec.services.map((s) => s.name).join(", ")}`);
            }
            if (spec.egress.some((x) => x.host === e.host)) {
                fail(`${p}.egress[${j}].host`, `"${e.host}" is already an external host of ${spec.name}'s spec`);
            }
        });
        refuseDuplicates(added.map((e) => e.host), `${p}.egress`, "egress host");
        return { spec: added.length > 0 ? { ...spec, egress: [...spec.egress, ...added] } : spec, revision, traffic: mergeTraffic(spec.traffic, overrides) };
    });
    refuseDuplicates(resolved.map((a) => a.spec.name), path, "app");
    refuseDuplicates(resolved.map((a) => a.spec.namespace), path, "app namespace");
    // Where a refusal about the i-th app's spec points: its inline spec, else the catalog entry.
    const specPath = (i: number) => (entries[i].spec !== undefined ? `${path}[${i}].spec` : `${path}[${i}]`);
    checkCrossAppCalls(resolved, specPath);
    // An app's external hosts are its spec's, then those its entry adds (`apps[i].egress`).
    checkEgressHosts(resolved, (i, j) => {
        const own = resolved[i].spec.egress.length - (entries[i].egress?.length ?? 0);
        return j < own ? `${entries[i].spec !== undefined ? `${path}[${i}].spec` : `catalog.${entries[i].name}`}.egress[${j}]` : `${path}[${i}].egress[${j - own}]`;
    });
    if (highAvailability) {
        resolved.forEach((a, i) => a.spec.services.forEach((s, j) => {
            if (s.autoscaling && s.autoscaling.maxReplicas < 2 && !s.singleton) {
                fail(`${specPath(i)}.services[${j}].autoscaling.maxReplicas`, `is ${s.autoscaling.maxReplicas}, below the 2 replicas high availability keeps (its PodDisruptionBudget keeps 1 available during a drain); set at least 2`);
            }
        }));
    }
    return resolved;
}

/** Refuses a name given twice in a list at `path`. */
function refuseDuplicates(names: readonly string[], path: string, what: string): void {
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) {
        fail(path, `duplicate ${what} "${dup}"`);
    }
}

/** A call to `<app>/<service>` names an app of the stack, one of its services and a port of it. */
function checkCrossAppCalls(apps: readonly AppConfig[], specPath: (i: number) => string): void {
    const appNames = apps.map((a) => a.spec.name).join(", ");
    apps.forEach((a, i) => a.spec.calls.forEach((c, j) => {
        if (!c.to.includes("/")) {
            return;
        }
        const where = `${specPath(i)}.calls[${j}].to`;
        const [app, service] = c.to.split("/");
        const callee = apps.find((x) => x.spec.name === app);
        if (!callee) {
            fail(where, `${describe(c.to)} calls app "${app}", which the stack does not deploy; apps: ${appNames}`);
        }
        const target = callee.spec.services.find((s) => s.name === service);
        if (!target) {
            fail(where, `${describe(service)} is not a service of ${app}; services: ${callee.spec.services.map((s) => s.name).join(", ")}`);
        }
        if (!target.ports.some((p) => p.port === c.port)) {
            fail(where, `${c.to} has no port ${c.port}; its ports: ${target.ports.map((p) => p.port).join(", ")}`);
        }
    }));
}

/**
 * An external host is declared by one app: its ServiceEntry, egress Gateway and the gateway's
 * AuthorizationPolicy are the app's, and two apps' Gateways for one host would conflict.
 */
function checkEgressHosts(apps: readonly AppConfig[], egressPath: (i: number, j: number) => string): void {
    const owner = new Map<string, string>();
    apps.forEach((a, i) => a.spec.egress.forEach((e, j) => {
        const first = owner.get(e.host);
        if (first) {
            fail(`${egressPath(i, j)}.host`, `"${e.host}" is already declared by app ${first}; an external host belongs to one app (its egress Gateway and the gateway's AuthorizationPolicy are the app's)`);
        }
        owner.set(e.host, a.spec.name);
    }));
}

/** Pod labels of a service's workloads, one set per version (the convention components/app.ts renders). */
export function podLabels(svc: ServiceSpec): Record<string, string>[] {
    return svc.versions.map((v) => ({ app: svc.name, version: v.name }));
}
