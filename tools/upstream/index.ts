/**
 * Resolves the upstream tools the real-peer tier runs. For each pinned tool, in order:
 *   1. the binary an environment variable names (e.g. AKS_ISTIO_MESH_ISTIOCTL_1_30), at the pinned minor;
 *   2. the first binary of that name on PATH reporting exactly the pinned version;
 *   3. the versioned cache <cache>/tools/<name>-<version>/<name> (built earlier, stamped);
 *   4. a build from its Go module (build.ts), unless building is switched off.
 * Tools the module proxy here cannot provide are reported as unavailable with the exact error.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../../policy-pack/lib/errors";
import { buildUnit, cachedBinary, cacheRoot, readStamp } from "./build";
import { findPin, PINS, ToolPin } from "./pins";

export { cacheRoot } from "./build";
export { PINS, findPin } from "./pins";
export type { ToolPin } from "./pins";

export type ToolSource = "env" | "path" | "cache" | "built";

/** A tool ready to run. */
export interface ResolvedTool {
    readonly name: string;
    /** The version the binary reports (the pin's, except for an env-named binary of another patch). */
    readonly version: string;
    /** Absolute path of the binary. */
    readonly path: string;
    readonly source: ToolSource;
    /** Wall seconds this resolution took (the build's seconds when source is "built"). */
    readonly seconds: number;
    /** Seconds of the cold build that produced a cached or built binary. */
    readonly coldSeconds?: number;
    /** The AKS revision an istioctl judges. */
    readonly revision?: string;
}

/** A pinned tool that cannot be provided here. */
export interface UnavailableTool {
    readonly name: string;
    readonly version: string;
    /** The exact error (a 403 from the module proxy, or why resolution stopped). */
    readonly reason: string;
    /** The pinned version that stands in for it, and why that is acceptable. */
    readonly substitute?: { readonly version: string; readonly reason: string };
}

export interface ResolveOptions {
    /** Build missing tools from their Go modules (default true); when false a missing tool is unavailable. */
    readonly build?: boolean;
    readonly env?: NodeJS.ProcessEnv;
    /** Progress lines (builds take minutes); default: none. */
    readonly log?: (line: string) => void;
    /** Only these tool names (resolveAll); default: every pin. */
    readonly only?: readonly string[];
}

/** A pinned tool that this machine cannot provide (thrown by resolveTool). */
export class ToolUnavailableError extends Error {
    constructor(readonly tool: UnavailableTool) {
        super(`${tool.name} ${tool.version} is unavailable: ${tool.reason}`);
        this.name = "ToolUnavailableError";
    }
}

/**
 * Starts a Pulumi plugin the way the engine does, reads the port it prints, asks GetPluginInfo and stops it;
 * run in a child Node so the probe stays synchronous like a version command.
 */
const PLUGIN_INFO = `
const [binary, grpcPath, rpcPath, emptyPath] = process.argv.slice(1);
const grpc = require(grpcPath), rpc = require(rpcPath), { Empty } = require(emptyPath);
const child = require("child_process").spawn(binary, [], { stdio: ["ignore", "pipe", "ignore"] });
const done = (code) => { child.kill(); process.exit(code); };
child.on("exit", () => process.exit(1));
child.stdout.once("data", (d) => {
    const client = new rpc.ResourceProviderClient("127.0.0.1:" + String(d).trim(), grpc.credentials.createInsecure());
    client.getPluginInfo(new Empty(), (err, info) => { if (!err) console.log(info.getVersion()); done(err ? 1 : 0); });
});`;

function pluginVersionOutput(binary: string, env: NodeJS.ProcessEnv): { status: number | null; output: string } {
    const modules = ["@grpc/grpc-js", "@pulumi/pulumi/proto/provider_grpc_pb", "google-protobuf/google/protobuf/empty_pb"]
        .map((m) => require.resolve(m, { paths: [path.join(__dirname, "..", ".."), path.dirname(require.resolve("@pulumi/pulumi"))] }));
    const r = spawnSync(process.execPath, ["-e", PLUGIN_INFO, binary, ...modules], { env, encoding: "utf8", timeout: 20_000 });
    return { status: r.error ? null : r.status, output: r.stdout ?? "" };
}

