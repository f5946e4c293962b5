import { boolean, fail, integer, list, object, oneOf, optional, record, string, unique } from "../validate";
import { AppTraffic, parseAppTraffic } from "./traffic";

/**
 * An app as data: its namespace, its services and who calls whom. One generic component
 * (components/app.ts) turns a spec into workloads, and the mesh layer derives routing and
 * least-privilege authorization from the same call graph.
 */

/** Istio protocol prefixes for Service port names (`<protocol>[-suffix]`). */
export const PROTOCOLS = ["http", "http2", "https", "grpc", "tcp", "tls", "mongo", "redis", "mysql"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface PortSpec {
    /** Suffix of the Service port name: `<protocol>-<name>`; omit for just `<protocol>`. */
    readonly name?: string;
    readonly port: number;
    /** Container port; defaults to `port`. */
    readonly targetPort?: number;
    readonly protocol: Protocol;
}

export interface ProbeSpec {
    /** HTTP GET on a path and container port; exclusive with `tcpPort`. */
    readonly httpGet?: { readonly path: string; readonly port: number };
    /** TCP connect to a container port. */
    readonly tcpPort?: number;
    readonly initialDelaySeconds?: number;
    readonly periodSeconds?: number;
    readonly failureThreshold?: number;
}

export interface ResourceSpec {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly cpu: string; readonly memory: string };
}

/** A value from a Secret of the app (see `AppSpec.secrets`). */
export interface SecretRef {
    readonly secret: string;
    readonly key: string;
}

/** A container that must finish before the service starts (runs after the native sidecar). */
export interface InitContainerSpec {
    readonly name: string;
    readonly image: string;
    readonly command: readonly string[];
    readonly resources: ResourceSpec;
}

export interface ServiceSpec {
    readonly name: string;
    /** Deployment (default) or StatefulSet for stateful backends. */
    readonly workload?: "Deployment" | "StatefulSet";
    /** Image with a pinned tag or digest. */
    readonly image: string;
    /** Versions run side by side (Deployment `<name>-<version>`, label `version`); default [v1]. */
    readonly versions?: readonly { readonly name: string; readonly image?: string }[];
    readonly ports: readonly PortSpec[];
    /** Replicas per version; default 1 (at least 2 for Deployments under high availability). */
    readonly replicas?: number;
    /** Must run one pod at a time (e.g. a scheduler): exempt from high availability's replica floor. */
    readonly singleton?: boolean;
    readonly resources: ResourceSpec;
    readonly probes?: { readonly startup?: ProbeSpec; readonly readiness?: ProbeSpec; readonly liveness?: ProbeSpec };
    readonly env?: Readonly<Record<string, string>>;
    readonly secretEnv?: Readonly<Record<string, SecretRef>>;
    readonly securityContext?: { readonly runAsUser?: number; readonly runAsNonRoot?: boolean; readonly readOnlyRootFilesystem?: boolean };
    /** emptyDir volumes: volume name → mount path. */
    readonly emptyDirs?: Readonly<Record<string, string>>;
    /**
     * Configuration files mounted read-only into the container: absolute path → content. They live
     * in one ConfigMap per service, each mounted alone so the image's other files stay in place.
     */
    readonly files?: Readonly<Record<string, string>>;
    readonly podAnnotations?: Readonly<Record<string, string>>;
    /** ServiceAccount (the workload's mesh identity); default the service name. */
    readonly serviceAccount?: string;
    readonly initContainers?: readonly InitContainerSpec[];
}

/** A call in the app's call graph: `from` calls `to` on a Service port. */
export interface CallSpec {
    readonly from: string;
    readonly to: string;
    readonly port: number;
}

/** How the ingress gateway reaches an entry service. */
export interface IngressSpec {
    readonly service: string;
    readonly port: number;
    readonly paths: readonly { readonly match: "exact" | "prefix"; readonly path: string }[];
}

/** A Secret the app generates: literal keys and random passwords (never literal passwords). */
export interface SecretSpec {
    readonly name: string;
    readonly literals?: Readonly<Record<string, string>>;
    /** Keys filled with a random password of the given length. */
    readonly random?: Readonly<Record<string, number>>;
}

