/**
 * Builds pinned tools from their Go modules into the versioned cache: one generated wrapper module per build
 * unit (under <cache>/src/<unit>/, never in the repository), `go build` with the release flags, then each
 * binary copied to <cache>/tools/<name>-<version>/ beside a stamp recording how long the cold build took.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../../policy-pack/lib/errors";
import { BuildRecipe, Replace, ToolPin } from "./pins";

/** `$XDG_CACHE_HOME/aks-istio-mesh` (default `~/.cache/aks-istio-mesh`), or `$AKS_ISTIO_MESH_CACHE`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
    if (env.AKS_ISTIO_MESH_CACHE) return env.AKS_ISTIO_MESH_CACHE;
    return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "aks-istio-mesh");
}

/** Where a built tool lives: `<cache>/tools/<name>-<version>/<name>`. */
export function cachedBinary(root: string, pin: Pick<ToolPin, "name" | "version">): string {
    return path.join(root, "tools", `${pin.name}-${pin.version}`, pin.name);
}

/** Written beside a built binary; its presence is what makes the cache entry trusted. */
export interface BuildStamp {
    readonly name: string;
    readonly version: string;
    readonly module: string;
    readonly moduleVersion: string;
    readonly go: string;
    /** Wall seconds of the build that produced it (the whole unit, e.g. the four Kubernetes binaries). */
    readonly seconds: number;
    readonly builtAt: string;
}

export function stampFile(root: string, pin: Pick<ToolPin, "name" | "version">): string {
    return path.join(path.dirname(cachedBinary(root, pin)), "build.json");
}

export function readStamp(root: string, pin: Pick<ToolPin, "name" | "version">): BuildStamp | undefined {
    try {
        const stamp = JSON.parse(fs.readFileSync(stampFile(root, pin), "utf8")) as BuildStamp;
        return stamp.name === pin.name && stamp.version === pin.version && fs.existsSync(cachedBinary(root, pin)) ? stamp : undefined;
    } catch {
        return undefined;
    }
}

/** The wrapper module's go.mod: require the module (and any companions) and repeat the replaces that matter. */
export function wrapperGoMod(recipe: BuildRecipe, replaces: readonly Replace[]): string {
    const lines = [`module aks-istio-mesh.local/build/${recipe.unit.replace(/-[\d.]+$/, "")}`, "", "go 1.25.0", ""];
    const requires = [{ module: recipe.module, version: recipe.moduleVersion }, ...(recipe.require ?? [])];
    lines.push("require (", ...requires.map((r) => `\t${r.module} ${r.version}`), ")");
    if (replaces.length > 0) {
        lines.push("", "replace (", ...replaces.map((r) => `\t${r.from} => ${r.to} ${r.version}`), ")");
    }
    return `${lines.join("\n")}\n`;
}

/** The `go build` arguments for a recipe, writing binaries into `outDir`. */
export function goBuildArgs(recipe: BuildRecipe, outDir: string): string[] {
    const args = ["build", "-mod=mod", "-trimpath"];
    if (recipe.pgoOff) args.push("-pgo=off");
    if (recipe.tags?.length) args.push("-tags", recipe.tags.join(","));
    args.push("-ldflags", ["-s", "-w", ...(recipe.ldflags ?? [])].join(" "));
    const packages = Object.values(recipe.packages);
    // One package: -o names the file (the etcd main package is the module root, named "v3" otherwise).
    args.push("-o", packages.length === 1 ? path.join(outDir, Object.keys(recipe.packages)[0]) : `${outDir}${path.sep}`);
    return [...args, ...packages];
}

/** What a failed `go` run means, from its output: a missing module proxy is a refusal, a 403 is final. */
export function classifyGoFailure(output: string): { kind: "proxy-unreachable" | "refused" | "failed"; line: string } {
    const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
    const find = (re: RegExp) => lines.find((l) => re.test(l));
    const unreachable = find(/dial tcp|no such host|connection refused|i\/o timeout|TLS handshake timeout|network is unreachable|GOPROXY=off/);
    if (unreachable) return { kind: "proxy-unreachable", line: unreachable };
    const refused = find(/403 Forbidden/);
    if (refused) return { kind: "refused", line: refused };
    const errorLine = [...lines].reverse().find((l) => !/^go: downloading|^rc=/.test(l)) ?? "no output";
    return { kind: "failed", line: errorLine };
}

