/**
 * A local Kubernetes control plane on 127.0.0.1 for the real-peer tier: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and kwok (fake nodes; scheduled pods become Running and Ready, so
 * Deployments really become available), plus what the AKS Istio add-on puts in a cluster for the revisions:
 * the aks-istio-system and aks-istio-ingress namespaces, each revision's Istio CRDs from the pinned bundle and
 * the ingress gateway Services of type LoadBalancer with an address in status.
 *
 * Processes run detached (`up` returns while they serve); their pids, ports and files live in a state
 * directory outside the repository, which `down` reads to stop exactly those processes and then removes.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError } from "../../policy-pack/lib/errors";
import { parseRevision, SUPPORTED_REVISIONS } from "../../policy-pack/lib/revisions";
import { ROOT } from "../offline/runtime";
import { schemaDirForRevision } from "../schema";
import { cacheRoot, findPin, resolveTool, ToolUnavailableError } from "../upstream";
import { generatePki, kubeconfig } from "./pki";

const KWOK_VERSION = findPin("kwok")!.version;

export const COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"] as const;
export type Component = (typeof COMPONENTS)[number];

/** Port offsets from the base port (default 36000): API server on 36443, etcd on 36379. */
const PORT_OFFSETS: Readonly<Record<string, number>> = {
    etcd: 379, "etcd-peer": 380, "kube-apiserver": 443, "kube-controller-manager": 257, "kube-scheduler": 259, kwok: 247,
};
export const DEFAULT_PORT_BASE = 36000;

/** The gateway Services the add-on creates, and the load-balancer address each gets in status here. */
export const GATEWAYS = [
    { name: "aks-istio-ingressgateway-external", ip: "127.0.0.10", internal: false },
    { name: "aks-istio-ingressgateway-internal", ip: "127.0.0.11", internal: true },
] as const;

/** Fake nodes, one per zone, so zone spread constraints and PDBs have somewhere to go. */
export const NODES = ["local-1", "local-2", "local-3"].map((zone, i) => ({ name: `kwok-node-${i}`, zone }));

export interface ClusterOptions {
    /** AKS revisions whose CRDs to install; default: Pulumi.local.yaml's mesh.revisions, else the newest supported. */
    readonly revisions?: readonly string[];
    /** Where pids, certificates, etcd data and logs live; default <cache>/cluster-local. */
    readonly stateDir?: string;
    /** First of the ports used (see PORT_OFFSETS); default 36000. */
    readonly portBase?: number;
    readonly env?: NodeJS.ProcessEnv;
    /** Progress lines; default none. */
    readonly log?: (line: string) => void;
}

/** What `up` returns and `status` reads back. */
export interface ClusterInfo {
    /** Admin kubeconfig (client certificate in system:masters). */
    readonly kubeconfig: string;
    /** The API server URL, https://127.0.0.1:<port>. */
    readonly server: string;
    readonly stateDir: string;
    readonly revisions: readonly string[];
    readonly pids: Readonly<Partial<Record<Component, number>>>;
    readonly ports: Readonly<Record<string, number>>;
    /** Seconds from start to ready with the add-on footprint applied. */
    readonly seconds: number;
}

export interface ClusterStatus {
    readonly running: boolean;
    readonly stateDir: string;
    readonly components: readonly { name: Component; pid: number; alive: boolean }[];
    readonly kubeconfig?: string;
    readonly server?: string;
    readonly revisions?: readonly string[];
}

/** A component that exited or never became ready: exit 1 with its last log line. */
export class ClusterStartError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ClusterStartError";
    }
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
    return env.AKS_ISTIO_MESH_CLUSTER_DIR || path.join(cacheRoot(env), "cluster-local");
}

export function portsFor(base: number): Record<string, number> {
    return Object.fromEntries(Object.entries(PORT_OFFSETS).map(([k, off]) => [k, base + off]));
}

/** The local stack's revisions from Pulumi.local.yaml when it names them, else the newest supported one. */
export function defaultRevisions(root: string = ROOT): string[] {
    const file = path.join(root, "Pulumi.local.yaml");
    if (fs.existsSync(file)) {
        let doc: { config?: Record<string, { revisions?: unknown }> } | null;
        try {
            doc = parse(fs.readFileSync(file, "utf8"));
        } catch (e) {
            throw new ConfigError(file, `is not valid YAML: ${(e as Error).message.split("\n")[0]}; fix it or pass --revisions`);
        }
        const config = doc?.config;
        const revisions = config?.["aks-istio-mesh:mesh"]?.revisions;
        if (Array.isArray(revisions) && revisions.every((r) => typeof r === "string")) return revisions;
    }
    return [SUPPORTED_REVISIONS[SUPPORTED_REVISIONS.length - 1].revision];
}

