/**
 * Resolves (and on first run builds) the upstream tools of the real-peer tier:
 *
 *   npm run tools -- [--json] [--no-build] [name ...]
 *
 * Each tool comes from its environment variable, else PATH at the pinned version, else the cache
 * ($XDG_CACHE_HOME/aks-istio-mesh/tools), else a build from its Go module (progress on stderr).
 * --json prints { tools: [ { name, version, path, source, seconds, coldSeconds?, revision? } ],
 *                 unavailable: [ { name, version, reason, substitute? } ] }.
 * Exit 0 when every tool that can be provided here was; 1 when a build failed; 2 when a build cannot start
 * (no Go, no module proxy, not enough disk) or an argument or environment variable is wrong.
 */
import { ConfigError } from "../policy-pack/lib/errors";
import { PINS, ResolvedTool, resolveAll, UnavailableTool } from "./upstream";

function parseArgs(argv: string[]): { json: boolean; build: boolean; names: string[] } {
    const names: string[] = [];
    let json = false;
    let build = true;
    const known = new Set(PINS.map((p) => p.name));
    for (const arg of argv) {
        if (arg === "--json") json = true;
        else if (arg === "--no-build") build = false;
        else if (arg.startsWith("-")) throw new ConfigError(arg, "is not an option; allowed: --json, --no-build, tool names");
        else if (!known.has(arg)) throw new ConfigError(arg, `is not a pinned tool; pinned: ${[...known].join(", ")}`);
        else names.push(arg);
    }
    return { json, build, names };
}

function print(tools: ResolvedTool[], unavailable: UnavailableTool[]): void {
    for (const t of tools) {
        const cold = t.coldSeconds !== undefined && t.source !== "built" ? `  (cold build ${t.coldSeconds} s)` : "";
        console.log(`${t.name.padEnd(26)} ${t.version.padEnd(8)} ${t.source.padEnd(5)} ${String(t.seconds).padStart(7)} s  ${t.path}${cold}`);
    }
    for (const u of unavailable) {
        console.log(`${u.name.padEnd(26)} ${u.version.padEnd(8)} unavailable: ${u.reason.replace(/\s*\n\s*/g, " ")}`);
        if (u.substitute) console.log(`${"".padEnd(35)} stands in: ${u.name} ${u.substitute.version} (${u.substitute.reason})`);
    }
}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    const log = (line: string) => console.error(`[tools] ${line}`);
    const all = await resolveAll({ build: args.build, log, only: args.names.length ? args.names : undefined });
    if (args.json) console.log(JSON.stringify(all, null, 2));
    else print(all.tools, all.unavailable);
    return 0;
}

main().then((code) => process.exit(code), (e: Error) => {
    // A refusal (ConfigError) is the user's to fix: exit 2; a failed build (ToolBuildError) names its log: exit 1.
    console.error(`error: ${e.message}`);
    process.exit(e instanceof ConfigError ? 2 : 1);
});