/** Runs a binary's version command; the captured version, or undefined when it does not run or match. */
export function probeVersion(binary: string, pin: Pick<ToolPin, "versionArgs" | "versionPattern" | "versionOverGrpc">, env: NodeJS.ProcessEnv = process.env): string | undefined {
    if (pin.versionOverGrpc) {
        const p = pluginVersionOutput(binary, env);
        return p.status === 0 ? parseVersion(p.output, pin.versionPattern) : undefined;
    }
    const r = spawnSync(binary, [...pin.versionArgs], { env, encoding: "utf8", timeout: 10_000 });
    if (r.error || r.status !== 0) return undefined;
    return parseVersion(`${r.stdout}\n${r.stderr}`, pin.versionPattern);
}

/** The first capture of the pin's pattern in a version command's output. */
export function parseVersion(output: string, pattern: RegExp): string | undefined {
    return pattern.exec(output)?.[1];
}

/** Same major.minor: an env-named binary may be another patch of the pinned minor. */
export function sameMinor(a: string, b: string): boolean {
    return a.split(".").slice(0, 2).join(".") === b.split(".").slice(0, 2).join(".");
}

/** Every executable file called `binary` on a PATH string, in PATH order. */
export function onPath(binary: string, pathVar: string | undefined): string[] {
    return (pathVar ?? "").split(path.delimiter).filter(Boolean).map((dir) => path.resolve(dir, binary)).filter((file) => {
        try {
            fs.accessSync(file, fs.constants.X_OK);
            return fs.statSync(file).isFile();
        } catch {
            return false;
        }
    });
}

/** What the lookup steps need; injectable so the order is testable without real binaries. */
export interface Lookup {
    readonly env: NodeJS.ProcessEnv;
    readonly probe: (binary: string, pin: ToolPin) => string | undefined;
    readonly onPath: (binary: string) => string[];
    readonly cached: (pin: ToolPin) => { path: string; coldSeconds?: number } | undefined;
}

/**
 * Steps 1–3 (no build): the env-named binary, else PATH at the pinned version, else the cache. An env
 * variable naming something that does not run or is another minor is a mistake to report, not to skip.
 */
export function locate(pin: ToolPin, lookup: Lookup): Omit<ResolvedTool, "seconds"> | undefined {
    const named = lookup.env[pin.envVar];
    if (named) {
        const version = lookup.probe(named, pin);
        const how = pin.versionOverGrpc ? "as a plugin answering GetPluginInfo" : `"${pin.name} ${pin.versionArgs.join(" ")}"`;
        if (!version) throw new ConfigError(pin.envVar, `${named} does not run ${how}; name a ${pin.name} ${pin.version} binary or unset it`);
        if (!sameMinor(version, pin.version)) throw new ConfigError(pin.envVar, `${named} is ${pin.name} ${version}; ${pin.version} (or another ${pin.version.split(".").slice(0, 2).join(".")} patch) is needed`);
        return { name: pin.name, version, path: path.resolve(named), source: "env", revision: pin.revision };
    }
    for (const file of lookup.onPath(pin.name)) {
        if (lookup.probe(file, pin) === pin.version) {
            return { name: pin.name, version: pin.version, path: file, source: "path", revision: pin.revision };
        }
    }
    const hit = lookup.cached(pin);
    if (hit) return { name: pin.name, version: pin.version, path: hit.path, source: "cache", coldSeconds: hit.coldSeconds, revision: pin.revision };
    return undefined;
}