/** Checks revision names against the one revision table; oldest first, so the newest CRDs are applied last. */
export function checkRevisions(revisions: readonly string[]): string[] {
    const known = SUPPORTED_REVISIONS.map((r) => r.revision);
    for (const r of revisions) {
        if (!known.includes(r)) throw new ConfigError("--revisions", `"${r}" is not a supported revision; allowed: ${known.join(", ")}`);
    }
    if (revisions.length === 0) throw new ConfigError("--revisions", `is empty; name one or more of ${known.join(", ")}`);
    return [...new Set(revisions)].sort((a, b) => parseRevision(a)![1] - parseRevision(b)![1]);
}

/** Is anything listening on 127.0.0.1:port (or is the port otherwise unbindable)? */
export function portInUse(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(true));
        server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(false)));
    });
}

/** True while a process with this pid exists (signal 0 only checks). */
export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** True when the pid still runs a process started from this state directory (not a reused pid). */
function ours(pid: number, stateDir: string): boolean {
    if (!alive(pid)) return false;
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(stateDir);
    } catch {
        return true;
    }
}

interface State extends ClusterInfo {
    readonly startedAt: string;
}

const stateFile = (dir: string) => path.join(dir, "state.json");

function readState(dir: string): State | undefined {
    try {
        return JSON.parse(fs.readFileSync(stateFile(dir), "utf8")) as State;
    } catch {
        return undefined;
    }
}

function writeState(dir: string, state: State): void {
    fs.writeFileSync(`${stateFile(dir)}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    fs.renameSync(`${stateFile(dir)}.tmp`, stateFile(dir));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM each pid (started from stateDir) in reverse start order, then SIGKILL what is left after 10 s. */
async function stopPids(pids: Partial<Record<Component, number>>, stateDir: string): Promise<Component[]> {
    const order = [...COMPONENTS].reverse().filter((c) => pids[c] !== undefined && ours(pids[c]!, stateDir));
    for (const c of order) process.kill(pids[c]!, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (order.some((c) => alive(pids[c]!)) && Date.now() < deadline) await sleep(100);
    for (const c of order) if (alive(pids[c]!)) process.kill(pids[c]!, "SIGKILL");
    while (order.some((c) => alive(pids[c]!))) await sleep(50);
    return order;
}

/** The last line of a component's log that says something (its fatal error, usually). */
function lastLogLine(file: string): string {
    try {
        const lines = fs.readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
        const fatal = [...lines].reverse().find((l) => /^(E|F)\d{4}|error|fatal|panic/i.test(l));
        return (fatal ?? lines[lines.length - 1] ?? "no output").slice(0, 400);
    } catch {
        return "no log";
    }
}

function getOk(url: string, tls?: https.RequestOptions): Promise<boolean> {
    return new Promise((resolve) => {
        const req = (url.startsWith("https:") ? https : http).get(url, { ...tls, timeout: 2000 }, (res) => {
            res.resume();
            resolve(res.statusCode === 200);
        });
        req.on("error", () => resolve(false));
        req.on("timeout", () => {
            req.destroy();
            resolve(false);
        });
    });
}

/** kwok's stage sets the cluster uses: nodes become Ready and keep a heartbeat; pods go through their lifecycle. */
export const KWOK_STAGE_SETS = ["node/fast", "node/heartbeat", "pod/general"];

/**
 * kwok ships its default stages as YAML in its module (kustomize/stage), not in the binary; they are read
 * from the Go module cache at `up` (never copied into the repository) and passed to kwok with --config.
 */
function kwokStages(version: string, env: NodeJS.ProcessEnv): string {
    let modCache = env.GOMODCACHE;
    if (!modCache) {
        const r = spawnSync("go", ["env", "GOMODCACHE"], { env, encoding: "utf8" });
        modCache = r.status === 0 ? r.stdout.trim() : path.join(env.GOPATH || path.join(env.HOME || "/root", "go"), "pkg", "mod");
    }
    const base = path.join(modCache, `sigs.k8s.io/kwok@v${version}`, "kustomize", "stage");
    const docs: string[] = [];
    for (const set of KWOK_STAGE_SETS) {
        const kustomization = path.join(base, set, "kustomization.yaml");
        if (!fs.existsSync(kustomization)) {
            throw new ConfigError("kwok", `its stage definitions are not in the Go module cache (${path.join(base, set)}); run \`go mod download sigs.k8s.io/kwok@v${version}\``);
        }
        const resources = (parse(fs.readFileSync(kustomization, "utf8")) as { resources?: string[] }).resources ?? [];
        for (const file of resources) docs.push(fs.readFileSync(path.join(base, set, file), "utf8").trim());
    }
    return `${docs.join("\n---\n")}\n`;
}

