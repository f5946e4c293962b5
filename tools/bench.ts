/**
 * Benchmark (not a test): wall times of the developer loop and the offline preview, against budgets.
 *
 *   npm run bench -- [--json] [--skip-tests]
 *
 * Cases: tsc --noEmit (≤ 15 s), npm test (≤ 90 s), the offline preview of dev and prod (≤ 3× a bare
 * require of @pulumi/pulumi), and synthetic meshes of 100, 200 and 400 services (400 ≤ 4.5× the
 * 100 case and ≤ 10 s), warm resolution of the upstream tools (≤ 5 s) and their stamped cold builds
 * (≤ 45 min in all), and the real engine on the local stack (`up` from empty, a no-change preview, `destroy`
 * onto a local control plane it starts and stops) beside that stack's offline preview; --skip-engine leaves it
 * out. --json prints { "cases": [ { "name", "services", "ms" } ], "baselineMs" }.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { benchLocalStack } from "./engine";
import { loadConfig, ROOT } from "./offline/runtime";

interface Case {
    name: string;
    services?: number;
    ms: number;
    budgetMs?: number;
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
const runTs = ["--import", "tsx"];
const tsc = require.resolve("typescript/bin/tsc");

/**
 * Upstream tools: warm resolution timed here (`npm run tools -- --no-build`, ≤ 5 s); cold builds are too long
 * to repeat, so their seconds come from the stamps `npm run tools` wrote when it built them (≤ 45 min in all).
 */
function toolCases(): Case[] {
    const t = process.hrtime.bigint();
    const r = spawnSync(node, [...runTs, "tools/tools.ts", "--json", "--no-build"], { cwd: ROOT, encoding: "utf8" });
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

const OPTIONS = ["--json", "--skip-tests", "--skip-engine"];

async function main(): Promise<void> {
    // A mistyped option (e.g. --skip-test) would otherwise start the full suite silently.
    const unknown = process.argv.slice(2).find((a) => !OPTIONS.includes(a));
    if (unknown !== undefined) {
        console.error(`error: ${unknown}: is not an option of bench; allowed: ${OPTIONS.join(", ")}`);
        process.exit(2);
    }
    const json = process.argv.includes("--json");
    const skipTests = process.argv.includes("--skip-tests");
    const baselineMs = timed(node, ["-e", "require('@pulumi/pulumi')"]);
    const cases: Case[] = [
        { name: "tsc --noEmit", ms: timed(node, [tsc, "--noEmit", "-p", "tsconfig.json"]), budgetMs: 15_000 },
    ];
    const preview = (name: string, args: string[], services?: number): Case => {
        const out = path.join(ROOT, "out", "bench", name.replace(/\W+/g, "-"));
        const ms = timed(node, [...runTs, "tools/preview.ts", ...args, "--out", out, "--json"]);
        const phases = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")).timings as Record<string, number>;
        return { name, services, ms, phases };
    };
    for (const stack of ["dev", "prod"]) {
        cases.push({ ...preview(`preview ${stack}`, ["--stack", stack]), budgetMs: 3 * baselineMs });
    }
    const synthetic = [100, 200, 400].map((services) => preview(`preview ${services} services`, ["--stack", "dev", "--config", syntheticConfig(services)], services));
    synthetic[2].budgetMs = Math.min(10_000, Math.round(4.5 * synthetic[0].ms));
    cases.push(...synthetic);
    if (!skipTests) {
        cases.push({ name: "npm test", ms: timed("npm", ["test", "--silent"]), budgetMs: 90_000 });
    }
    cases.push(...toolCases());
    if (!process.argv.includes("--skip-engine")) {
        cases.push(preview("preview local", ["--stack", "local"]));
        const e = await benchLocalStack();
        cases.push(
            { name: "cluster:local start", ms: e.clusterStartMs },
            { name: `engine up local (${e.resources})`, ms: e.upMs },
            { name: "engine preview, no change", ms: e.previewMs },
            { name: "engine destroy local", ms: e.destroyMs },
        );
    }
    if (json) {
        console.log(JSON.stringify({ cases: cases.map(({ name, services, ms }) => ({ name, services, ms })), baselineMs }, null, 2));
        return;
    }
    console.log(`baseline: node -e "require('@pulumi/pulumi')"  ${baselineMs} ms`);
    for (const c of cases) {
        const verdict = c.budgetMs === undefined ? "" : c.ms <= c.budgetMs ? `  within budget ${c.budgetMs} ms` : `  OVER budget ${c.budgetMs} ms`;
        const phases = c.phases ? `  (${Object.entries(c.phases).map(([k, v]) => `${k.replace(/Ms$/, "")} ${v}`).join(", ")})` : "";
        console.log(`${c.name.padEnd(26)} ${String(c.ms).padStart(7)} ms${verdict}${phases}`);
    }
}

main().catch((e: Error) => {
    console.error(`error: ${e.message.split("\n")[0]}`);
    process.exit(1);
});
