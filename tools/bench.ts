/**
 * Benchmark (not a test): wall times of the developer loop and the offline preview, against budgets.
 *
 *   npm run bench -- [--json] [--skip-tests]
 *
 * --json prints { "cases": [ { "name", "services", "ms" } ], "baselineMs" }.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { ROOT } from "./offline/runtime";

interface Case {
    name: string;
    services?: number;
    ms: number;
    budgetMs?: number;
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

const node = process.execPath;
const tsNode = [require.resolve("ts-node/dist/bin"), "--transpile-only"];
const tsc = require.resolve("typescript/bin/tsc");

function main(): void {
    const json = process.argv.includes("--json");
    const skipTests = process.argv.includes("--skip-tests");
    const baselineMs = timed(node, ["-e", "require('@pulumi/pulumi')"]);
    const cases: Case[] = [
        { name: "tsc --noEmit", ms: timed(node, [tsc, "--noEmit", "-p", "tsconfig.json"]), budgetMs: 15_000 },
    ];
    for (const stack of ["dev", "prod"]) {
        const out = path.join(ROOT, "out", "bench", stack);
        cases.push({ name: `preview ${stack}`, ms: timed(node, [...tsNode, "tools/preview.ts", "--stack", stack, "--out", out, "--json"]), budgetMs: 3 * baselineMs });
    }
    if (!skipTests) {
        cases.push({ name: "npm test", ms: timed("npm", ["test", "--silent"]), budgetMs: 90_000 });
    }
    if (json) {
        console.log(JSON.stringify({ cases: cases.map(({ name, services, ms }) => ({ name, services, ms })), baselineMs }, null, 2));
        return;
    }
    console.log(`baseline: node -e "require('@pulumi/pulumi')"  ${baselineMs} ms`);
    for (const c of cases) {
        const verdict = c.budgetMs === undefined ? "" : c.ms <= c.budgetMs ? `  within budget ${c.budgetMs} ms` : `  OVER budget ${c.budgetMs} ms`;
        console.log(`${c.name.padEnd(22)} ${String(c.ms).padStart(7)} ms${verdict}`);
    }
}

main();