/** The resolved binaries, refusing with one line naming what to run when one is not installed. */
async function binaries(env: NodeJS.ProcessEnv): Promise<Record<Component | "kubectl", string>> {
    const out: Partial<Record<Component | "kubectl", string>> = {};
    for (const name of [...COMPONENTS, "kubectl"] as const) {
        try {
            out[name] = (await resolveTool(name, { build: false, env })).path;
        } catch (e) {
            if (!(e instanceof ToolUnavailableError)) throw e;
            throw new ConfigError(name, `${e.tool.version} is not installed; run \`npm run tools\` first (it builds it once into the cache)`);
        }
    }
    return out as Record<Component | "kubectl", string>;
}

/** Starts the control plane and applies the add-on footprint; on any failure stops what it started. */
export async function startLocalCluster(opts: ClusterOptions = {}): Promise<ClusterInfo> {
    const env = opts.env ?? process.env;
    const log = opts.log ?? (() => undefined);
    const stateDir = path.resolve(opts.stateDir ?? defaultStateDir(env));
    const revisions = checkRevisions(opts.revisions ?? defaultRevisions());
    const ports = portsFor(opts.portBase ?? DEFAULT_PORT_BASE);
    const started = Date.now();

    const previous = readState(stateDir);
    if (previous && Object.values(previous.pids).some((pid) => pid !== undefined && ours(pid, stateDir))) {
        throw new ConfigError("up", `a local cluster is already running from ${stateDir} (${previous.server}); run \`npm run cluster:local -- down\` first`);
    }
    const bins = await binaries(env);
    for (const [name, port] of Object.entries(ports)) {
        if (await portInUse(port)) {
            throw new ConfigError("port", `127.0.0.1:${port} (for ${name}) is in use; stop what listens there or choose other ports with --port-base`);
        }
    }
    for (const revision of revisions) {
        const bundle = path.join(schemaDirForRevision(revision), "crd-all.gen.yaml");
        if (!fs.existsSync(bundle)) throw new ConfigError("--revisions", `${revision}: no Istio CRD bundle at ${bundle}; run \`npm run schemas:fetch\``);
    }

    const stages = kwokStages(KWOK_VERSION, env);

    fs.rmSync(stateDir, { recursive: true, force: true });
    fs.mkdirSync(path.join(stateDir, "logs"), { recursive: true });
    fs.writeFileSync(path.join(stateDir, "kwok-stages.yaml"), stages);
    const pki = generatePki(path.join(stateDir, "pki"));
    const server = `https://127.0.0.1:${ports["kube-apiserver"]}`;
    for (const client of ["admin", "kube-controller-manager", "kube-scheduler", "kwok"]) {
        fs.writeFileSync(path.join(stateDir, `${client}.kubeconfig`), kubeconfig(pki, server, client), { mode: 0o600 });
    }
    const kcfg = (client: string) => path.join(stateDir, `${client}.kubeconfig`);
    const pids: Partial<Record<Component, number>> = {};
    const children: Partial<Record<Component, ChildProcess>> = {};
    const info = (): State => ({
        kubeconfig: kcfg("admin"), server, stateDir, revisions, pids: { ...pids }, ports,
        seconds: Math.round((Date.now() - started) / 100) / 10, startedAt: new Date(started).toISOString(),
    });

    const launch = (name: Component, args: string[]) => {
        const out = fs.openSync(path.join(stateDir, "logs", `${name}.log`), "a");
        const child = spawn(bins[name], args, { cwd: stateDir, detached: true, stdio: ["ignore", out, out], env });
        fs.closeSync(out);
        child.unref();
        if (child.pid === undefined) throw new ClusterStartError(`${name} did not start`);
        pids[name] = child.pid;
        children[name] = child;
        writeState(stateDir, info());
        log(`${name} started (pid ${child.pid})`);
    };
    /** Waits for `ready`, failing fast when a started component has exited. */
    const waitFor = async (what: string, ready: () => Promise<boolean>, seconds: number) => {
        const deadline = Date.now() + seconds * 1000;
        while (Date.now() < deadline) {
            for (const [name, child] of Object.entries(children)) {
                if (child.exitCode !== null || child.signalCode !== null) {
                    const logFile = path.join(stateDir, "logs", `${name}.log`);
                    throw new ClusterStartError(`${name} exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}: ${lastLogLine(logFile)} (log: ${logFile})`);
                }
            }
            if (await ready()) return;
            await sleep(250);
        }
        throw new ClusterStartError(`${what} not ready after ${seconds} s (logs: ${path.join(stateDir, "logs")})`);
    };
    const kubectl = (args: string[], input?: string): string => {
        const r = spawnSync(bins.kubectl, ["--kubeconfig", kcfg("admin"), ...args], { input, encoding: "utf8", env, maxBuffer: 64 << 20 });
        if (r.status !== 0) throw new ClusterStartError(`kubectl ${args.slice(0, 3).join(" ")} failed: ${(r.stderr || r.error?.message || "").trim().split("\n")[0]}`);
        return r.stdout;
    };

    try {
        launch("etcd", [
            "--name", "local", "--data-dir", path.join(stateDir, "etcd"),
            "--listen-client-urls", `http://127.0.0.1:${ports.etcd}`, "--advertise-client-urls", `http://127.0.0.1:${ports.etcd}`,
            "--listen-peer-urls", `http://127.0.0.1:${ports["etcd-peer"]}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${ports["etcd-peer"]}`,
            "--initial-cluster", `local=http://127.0.0.1:${ports["etcd-peer"]}`,
            // A throwaway test cluster: durability is not worth the fsync latency.
            "--unsafe-no-fsync",
        ]);
        await waitFor("etcd", () => getOk(`http://127.0.0.1:${ports.etcd}/health`), 30);
        const p = (f: string) => path.join(pki, f);
        launch("kube-apiserver", [
            `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${ports["kube-apiserver"]}`,
            `--tls-cert-file=${p("apiserver.crt")}`, `--tls-private-key-file=${p("apiserver.key")}`, `--client-ca-file=${p("ca.crt")}`,
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${p("sa.pub")}`, `--service-account-signing-key-file=${p("sa.key")}`,
            "--service-cluster-ip-range=10.0.0.0/24", "--authorization-mode=RBAC", "--allow-privileged=true",
            `--cert-dir=${path.join(stateDir, "apiserver-certs")}`, "--profiling=false",
        ]);
        const tls: https.RequestOptions = { ca: fs.readFileSync(p("ca.crt")), cert: fs.readFileSync(p("admin.crt")), key: fs.readFileSync(p("admin.key")) };
        await waitFor("kube-apiserver /readyz", () => getOk(`${server}/readyz`, tls), 90);
        const components = (name: "kube-controller-manager" | "kube-scheduler") => [
            `--kubeconfig=${kcfg(name)}`, `--authentication-kubeconfig=${kcfg(name)}`, `--authorization-kubeconfig=${kcfg(name)}`,
            "--bind-address=127.0.0.1", `--secure-port=${ports[name]}`, "--leader-elect=false",
        ];
        launch("kube-controller-manager", [
            ...components("kube-controller-manager"),
            `--service-account-private-key-file=${p("sa.key")}`, `--root-ca-file=${p("ca.crt")}`,
            "--use-service-account-credentials=true",
            `--cluster-signing-cert-file=${p("ca.crt")}`, `--cluster-signing-key-file=${p("ca.key")}`,
        ]);
        launch("kube-scheduler", components("kube-scheduler"));
        launch("kwok", [
            `--kubeconfig=${kcfg("kwok")}`, `--config=${path.join(stateDir, "kwok-stages.yaml")}`, "--manage-all-nodes=true", "--cidr=10.244.0.0/16",
            "--node-ip=127.0.0.1", `--server-address=127.0.0.1:${ports.kwok}`,
        ]);
        kubectl(["apply", "-f", "-"], nodesYaml());
        await waitFor("kwok nodes Ready", async () => {
            const out = kubectl(["get", "nodes", "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}"]);
            return out.split("\n").filter((s) => s === "True").length === NODES.length;
        }, 60);
        log("nodes Ready; applying the AKS Istio add-on footprint");
        applyAddonFootprint(kubectl, revisions);
        await waitFor("default ServiceAccount", async () => kubectl(["get", "serviceaccount", "-n", "default", "-o", "name"]).includes("default"), 60);
        const state = info();
        writeState(stateDir, state);
        return state;
    } catch (e) {
        await stopPids(pids, stateDir);
        // Keep the component logs the message points to; the rest (state, keys, etcd data) goes.
        for (const entry of fs.readdirSync(stateDir)) {
            if (entry !== "logs") fs.rmSync(path.join(stateDir, entry), { recursive: true, force: true });
        }
        throw e;
    }
}

function nodesYaml(): string {
    return NODES.map((n) => [
        "apiVersion: v1",
        "kind: Node",
        "metadata:",
        `  name: ${n.name}`,
        "  annotations:",
        "    kwok.x-k8s.io/node: fake",
        "  labels:",
        "    type: kwok",
        "    kubernetes.io/os: linux",
        "    kubernetes.io/arch: amd64",
        `    kubernetes.io/hostname: ${n.name}`,
        "    topology.kubernetes.io/region: local",
        `    topology.kubernetes.io/zone: ${n.zone}`,
        "status:",
        "  allocatable: { cpu: \"32\", memory: 128Gi, pods: \"250\" }",
        "  capacity: { cpu: \"32\", memory: 128Gi, pods: \"250\" }",
    ].join("\n")).join("\n---\n");
}

/** Namespaces, CRDs (oldest revision first, so the newest bundle's CRDs win) and the gateway Services. */
function applyAddonFootprint(kubectl: (args: string[], input?: string) => string, revisions: readonly string[]): void {
    kubectl(["apply", "-f", "-"], ["aks-istio-system", "aks-istio-ingress"].map((ns) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`).join("---\n"));
    for (const revision of revisions) {
        kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=aks-istio-addon", "-f", path.join(schemaDirForRevision(revision), "crd-all.gen.yaml")]);
    }
    kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"]);
    kubectl(["apply", "-f", "-"], GATEWAYS.map((g) => gatewayService(g.name, g.internal)).join("---\n"));
    for (const g of GATEWAYS) {
        kubectl(["patch", "service", g.name, "-n", "aks-istio-ingress", "--subresource=status", "--type=merge",
            "-p", JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: g.ip }] } } })]);
    }
}

