/**
 * Benchmark (not a test): wall times of the developer loop and the offline preview, against budgets.
 *
 *   npm run bench -- [--json] [--skip-tests] [--runs <n>]
 *
 * The floor is a bare `node -e "require('@pulumi/pulumi')"`, measured in the same run as every case it
 * bounds (the median of --runs, default 3, for it and for each preview). Cases: tsc --noEmit (≤ 15 s); the
 * offline preview as `npm run preview:offline` runs it (the build's up-to-date check, then the compiled
 * preview) of each stack (≤ 3× the floor) and of all stacks in one run (≤ 4×); where the prod preview's
 * time goes, from a V8 CPU profile of it; synthetic meshes of 100, 200 and 400 services (400 ≤ 4.5× the
 * 100 case and ≤ 10 s); `npm test` by step (≤ 90 s in all); warm resolution of the upstream tools (≤ 5 s)
 * and their stamped cold builds (≤ 45 min in all); the real engine on the local stack (`up` from empty, a
 * no-change preview, `destroy`, onto a local control plane it starts and stops) beside that stack's offline
 * preview, which --skip-engine leaves out.
 * --json prints { "cases": [ { "name", "services", "ms", "budgetMs", "ratio" } ], "baselineMs", "breakdown" }.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { ConfigError } from "../policy-pack/lib/errors";
import { benchLocalStack } from "./engine";
import { loadConfig, ROOT, stackNames } from "./offline/runtime";

interface Case {
    name: string;
    services?: number;
    ms: number;
    budgetMs?: number;
    /** The case's time over the floor's, for the preview cases. */
    ratio?: number;
    /** Time per preview phase, from the preview's own report. */
    phases?: Record<string, number>;
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    const ms = Number((process.hrtime.bigint() - t) / 1_000_000n);
    if (r.status !== 0) {
        throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}):\n${r.stderr}`);
    }
    return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * A dev stack whose apps are synthetic: namespaces of 50 services, each calling the next two, the
 * first one behind the ingress, so routing, authorization and the picture grow with the mesh.
 */
function syntheticConfig(services: number): string {
    const values = loadConfig("dev").values;
    const apps = [];
    for (let a = 0; a * 50 < services; a++) {
        const count = Math.min(50, services - a * 50);
        const names = Array.from({ length: count }, (_, i) => `svc-${i}`);
        apps.push({
            name: `synth-${a}`,
            spec: {
                name: `synth-${a}`,
                services: names.map((name) => ({
                    name,
                    image: "ghcr.io/example/synthetic:1.0.0",
                    ports: [{ port: 8080, protocol: "http" }],
                    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
                })),
                calls: names.flatMap((from, i) => [i + 1, i + 2].filter((j) => j < count).map((j) => ({ from, to: names[j], port: 8080 }))),
                ingress: [{ service: names[0], port: 8080, paths: [{ match: "prefix", path: "/" }] }],
            },
        });
    }
    values["aks-istio-mesh:apps"] = apps;
    // dev's hosts name pets and bookinfo, which the synthetic stack does not deploy; its apps answer on <app>.internal.
    values["aks-istio-mesh:ingress"] = { hosts: {} };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-")), `synthetic-${services}.yaml`);
    fs.writeFileSync(file, stringify({ config: values }));
    return file;
}

const node = process.execPath;
const tsc = require.resolve("typescript/bin/tsc");
/** What `npm run preview:offline` runs: the build's up-to-date check, then the compiled preview. */
const BUILD = [tsc, "-b", "tsconfig.build.json"];
const PREVIEW = path.join("dist", "tools", "preview.js");

/**
 * Upstream tools: warm resolution timed here (`npm run tools -- --no-build`, ≤ 5 s); cold builds are too long
 * to repeat, so their seconds come from the stamps `npm run tools` wrote when it built them (≤ 45 min in all).
 */
function toolCases(): Case[] {
    const t = process.hrtime.bigint();
    const r = spawnSync(node, ["--import", "tsx", "tools/tools.ts", "--json", "--no-build"], { cwd: ROOT, encoding: "utf8" });
    const ms = Number((process.hrtime.bigint() - t) / 1_000_000n);
    if (r.status !== 0) throw new Error(`npm run tools -- --json --no-build failed (exit ${r.status}):\n${r.stderr}`);
    const tools = (JSON.parse(r.stdout) as { tools: { name: string; version: string; coldSeconds?: number }[] }).tools;
    // The Kubernetes binaries share one build (same version, same stamped seconds): one case for them.
    const builds = new Map<string, Case>();
    for (const x of tools.filter((y) => y.coldSeconds !== undefined)) {
        const key = `${x.version}:${x.coldSeconds}`;
        const prev = builds.get(key);
        builds.set(key, { name: prev ? `${prev.name}+${x.name}` : `cold build ${x.version} ${x.name}`, ms: x.coldSeconds! * 1000 });
    }
    const total = [...builds.values()].reduce((sum, c) => sum + c.ms, 0);
    return [{ name: "tools warm resolution", ms, budgetMs: 5_000 }, ...builds.values(), { name: "tools cold builds total", ms: total, budgetMs: 45 * 60_000 }];
}

// ---------------------------------------------------------------------------------------------------------
// Where the preview's time goes: a V8 CPU profile of one preview, its samples put in buckets.

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
}

interface CpuProfile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

const RESOLVE = new Set(["Module._resolveFilename", "_resolveFilename", "resolveForCJSWithHooks", "defaultResolveImplForCJSLoading"]);
const COMPILE = new Set(["wrapSafe", "compileFunctionForCJSLoader", "compileSourceTextModule"]);

/** The package a script belongs to (`@pulumi/azure-native/<submodule>` apart), or the repository directory. */
function owner(url: string): string {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)(?:\/([^/]+))?/.exec(url);
    if (pkg) return pkg[1] === "@pulumi/azure-native" ? `${pkg[1]}/${pkg[2]}` : pkg[1];
    const own = /\/dist\/([^/]+)\//.exec(url) ?? new RegExp(`${ROOT}/([^/]+)/`).exec(url);
    return own ? `${own[1]}/` : url.startsWith("wasm://") ? "@hpcc-js/wasm-graphviz" : "";
}

const SCHEMA = new Set(["ajv", "ajv-formats", "fast-uri", "@marcbachmann/cel-js", "tools/"]);
const SDK = new Set(["@pulumi/pulumi", "google-protobuf", "@grpc/grpc-js"]);

/**
 * Buckets each sample: loading (by the package whose top-level code is being loaded, outermost first:
 * what the tools or the program asked for, dependencies included), else running (by the code at the top of
 * the stack). Module resolution and compilation are also summed across packages.
 */
function breakdown(profile: CpuProfile): { buckets: [string, number][]; resolveMs: number; compileMs: number; totalMs: number } {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const buckets = new Map<string, number>();
    let resolveMs = 0, compileMs = 0, totalMs = 0;
    profile.samples.forEach((id, i) => {
        const ms = (profile.timeDeltas[i] ?? 0) / 1000;
        totalMs += ms;
        const stack: ProfileNode["callFrame"][] = [];
        for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) stack.push(byId.get(n)!.callFrame);
        if (stack.some((f) => RESOLVE.has(f.functionName))) resolveMs += ms;
        if (COMPILE.has(stack[0].functionName)) compileMs += ms;
        // Module top-level code is the anonymous function at the very start of its script.
        const topLevel = (f: ProfileNode["callFrame"]) => f.functionName === "" && f.lineNumber === 0 && f.columnNumber === 0 && f.url !== "" && !f.url.startsWith("node:");
        const loading = [...stack].reverse().find((f) => topLevel(f) && f.url.includes("/node_modules/"));
        const leaf = stack.find((f) => f.url !== "" && !f.url.startsWith("node:"));
        let bucket: string;
        if (loading) {
            bucket = `load ${owner(loading.url)}`;
        } else if (stack.slice(0, -1).some((f) => topLevel(f) && !f.url.endsWith(PREVIEW))) {
            bucket = "load (and run the top level of) the program's and tools' modules";
        } else if (stack[0].functionName === "(garbage collector)") {
            bucket = "garbage collection";
        } else {
            const pkg = leaf ? owner(leaf.url) : "";
            bucket = SDK.has(pkg) ? "run: SDK mock runtime (the program's resources)"
                : SCHEMA.has(pkg) ? "run: schema check (ajv, CEL)"
                : pkg === "@hpcc-js/wasm-graphviz" ? "run: Graphviz (wasm start, layout)"
                : pkg === "yaml" ? "run: YAML (manifests.yaml, CRD bundle)"
                : pkg === "zod" ? "run: config validation (zod)"
                : pkg ? `run: ${pkg}` : "run: node internals, idle";
        }
        buckets.set(bucket, (buckets.get(bucket) ?? 0) + ms);
    });
    return { buckets: [...buckets].sort((a, b) => b[1] - a[1]), resolveMs, compileMs, totalMs };
}

function profileBreakdown(stack: string, wallMs: number): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-prof-"));
    try {
        timed(node, ["--cpu-prof", "--cpu-prof-dir", dir, PREVIEW, "--stack", stack, "--out", path.join(dir, "out"), "--json"]);
        const file = fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!;
        const { buckets, resolveMs, compileMs, totalMs } = breakdown(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")));
        // The profiler slows what it samples; shares are its, milliseconds are those shares of the unprofiled run.
        const line = (name: string, ms: number) => `  ${name.padEnd(66)} ${String(Math.round((ms / totalMs) * wallMs)).padStart(6)} ms  ${((ms / totalMs) * 100).toFixed(1).padStart(5)} %`;
        const top = buckets.filter(([, ms]) => ms / totalMs >= 0.01);
        const rest = buckets.slice(top.length).reduce((s, [, ms]) => s + ms, 0);
        return [
            `where preview ${stack} spends its ${wallMs} ms (V8 CPU profile, shares of sampled time):`,
            ...top.map(([name, ms]) => line(name, ms)),
            ...(rest > 0 ? [line("the rest (each < 1 %)", rest)] : []),
            line("of all the above: resolving module paths", resolveMs),
            line("of all the above: compiling modules", compileMs),
        ];
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

// ---------------------------------------------------------------------------------------------------------

const OPTIONS = ["--json", "--skip-tests", "--skip-engine", "--runs"];

function parseArgs(argv: string[]): { json: boolean; skipTests: boolean; skipEngine: boolean; runs: number } {
    const opts = { json: false, skipTests: false, skipEngine: false, runs: 3 };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--json") opts.json = true;
        else if (a === "--skip-tests") opts.skipTests = true;
        else if (a === "--skip-engine") opts.skipEngine = true;
        else if (a === "--runs") {
            const n = Number(argv[++i]);
            if (!Number.isInteger(n) || n < 1) throw new ConfigError("--runs", `needs a whole number of runs of at least 1, not ${argv[i] ?? "nothing"}`);
            opts.runs = n;
        } else {
            // A mistyped option (e.g. --skip-test) would otherwise start the full suite silently.
            throw new ConfigError(a, `is not an option of bench; allowed: ${OPTIONS.join(", ")}`);
        }
    }
    return opts;
}

async function main(): Promise<void> {
    let opts: ReturnType<typeof parseArgs>;
    try {
        opts = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error(`error: ${(e as Error).message}`);
        process.exit(2);
    }
    const cases: Case[] = [];
    // Built before anything is timed, as the first preview:offline of a fresh clone would; timed apart.
    cases.push({ name: "build (tsc -b, if stale)", ms: timed(node, BUILD) });
    const floors: number[] = [];
    const floor = () => floors.push(timed(node, ["-e", "require('@pulumi/pulumi')"]));
    const preview = (name: string, args: string[], services?: number, env = process.env): Case => {
        const out = path.join(ROOT, "out", "bench", name.replace(/\W+/g, "-"));
        const runs = Array.from({ length: opts.runs }, () => {
            floor(); // beside each preview run, so both see the same machine
            return timed(node, BUILD) + timed(node, [PREVIEW, ...args, "--out", out, "--json"], env);
        });
        const report = JSON.parse(fs.readFileSync(path.join(out, args.includes("--stack") ? "" : "dev", "report.json"), "utf8"));
        return { name, services, ms: median(runs), phases: report.timings as Record<string, number> };
    };
    const stacks = stackNames();
    const previews = [...stacks.map((stack) => preview(`preview ${stack}`, ["--stack", stack])), preview("preview all stacks", [])];
    // Without Node's compile cache (tools/offline/compile-cache.ts), to show what it is worth.
    const uncached = preview("preview prod, no compile cache", ["--stack", "prod"], undefined, { ...process.env, NODE_DISABLE_COMPILE_CACHE: "1" });
    const baselineMs = median(floors);
    for (const c of previews) {
        c.budgetMs = (c.name === "preview all stacks" ? 4 : 3) * baselineMs;
        c.ratio = c.ms / baselineMs;
    }
    uncached.ratio = uncached.ms / baselineMs;
    previews.push(uncached);
    const tsx = median(Array.from({ length: opts.runs }, () => timed(node, ["--import", "tsx", "-e", "require('@pulumi/pulumi')"])));
    const prod = previews.find((c) => c.name === "preview prod") ?? previews[0];
    const profile = profileBreakdown(prod.name.replace("preview ", ""), prod.ms);
    cases.push({ name: "tsc --noEmit", ms: timed(node, [tsc, "--noEmit", "-p", "tsconfig.json"]), budgetMs: 15_000 }, ...previews);
    const synthetic = [100, 200, 400].map((services) => preview(`preview ${services} services`, ["--stack", "dev", "--config", syntheticConfig(services)], services));
    synthetic[2].budgetMs = Math.min(10_000, Math.round(4.5 * synthetic[0].ms));
    cases.push(...synthetic);
    if (!opts.skipTests) {
        // npm test's steps one by one (what `npm test` runs, in its order), so a slow step shows.
        const steps = ["schemas:fetch", "typecheck", "lint", "test:unit"].map((step): Case => ({ name: `npm test: ${step}`, ms: timed("npm", ["run", "--silent", step]) }));
        cases.push(...steps, { name: "npm test", ms: steps.reduce((s, c) => s + c.ms, 0), budgetMs: 90_000 });
    }
    cases.push(...toolCases());
    if (!opts.skipEngine) {
        // The real engine on the local stack, beside the offline preview of the same stack (in the previews above).
        const e = await benchLocalStack();
        cases.push(
            { name: "cluster:local start", ms: e.clusterStartMs },
            { name: `engine up local (${e.resources} created)`, ms: e.upMs },
            { name: "engine preview, no change", ms: e.previewMs },
            { name: "engine destroy local", ms: e.destroyMs },
        );
    }
    if (opts.json) {
        console.log(JSON.stringify({ cases: cases.map(({ name, services, ms, budgetMs, ratio }) => ({ name, services, ms, budgetMs, ratio })), baselineMs, breakdown: profile }, null, 2));
        return;
    }
    console.log(`floor: node -e "require('@pulumi/pulumi')"  ${baselineMs} ms (median of ${floors.length}, beside each preview run); under --import tsx ${tsx} ms`);
    for (const c of cases) {
        const verdict = c.budgetMs === undefined ? "" : c.ms <= c.budgetMs ? `  within budget ${Math.round(c.budgetMs)} ms` : `  OVER budget ${Math.round(c.budgetMs)} ms`;
        const ratio = c.ratio === undefined ? "" : `  ${c.ratio.toFixed(2)}× floor`;
        const phases = c.phases ? `  (${Object.entries(c.phases).map(([k, v]) => `${k.replace(/Ms$/, "")} ${v}`).join(", ")})` : "";
        console.log(`${c.name.padEnd(31)} ${String(c.ms).padStart(7)} ms${ratio}${verdict}${phases}`);
    }
    console.log(profile.join("\n"));
}

main().catch((e: Error) => {
    console.error(`error: ${e.message.split("\n")[0]}`);
    process.exit(1);
});