function realLookup(env: NodeJS.ProcessEnv): Lookup {
    const root = cacheRoot(env);
    return {
        env,
        probe: (binary, pin) => probeVersion(binary, pin, env),
        onPath: (binary) => onPath(binary, env.PATH),
        cached: (pin) => {
            const stamp = readStamp(root, pin);
            if (stamp) return { path: cachedBinary(root, pin), coldSeconds: stamp.seconds };
            // A binary put there by another build (no stamp) counts when it reports the pinned version.
            const file = cachedBinary(root, pin);
            return fs.existsSync(file) && probeVersion(file, pin, env) === pin.version ? { path: file } : undefined;
        },
    };
}

function seconds(since: bigint): number {
    return Math.round(Number(process.hrtime.bigint() - since) / 1e6) / 1000;
}

async function resolvePin(pin: ToolPin, opts: ResolveOptions): Promise<ResolvedTool> {
    const env = opts.env ?? process.env;
    const started = process.hrtime.bigint();
    const found = locate(pin, realLookup(env));
    if (found) return { ...found, seconds: seconds(started) };
    if (!pin.build) {
        throw new ToolUnavailableError({ name: pin.name, version: pin.version, reason: pin.unavailable ?? "no build recipe", substitute: pin.substitute });
    }
    if (opts.build === false) {
        throw new ToolUnavailableError({ name: pin.name, version: pin.version, reason: `not installed (${pin.envVar} unset, not on PATH at ${pin.version}, not in the cache) and building is off` });
    }
    const root = cacheRoot(env);
    const unit = PINS.filter((p) => p.build === pin.build);
    const built = await buildUnit(pin.build, unit, root, env, opts.log ?? (() => undefined));
    return { name: pin.name, version: pin.version, path: cachedBinary(root, pin), source: "built", seconds: built, coldSeconds: built, revision: pin.revision };
}

/**
 * One tool by name (and version, where several are pinned: istioctl). Throws ToolUnavailableError when this
 * machine cannot provide it, ConfigError when a build cannot start (no Go, no proxy, no disk) or an env var is
 * wrong, ToolBuildError when a build fails.
 */
export async function resolveTool(name: string, opts: ResolveOptions & { version?: string } = {}): Promise<ResolvedTool> {
    const pin = findPin(name, opts.version);
    if (!pin) {
        const known = [...new Set(PINS.map((p) => `${p.name} ${p.version}`))].join(", ");
        throw new ConfigError("tool", `"${name}${opts.version ? ` ${opts.version}` : ""}" is not pinned; pinned: ${known}`);
    }
    return resolvePin(pin, opts);
}

/**
 * The istioctl that judges a revision's objects: its own pinned patch when available, else the substitute
 * its pin names (one minor of skew), with `substituteFor` saying so.
 */
export async function istioctlForRevision(revision: string, opts: ResolveOptions = {}): Promise<ResolvedTool & { substituteFor?: string; substituteReason?: string }> {
    const pin = PINS.find((p) => p.name === "istioctl" && p.revision === revision);
    if (!pin) throw new ConfigError("revision", `"${revision}" has no pinned istioctl; pinned: ${PINS.filter((p) => p.revision).map((p) => p.revision).join(", ")}`);
    try {
        return await resolvePin(pin, opts);
    } catch (e) {
        if (!(e instanceof ToolUnavailableError) || !pin.substitute) throw e;
        const stand = await resolveTool("istioctl", { ...opts, version: pin.substitute.version });
        return { ...stand, revision, substituteFor: pin.version, substituteReason: pin.substitute.reason };
    }
}

/** Every pinned tool, one build at a time in pin order; unavailable ones listed with their reason. */
export async function resolveAll(opts: ResolveOptions = {}): Promise<{ tools: ResolvedTool[]; unavailable: UnavailableTool[] }> {
    const tools: ResolvedTool[] = [];
    const unavailable: UnavailableTool[] = [];
    for (const pin of PINS.filter((p) => !opts.only || opts.only.includes(p.name))) {
        try {
            tools.push(await resolvePin(pin, opts));
        } catch (e) {
            if (!(e instanceof ToolUnavailableError)) throw e;
            unavailable.push(e.tool);
        }
    }
    return { tools, unavailable };
}