function gatewayService(name: string, internal: boolean): string {
    return [
        "apiVersion: v1",
        "kind: Service",
        "metadata:",
        `  name: ${name}`,
        "  namespace: aks-istio-ingress",
        "  labels: { app: " + name + ", istio: " + name + " }",
        ...(internal ? ["  annotations:", "    service.beta.kubernetes.io/azure-load-balancer-internal: \"true\""] : []),
        "spec:",
        "  type: LoadBalancer",
        `  selector: { app: ${name}, istio: ${name} }`,
        "  ports:",
        "  - { name: status-port, port: 15021, targetPort: 15021, protocol: TCP }",
        "  - { name: http2, port: 80, targetPort: 80, protocol: TCP }",
        "  - { name: https, port: 443, targetPort: 443, protocol: TCP }",
        "",
    ].join("\n");
}

/** Stops every process the state directory records (by pid) and removes the directory. */
export async function stopLocalCluster(opts: Pick<ClusterOptions, "stateDir" | "env"> = {}): Promise<{ stopped: Component[]; stateDir: string }> {
    const stateDir = path.resolve(opts.stateDir ?? defaultStateDir(opts.env));
    const state = readState(stateDir);
    const stopped = state ? await stopPids(state.pids, stateDir) : [];
    fs.rmSync(stateDir, { recursive: true, force: true });
    return { stopped, stateDir };
}

/** Which recorded components still run; `running` when all five do. */
export function localClusterStatus(opts: Pick<ClusterOptions, "stateDir" | "env"> = {}): ClusterStatus {
    const stateDir = path.resolve(opts.stateDir ?? defaultStateDir(opts.env));
    const state = readState(stateDir);
    if (!state) return { running: false, stateDir, components: [] };
    const components = COMPONENTS.filter((c) => state.pids[c] !== undefined).map((c) => ({ name: c, pid: state.pids[c]!, alive: ours(state.pids[c]!, stateDir) }));
    return {
        running: components.length === COMPONENTS.length && components.every((c) => c.alive),
        stateDir, components, kubeconfig: state.kubeconfig, server: state.server, revisions: state.revisions,
    };
}
