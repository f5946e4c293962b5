/**
 * The real Pulumi engine for a stack of this project: the CLI built from its Go module, driven through the
 * Automation API's inline program (the SDK serves the language runtime in this process and starts the CLI with
 * `--client`, so no `pulumi-language-nodejs` is needed), the Kubernetes provider plugin built from its module as
 * an ambient plugin beside the CLI, a `file://` backend and PULUMI_HOME in a scratch directory, and the policy
 * pack served from `policy-pack/` by a launcher the engine starts as a binary analyzer plugin.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as auto from "@pulumi/pulumi/automation";
import { ConfigError } from "../policy-pack/lib/errors";
import { startLocalCluster, stopLocalCluster } from "./cluster";
import { forgetProgramModules, ROOT } from "./offline/runtime";
import { resolveTool } from "./upstream";

/** Ports of the bench's control plane: apart from cluster:local's 36000 and the e2e tier's 38000. */
const BENCH_PORT_BASE = 39000;

/**
 * The passphrase of the `local` stack's secrets provider: its `secure:` values (the apps' passwords on a local
 * control plane) are encrypted with it, so it is not a secret; docs/existing-cluster.md names it.
 */
export const LOCAL_STACK_PASSPHRASE = "aks-istio-mesh-local";

export interface EngineStack {
    readonly stack: auto.Stack;
    /** Options every `preview`/`up` of the tier passes: the pack and the stack's pack config. */
    readonly policy: { policyPacks: string[]; policyPackConfigs: string[] };
    /** The scratch directory (workspace copy of the project files, state, PULUMI_HOME). */
    readonly dir: string;
    /** Removes the stack's state and the scratch directory (after `destroy`). */
    remove(): Promise<void>;
}

/**
 * A CLI root as `PulumiCommand.get({ root })` expects it (`<root>/bin/pulumi`), with the provider beside it.
 * Nothing is built here: a missing tool fails at once with one line naming `npm run tools`, which builds it.
 */
async function cliRoot(dir: string): Promise<string> {
    const [cli, provider] = await Promise.all(["pulumi", "pulumi-resource-kubernetes"].map((name) =>
        resolveTool(name, { build: false }).catch((e: Error) => { throw new ConfigError(name, `${e.message.split("\n")[0]}; run npm run tools to build it`); })));
    const bin = path.join(dir, "cli", "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync(cli.path, path.join(bin, "pulumi"));
    // The Automation API puts the CLI's directory first on PATH: a provider there is the engine's ambient plugin,
    // used whatever version the SDK asks for.
    fs.symlinkSync(provider.path, path.join(bin, "pulumi-resource-kubernetes"));
    return path.dirname(bin);
}

/**
 * An executable the engine launches as a binary analyzer plugin (`--policy-pack <file>`): it serves the
 * unchanged pack from `policy-pack/` the way the pack's language host would (run-policy-pack in the pack dir).
 */
function policyLauncher(dir: string): string {
    const packDir = path.join(ROOT, "policy-pack");
    const entry = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
    const file = path.join(dir, "policy-pack-launcher");
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    fs.writeFileSync(file, `#!/bin/sh\ncd ${q(packDir)} && exec ${q(process.execPath)} ${q(entry)} "$1" .\n`, { mode: 0o755 });
    return file;
}

/**
 * The program as `pulumi up` runs it: index.ts evaluated afresh on each run (its module state is per run), with
 * the stack's environment variables, which the program reads in this process (e.g. KUBECONFIG).
 */
function program(env: Record<string, string>): auto.PulumiFn {
    return async () => {
        forgetProgramModules(ROOT);
        const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
        Object.assign(process.env, env);
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            return { ...require(path.join(ROOT, "index.ts")) as Record<string, unknown> };
        } finally {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
        }
    };
}

/**
 * A fresh stack `name` of the project, in a scratch workspace holding copies of Pulumi.yaml and
 * Pulumi.<name>.yaml (the tracked files stay untouched), with its own state backend. `env` is added to the CLI's
 * environment (e.g. KUBECONFIG).
 */
export async function engineStack(name: string, env: Record<string, string>): Promise<EngineStack> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `aks-istio-mesh-e2e-engine-${name}-`));
    try {
        const root = await cliRoot(dir);
        const work = path.join(dir, "project");
        fs.mkdirSync(work);
        for (const file of ["Pulumi.yaml", `Pulumi.${name}.yaml`]) fs.copyFileSync(path.join(ROOT, file), path.join(work, file));
        fs.mkdirSync(path.join(dir, "state"));
        const pulumiCommand = await auto.PulumiCommand.get({ root });
        const envVars = {
            PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
            PULUMI_HOME: path.join(dir, "home"),
            PULUMI_CONFIG_PASSPHRASE: LOCAL_STACK_PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            ...env,
        };
        const stack = await auto.LocalWorkspace.createStack({ stackName: name, projectName: "aks-istio-mesh", program: program(env) }, { workDir: work, envVars, pulumiCommand });
        const policy = { policyPacks: [policyLauncher(dir)], policyPackConfigs: [path.join(ROOT, "policy-pack", "config", `${name}.json`)] };
        return {
            stack, policy, dir,
            async remove() {
                await stack.workspace.removeStack(name);
                fs.rmSync(dir, { recursive: true, force: true });
            },
        };
    } catch (e) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
    }
}

/** What `npm run bench` reports of the real engine on the local stack. */
export interface EngineBench {
    readonly resources: number;
    readonly clusterStartMs: number;
    readonly upMs: number;
    readonly previewMs: number;
    readonly destroyMs: number;
}

const ms = (since: bigint) => Number((process.hrtime.bigint() - since) / 1_000_000n);

/**
 * The local stack deployed by the real engine onto its own local control plane (ports apart from the e2e
 * tier's and `npm run cluster:local`'s): `up` from empty with the pack, a no-change preview, `destroy`. The
 * cluster and the scratch state are removed on every path.
 */
export async function benchLocalStack(): Promise<EngineBench> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-istio-mesh-bench-cluster-"));
    let engine: EngineStack | undefined;
    try {
        let t = process.hrtime.bigint();
        const cluster = await startLocalCluster({ stateDir, portBase: BENCH_PORT_BASE, revisions: ["asm-1-30"] });
        const clusterStartMs = ms(t);
        engine = await engineStack("local", { KUBECONFIG: cluster.kubeconfig });
        t = process.hrtime.bigint();
        const up = await engine.stack.up({ ...engine.policy, color: "never" });
        const upMs = ms(t);
        t = process.hrtime.bigint();
        await engine.stack.preview({ ...engine.policy, color: "never", expectNoChanges: true });
        const previewMs = ms(t);
        t = process.hrtime.bigint();
        await engine.stack.destroy({ color: "never" });
        const destroyMs = ms(t);
        return { resources: up.summary.resourceChanges?.create ?? 0, clusterStartMs, upMs, previewMs, destroyMs };
    } finally {
        await engine?.remove().catch(() => undefined);
        await stopLocalCluster({ stateDir });
        fs.rmSync(stateDir, { recursive: true, force: true });
    }
}