/** A build that ran and failed (not a refusal): exit 1 with the first meaningful line and the log. */
export class ToolBuildError extends Error {
    constructor(readonly tool: string, readonly line: string, readonly log: string) {
        super(`${tool}: build failed: ${line} (full log: ${log})`);
        this.name = "ToolBuildError";
    }
}

/** Go's settings that decide whether a build can start at all. */
interface GoEnv {
    readonly version: string;
    readonly GOPROXY: string;
    readonly GOMODCACHE: string;
    readonly GOCACHE: string;
}

function goEnv(env: NodeJS.ProcessEnv, forTool: string): GoEnv {
    const r = spawnSync("go", ["env", "-json", "GOVERSION", "GOPROXY", "GOMODCACHE", "GOCACHE"], { env, encoding: "utf8" });
    if (r.error || r.status !== 0) {
        throw new ConfigError("go", `not found on PATH; it is needed to build ${forTool} (install Go 1.25 or newer, or install the tool and put it on PATH)`);
    }
    const e = JSON.parse(r.stdout) as Record<string, string>;
    return { version: e.GOVERSION, GOPROXY: e.GOPROXY, GOMODCACHE: e.GOMODCACHE, GOCACHE: e.GOCACHE };
}

function freeGb(dir: string): number {
    let probe = dir;
    while (!fs.existsSync(probe)) probe = path.dirname(probe);
    const s = fs.statfsSync(probe);
    return (s.bavail * s.bsize) / 1e9;
}

/**
 * Refuses, with one line naming what is missing, when a build cannot start: no Go, GOPROXY=off, or less free
 * disk than the recipe needs where the module cache, the build cache or the tool cache live.
 */
export function preflight(recipe: BuildRecipe, tool: string, root: string, env: NodeJS.ProcessEnv): GoEnv {
    const go = goEnv(env, tool);
    if (!go.GOPROXY || go.GOPROXY === "off") {
        throw new ConfigError("GOPROXY", `is "off"; building ${tool} needs a Go module proxy (e.g. GOPROXY=https://proxy.golang.org,direct)`);
    }
    for (const dir of new Set([go.GOMODCACHE, go.GOCACHE, root])) {
        const gb = freeGb(dir);
        if (gb < recipe.diskGb) {
            throw new ConfigError("disk", `${dir} has ${gb.toFixed(1)} GB free; building ${tool} needs about ${recipe.diskGb} GB for module and build caches`);
        }
    }
    return go;
}

function goEnvFor(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    // GOTOOLCHAIN=local: never download another toolchain; CGO off: static binaries, as upstream releases them.
    return { ...env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOFLAGS: "" };
}

function runGo(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, logFile: string, onTick: (seconds: number) => void): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
        const log = fs.openSync(logFile, "a");
        fs.writeSync(log, `$ go ${args.join(" ")}\n`);
        const child = spawn("go", args, { cwd, env: goEnvFor(env), stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        const take = (d: Buffer) => {
            output += d.toString();
            fs.writeSync(log, d);
        };
        child.stdout.on("data", take);
        child.stderr.on("data", take);
        const started = Date.now();
        const timer = setInterval(() => onTick(Math.round((Date.now() - started) / 1000)), 30_000);
        child.on("close", (status) => {
            clearInterval(timer);
            fs.closeSync(log);
            resolve({ status, output });
        });
    });
}

function failure(tool: string, output: string, logFile: string, proxy: string): Error {
    const f = classifyGoFailure(output);
    if (f.kind === "proxy-unreachable") return new ConfigError("GOPROXY", `the Go module proxy (${proxy}) is unreachable while building ${tool}: ${f.line}`);
    return new ToolBuildError(tool, f.line, logFile);
}

type Tick = (seconds: number) => void;

async function downloadModule(recipe: BuildRecipe, src: string, env: NodeJS.ProcessEnv, logFile: string, tick: Tick, proxy: string, label: string): Promise<{ GoMod: string; Dir: string }> {
    const dl = await runGo(["mod", "download", "-json", `${recipe.module}@${recipe.moduleVersion}`], src, env, logFile, tick);
    const info = dl.status === 0 ? JSON.parse(dl.output) as { GoMod?: string; Dir?: string } : undefined;
    if (!info?.GoMod || !info.Dir) throw failure(label, dl.output, logFile, proxy);
    return { GoMod: info.GoMod, Dir: info.Dir };
}