export interface AppSpec {
    readonly name: string;
    readonly namespace: string;
    readonly services: readonly ServiceSpec[];
    readonly calls: readonly CallSpec[];
    readonly ingress: readonly IngressSpec[];
    readonly secrets?: readonly SecretSpec[];
    /** Default routing per service (canary weights, header routes, faults, rate limit); stacks override it. */
    readonly traffic?: AppTraffic;
}

const DNS_LABEL = { pattern: /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, hint: "a DNS label: lower-case letters, digits and '-', starting with a letter" };
/** registry/path:tag or @sha256 digest; `latest` is not a pin. */
const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/;
const QUANTITY = /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

function image(v: unknown, path: string): string {
    const s = string(v, path, { hint: "an image reference with a pinned tag or digest, e.g. docker.io/istio/examples-bookinfo-details-v1:1.20.3" });
    if (!IMAGE.test(s)) {
        fail(path, `${JSON.stringify(s)} is not an image reference with a pinned tag or digest (registry/name:tag or name@sha256:...)`);
    }
    if (s.endsWith(":latest")) {
        fail(path, `${JSON.stringify(s)} uses the moving tag "latest"; pin a version or a digest`);
    }
    return s;
}

const port = (v: unknown, p: string) => integer(v, p, 1, 65535);
const quantity = (v: unknown, p: string) => string(v, p, { pattern: QUANTITY, hint: "a Kubernetes quantity such as 100m or 128Mi" });

function resources(v: unknown, path: string): ResourceSpec {
    const r = object(v, path, ["requests", "limits"]);
    const pair = (w: unknown, p: string) => {
        const o = object(w, p, ["cpu", "memory"]);
        return { cpu: quantity(o.cpu, `${p}.cpu`), memory: quantity(o.memory, `${p}.memory`) };
    };
    return { requests: pair(r.requests, `${path}.requests`), limits: pair(r.limits, `${path}.limits`) };
}

