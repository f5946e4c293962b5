/**
 * Generates each stack's policy-pack config from its stack file: the pack judges the environment
 * the stack declares (`aks-istio-mesh:environment`) and approves exactly its mTLS exceptions.
 *
 *   npm run policy:config -- [--check] [<stack> ...]
 *
 * Without stacks, every Pulumi.<stack>.yaml. Writes policy-pack/config/<stack>.json; with --check
 * writes nothing and exits 1 when a file is missing or stale. Exit 2 on a bad stack file.
 */
import * as fs from "fs";
import * as path from "path";
import { CATALOG } from "../components/apps/catalog";
import { packSettings, parseStackConfig } from "../config";
import { ConfigError } from "../policy-pack/lib/errors";
import { regenerateCommand } from "../policy-pack/lib/stamp";
import { toPolicyPackConfig } from "../policy-pack/rules";
import { loadConfig, ROOT, stackNames } from "./offline/runtime";

export function policyConfigFile(stack: string, root = ROOT): string {
    return path.join(root, "policy-pack", "config", `${stack}.json`);
}

/** The policy-pack config a stack's file (or `configFile`, a stack-config file of the same format) calls for, as the file holds it. */
export function policyConfigText(stack: string, root = ROOT, configFile?: string): string {
    const config = parseStackConfig(stack, loadConfig(stack, configFile, root).values, CATALOG);
    return `${JSON.stringify(toPolicyPackConfig(packSettings(config)), null, 2)}\n`;
}

/**
 * Stops a run whose pack config is missing or was generated from other settings: the pack would
 * judge by its defaults (as prod, no exceptions) or by stale ones, and say nothing about it.
 */
export function assertPolicyConfigCurrent(stack: string, root = ROOT, configFile?: string): string {
    const file = policyConfigFile(stack, root);
    const shown = path.relative(root, file);
    const expected = policyConfigText(stack, root, configFile);
    const from = configFile ? path.relative(root, configFile) : `Pulumi.${stack}.yaml`;
    if (!fs.existsSync(file)) {
        throw new ConfigError(shown, `is missing: without it the pack judges stack ${stack} by its defaults (as prod, no mTLS exceptions); run ${regenerateCommand(stack)}`);
    }
    if (fs.readFileSync(file, "utf8") !== expected) {
        throw new ConfigError(shown, `is stale: it was not generated from the settings ${from} holds now (environment, mTLS exceptions, revisions), so the pack would judge by old ones; run ${regenerateCommand(stack)}`);
    }
    return file;
}

/** The command: exit 0 when every file is current (or written), 1 when --check finds one stale, 2 on bad input. */
export function run(argv: string[], root = ROOT): { code: number; stdout: string; stderr: string } {
    const out: string[] = [];
    const check = argv.includes("--check");
    const unknown = argv.find((a) => a.startsWith("-") && a !== "--check");
    if (unknown) {
        return { code: 2, stdout: "", stderr: `policy:config: unknown option ${unknown}; usage: npm run policy:config -- [--check] [<stack> ...]\n` };
    }
    const stacks = argv.filter((a) => !a.startsWith("-"));
    const errors: string[] = [];
    for (const stack of stacks.length > 0 ? stacks : stackNames(root)) {
        let text: string;
        try {
            text = policyConfigText(stack, root);
        } catch (e) {
            if (e instanceof ConfigError) {
                return { code: 2, stdout: out.join(""), stderr: `error: stack ${stack}: ${e.message}\n` };
            }
            throw e;
        }
        const file = policyConfigFile(stack, root);
        const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
        if (current === text) {
            out.push(`${path.relative(root, file)} is current\n`);
        } else if (check) {
            errors.push(`${path.relative(root, file)} is ${current === undefined ? "missing" : "stale"}: run ${regenerateCommand(stack)}\n`);
        } else {
            fs.writeFileSync(file, text);
            out.push(`wrote ${path.relative(root, file)}\n`);
        }
    }
    return { code: errors.length > 0 ? 1 : 0, stdout: out.join(""), stderr: errors.join("") };
}

if (require.main === module) {
    const result = run(process.argv.slice(2));
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.code;
}