/** A generated wrapper go.mod in `src` requiring the module; returns the directory to build in. */
async function wrapperModule(recipe: BuildRecipe, src: string, env: NodeJS.ProcessEnv, logFile: string, tick: Tick, proxy: string, label: string): Promise<string> {
    let replaces = [...(recipe.replaces ?? [])];
    if (recipe.replacesFromGoMod) {
        const info = await downloadModule(recipe, src, env, logFile, tick, proxy, label);
        replaces = [...replaces, ...recipe.replacesFromGoMod(fs.readFileSync(info.GoMod, "utf8"))];
    }
    fs.writeFileSync(path.join(src, "go.mod"), wrapperGoMod(recipe, replaces));
    return src;
}

/**
 * A writable copy of the module (the module cache is read-only) under `src/module`, its replaces set and its
 * generator run; returns the directory to build in.
 */
async function moduleCopy(recipe: BuildRecipe, inModule: NonNullable<BuildRecipe["inModule"]>, src: string, env: NodeJS.ProcessEnv, logFile: string, tick: Tick, proxy: string, label: string): Promise<string> {
    const info = await downloadModule(recipe, src, env, logFile, tick, proxy, label);
    const dir = path.join(src, "module");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.cpSync(info.Dir, dir, { recursive: true });
    makeWritable(dir);
    const steps: { args: string[]; cwd: string; env: NodeJS.ProcessEnv }[] = inModule.replaces.map((r) => ({
        args: ["mod", "edit", "-replace", `${r.from}=${r.to}@${r.version}`], cwd: dir, env,
    }));
    if (inModule.generate) {
        steps.push({ args: ["run", ...inModule.generate.args], cwd: path.join(dir, inModule.generate.dir), env: { ...env, ...inModule.generate.env } });
    }
    for (const step of steps) {
        const r = await runGo(step.args, step.cwd, step.env, logFile, tick);
        if (r.status !== 0) throw failure(label, r.output, logFile, proxy);
    }
    return dir;
}

function makeWritable(dir: string): void {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
        const file = path.join(entry.parentPath, entry.name);
        fs.chmodSync(file, entry.isDirectory() ? 0o755 : 0o644);
    }
    fs.chmodSync(dir, 0o755);
}

/**
 * Builds every binary of a recipe and installs each into the tool cache with its stamp. `pins` are the pins
 * sharing the recipe (the Kubernetes binaries build together). Returns the build's wall seconds.
 */
export async function buildUnit(recipe: BuildRecipe, pins: readonly ToolPin[], root: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<number> {
    const label = pins.map((p) => p.name).join(", ");
    const go = preflight(recipe, label, root, env);
    const src = path.join(root, "src", recipe.unit);
    const outDir = path.join(src, "out");
    fs.mkdirSync(outDir, { recursive: true });
    const logFile = path.join(src, "build.log");
    fs.writeFileSync(logFile, "");
    const started = Date.now();
    log(`${label} ${pins[0].version}: building from ${recipe.module}@${recipe.moduleVersion} with ${go.version} (log: ${logFile})`);
    const tick = (s: number) => log(`${label}: still building, ${s} s`);

    const workDir = recipe.inModule
        ? await moduleCopy(recipe, recipe.inModule, src, env, logFile, tick, go.GOPROXY, label)
        : await wrapperModule(recipe, src, env, logFile, tick, go.GOPROXY, label);
    const built = await runGo(goBuildArgs(recipe, outDir), workDir, env, logFile, tick);
    if (built.status !== 0) throw failure(label, built.output, logFile, go.GOPROXY);
    const seconds = Math.round((Date.now() - started) / 1000);

    for (const pin of pins) {
        const target = cachedBinary(root, pin);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        // Copy then rename, so a concurrent reader never sees a half-written binary.
        fs.copyFileSync(path.join(outDir, pin.name), `${target}.${process.pid}`);
        fs.chmodSync(`${target}.${process.pid}`, 0o755);
        fs.renameSync(`${target}.${process.pid}`, target);
        const stamp: BuildStamp = {
            name: pin.name, version: pin.version, module: recipe.module, moduleVersion: recipe.moduleVersion,
            go: go.version, seconds, builtAt: new Date().toISOString(),
        };
        fs.writeFileSync(stampFile(root, pin), `${JSON.stringify(stamp, null, 2)}\n`);
    }
    log(`${label} ${pins[0].version}: built in ${seconds} s`);
    return seconds;
}