function probe(v: unknown, path: string): ProbeSpec {
    const p = object(v, path, ["httpGet", "tcpPort", "initialDelaySeconds", "periodSeconds", "failureThreshold"]);
    if ((p.httpGet === undefined) === (p.tcpPort === undefined)) {
        fail(path, "needs exactly one of httpGet or tcpPort");
    }
    const seconds = (w: unknown, q: string) => integer(w, q, 0, 3600);
    return {
        httpGet: optional(p, "httpGet", path, (w, q) => {
            const h = object(w, q, ["path", "port"]);
            return { path: string(h.path, `${q}.path`, { pattern: /^\//, hint: "an absolute path" }), port: port(h.port, `${q}.port`) };
        }, undefined),
        tcpPort: optional(p, "tcpPort", path, port, undefined),
        initialDelaySeconds: optional(p, "initialDelaySeconds", path, seconds, undefined),
        periodSeconds: optional(p, "periodSeconds", path, (w, q) => integer(w, q, 1, 3600), undefined),
        failureThreshold: optional(p, "failureThreshold", path, (w, q) => integer(w, q, 1, 1000), undefined),
    };
}

function portSpec(v: unknown, path: string): PortSpec {
    const p = object(v, path, ["name", "port", "targetPort", "protocol"]);
    if (p.protocol === undefined) {
        fail(`${path}.protocol`, `is required so Istio knows the protocol; one of ${PROTOCOLS.join(", ")}`);
    }
    return {
        name: optional(p, "name", path, (w, q) => string(w, q, DNS_LABEL), undefined),
        port: port(p.port, `${path}.port`),
        targetPort: optional(p, "targetPort", path, port, undefined),
        protocol: oneOf(p.protocol, `${path}.protocol`, PROTOCOLS),
    };
}

const stringMap = (v: unknown, p: string) => record(v, p, (w, q) => string(w, q));

/** Mounted files: absolute paths whose file names can be ConfigMap keys, none twice. */
function files(v: unknown, path: string): Record<string, string> {
    const f = stringMap(v, path);
    for (const p of Object.keys(f)) {
        if (!/^\/([^/]+\/)*[-._a-zA-Z0-9]+$/.test(p)) {
            fail(`${path}.${p}`, "must be an absolute file path whose name has only letters, digits, '-', '_' and '.'");
        }
    }
    unique(Object.keys(f).map((p) => p.slice(p.lastIndexOf("/") + 1)), path, "file name");
    return f;
}

function service(v: unknown, path: string, secrets: Map<string, Set<string>>): ServiceSpec {
    const s = object(v, path, [
        "name", "workload", "image", "versions", "ports", "replicas", "singleton", "resources", "probes", "env",
        "secretEnv", "securityContext", "emptyDirs", "files", "podAnnotations", "serviceAccount", "initContainers",
    ]);
    const name = string(s.name, `${path}.name`, DNS_LABEL);
    const ports = list(s.ports, `${path}.ports`, portSpec);
    if (ports.length === 0) {
        fail(`${path}.ports`, "needs at least one port");
    }
    unique(ports.map((p) => String(p.port)), `${path}.ports`, "port");
    unique(ports.map((p) => `${p.protocol}${p.name ? `-${p.name}` : ""}`), `${path}.ports`, "port name");
    const versions = optional(s, "versions", path, (w, q) => list(w, q, (x, xp): { name: string; image?: string } => {
        const o = object(x, xp, ["name", "image"]);
        return { name: string(o.name, `${xp}.name`, DNS_LABEL), image: optional(o, "image", xp, image, undefined) };
    }), [{ name: "v1" }]);
    if (versions.length === 0) {
        fail(`${path}.versions`, "needs at least one version");
    }
    unique(versions.map((x) => x.name), `${path}.versions`, "version");
    const workload = optional(s, "workload", path, (w, q) => oneOf(w, q, ["Deployment", "StatefulSet"] as const), "Deployment");
    if (workload === "StatefulSet" && versions.length > 1) {
        fail(`${path}.versions`, "a StatefulSet runs one version");
    }
    const secretEnv = optional(s, "secretEnv", path, (w, q) => record(w, q, (x, xp) => {
        const o = object(x, xp, ["secret", "key"]);
        const ref = { secret: string(o.secret, `${xp}.secret`), key: string(o.key, `${xp}.key`) };
        if (!secrets.get(ref.secret)?.has(ref.key)) {
            fail(xp, `refers to ${ref.secret}.${ref.key}, which is not a key of a secret the app declares`);
        }
        return ref;
    }), undefined);
    const fileMounts = optional(s, "files", path, files, undefined);
    if (fileMounts && s.emptyDirs && Object.hasOwn(s.emptyDirs as object, "spec-files")) {
        fail(`${path}.emptyDirs.spec-files`, "\"spec-files\" is the volume of the service's files; name the emptyDir differently");
    }
    return {
        name,
        workload,
        image: image(s.image, `${path}.image`),
        versions,
        ports,
        replicas: optional(s, "replicas", path, (w, q) => integer(w, q, 1, 100), undefined),
        singleton: optional(s, "singleton", path, boolean, undefined),
        resources: resources(s.resources, `${path}.resources`),
        probes: optional(s, "probes", path, (w, q) => {
            const o = object(w, q, ["startup", "readiness", "liveness"]);
            return {
                startup: optional(o, "startup", q, probe, undefined),
                readiness: optional(o, "readiness", q, probe, undefined),
                liveness: optional(o, "liveness", q, probe, undefined),
            };
        }, undefined),
        env: optional(s, "env", path, stringMap, undefined),
        secretEnv,
        securityContext: optional(s, "securityContext", path, (w, q) => {
            const o = object(w, q, ["runAsUser", "runAsNonRoot", "readOnlyRootFilesystem"]);
            return {
                runAsUser: optional(o, "runAsUser", q, (x, xp) => integer(x, xp, 0, 2147483647), undefined),
                runAsNonRoot: optional(o, "runAsNonRoot", q, boolean, undefined),
                readOnlyRootFilesystem: optional(o, "readOnlyRootFilesystem", q, boolean, undefined),
            };
        }, undefined),
        emptyDirs: optional(s, "emptyDirs", path, stringMap, undefined),
        files: fileMounts,
        podAnnotations: optional(s, "podAnnotations", path, stringMap, undefined),
        serviceAccount: optional(s, "serviceAccount", path, (w, q) => string(w, q, DNS_LABEL), undefined),
        initContainers: optional(s, "initContainers", path, (w, q) => list(w, q, (x, xp) => {
            const o = object(x, xp, ["name", "image", "command", "resources"]);
            return {
                name: string(o.name, `${xp}.name`, DNS_LABEL),
                image: image(o.image, `${xp}.image`),
                command: list(o.command, `${xp}.command`, (c, cp) => string(c, cp)),
                resources: resources(o.resources, `${xp}.resources`),
            };
        }), undefined),
    };
}

/**
 * Validates an app spec (from the catalog or inline in stack config). Every problem is refused
 * with the path of the offending field, e.g. `aks-istio-mesh:apps[2].spec.calls[0].to`.
 */
export function parseAppSpec(raw: unknown, path: string): AppSpec {
    const a = object(raw, path, ["name", "namespace", "services", "calls", "ingress", "secrets", "traffic"]);
    const name = string(a.name, `${path}.name`, DNS_LABEL);
    const secrets = optional(a, "secrets", path, (w, q) => list(w, q, (x, xp): SecretSpec => {
        const o = object(x, xp, ["name", "literals", "random"]);
        return {
            name: string(o.name, `${xp}.name`, DNS_LABEL),
            literals: optional(o, "literals", xp, stringMap, undefined),
            random: optional(o, "random", xp, (r, rp) => record(r, rp, (n, np) => integer(n, np, 16, 128)), undefined),
        };
    }), [] as SecretSpec[]);
    unique(secrets.map((s) => s.name), `${path}.secrets`, "secret");
    const keys = new Map(secrets.map((s) => [s.name, new Set([...Object.keys(s.literals ?? {}), ...Object.keys(s.random ?? {})])]));

    const services = list(a.services, `${path}.services`, (v, p) => service(v, p, keys));
    if (services.length === 0) {
        fail(`${path}.services`, "needs at least one service");
    }
    unique(services.map((s) => s.name), `${path}.services`, "service");
    // A ServiceAccount is a service's mesh identity: sharing one would merge what the callers may reach.
    unique(services.map((s) => s.serviceAccount ?? s.name), `${path}.services`, "serviceAccount");
    const reserved = services.findIndex((s) => s.name === "nothing");
    if (reserved >= 0) {
        fail(`${path}.services[${reserved}].name`, `"nothing" is reserved: the namespace's allow-nothing AuthorizationPolicy has that name`);
    }
    const byName = new Map(services.map((s) => [s.name, s]));
    const servicePort = (svc: string, p: number, at: string) => {
        const target = byName.get(svc);
        if (!target) {
            fail(at, `"${svc}" is not a service of ${name}; services: ${[...byName.keys()].join(", ")}`);
        }
        if (!target.ports.some((x) => x.port === p)) {
            fail(at, `${svc} has no port ${p}; its ports: ${target.ports.map((x) => x.port).join(", ")}`);
        }
        return target;
    };

    const calls = optional(a, "calls", path, (w, q) => list(w, q, (x, xp): CallSpec => {
        const o = object(x, xp, ["from", "to", "port"]);
        const from = string(o.from, `${xp}.from`);
        const source = byName.get(from);
        if (!source) {
            fail(`${xp}.from`, `"${from}" is not a service of ${name}; services: ${[...byName.keys()].join(", ")}`);
        }
        const to = string(o.to, `${xp}.to`);
        const p = port(o.port, `${xp}.port`);
        servicePort(to, p, `${xp}.to`);
        return { from, to, port: p };
    }), [] as CallSpec[]);
    unique(calls.map((c) => `${c.from} -> ${c.to}:${c.port}`), `${path}.calls`, "call");

    const ingress = optional(a, "ingress", path, (w, q) => list(w, q, (x, xp): IngressSpec => {
        const o = object(x, xp, ["service", "port", "paths"]);
        const svc = string(o.service, `${xp}.service`);
        const p = port(o.port, `${xp}.port`);
        servicePort(svc, p, `${xp}.service`);
        const paths = list(o.paths, `${xp}.paths`, (y, yp) => {
            const m = object(y, yp, ["match", "path"]);
            return { match: oneOf(m.match, `${yp}.match`, ["exact", "prefix"] as const), path: string(m.path, `${yp}.path`, { pattern: /^\//, hint: "an absolute path" }) };
        });
        if (paths.length === 0) {
            fail(`${xp}.paths`, "needs at least one path");
        }
        return { service: svc, port: p, paths };
    }), [] as IngressSpec[]);

    return {
        name,
        namespace: optional(a, "namespace", path, (w, q) => string(w, q, DNS_LABEL), name),
        services,
        calls,
        ingress,
        secrets,
        traffic: optional(a, "traffic", path, (w, q) => parseAppTraffic(w, q, services), undefined),
    };
}
