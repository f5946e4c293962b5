/**
 * Offline preview: runs the real program for a stack under the Pulumi SDK's mock runtime (no CLI,
 * no cloud, no credentials) and writes what the stack would create.
 *
 *   npm run preview:offline -- [--stack <name>] [--config <file>] [--out <dir>] [--schemas <dir>] [--policy-config <file>] [--json]
 *
 * Without --stack every stack with a Pulumi.<stack>.yaml is previewed. Exit 0 when clean, 1 on a
 * mandatory policy violation or schema error, 2 on bad input.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { countByType, manifests, manifestsYaml, resourceTree } from "./offline/render";
import { meshGraph, renderSvg, toDot } from "./offline/meshgraph";
import { ROOT, runProgram, StackRun } from "./offline/runtime";
import { bundleDirs } from "./fetch-schemas";
import { assertPolicyConfigCurrent } from "./policy-config";
import { BundleUsed, SchemaError, validateAgainstBundles } from "./schema";
import { ConfigError } from "../policy-pack/lib/errors";
import { evaluate, KubeObject, toPolicyObject, Violation } from "../policy-pack/rules";

interface Options {
    stacks: string[];
    configFile?: string;
    out?: string;
    schemas?: string;
    policyConfig?: string;
    json: boolean;
}

const USAGE = "usage: npm run preview:offline -- [--stack <name>] [--config <file>] [--out <dir>] [--schemas <dir>] [--policy-config <file>] [--json]";

function parseArgs(argv: string[]): Options {
    const opts: Options = { stacks: [], json: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) {
                throw new ConfigError(a, `needs a value; ${USAGE}`);
            }
            return v;
        };
        if (a === "--stack") {
            opts.stacks.push(value());
        } else if (a === "--config") {
            opts.configFile = path.resolve(value());
        } else if (a === "--out") {
            opts.out = path.resolve(value());
        } else if (a === "--policy-config") {
            opts.policyConfig = path.resolve(value());
        } else if (a === "--schemas") {
            opts.schemas = path.resolve(value());
        } else if (a === "--json") {
            opts.json = true;
        } else {
            throw new ConfigError(a, `is not an argument of preview:offline; ${USAGE}`);
        }
    }
    if (opts.configFile && opts.stacks.length !== 1) {
        throw new ConfigError("--config", "needs exactly one --stack: the file is that stack's config");
    }
    if (opts.stacks.length === 0) {
        opts.stacks = fs.readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();
    }
    return opts;
}

export interface SchemaReport {
    /** Istio CRD bundles the objects were checked against, one per configured revision. */
    bundles: BundleUsed[];
    checked: number;
    errors: SchemaError[];
}

export interface PolicyReport {
    /** The `--policy-pack-config` file applied, as `pulumi preview --policy-pack-config` would. */
    config?: string;
    violations: Violation[];
}

export interface Report {
    stack: string;
    counts: { resources: number; kubernetesObjects: number; byType: Record<string, number> };
    policy: PolicyReport;
    schema: SchemaReport;
    outputs: Record<string, unknown>;
    timings: Record<string, number>;
}

/** The stack's revisions, as its ManagedCluster declares them, else (an existing cluster) as the program exports them. */
function stackRevisions(run: StackRun): string[] {
    const mc = run.resources.find((r) => r.type === "azure-native:containerservice:ManagedCluster");
    return ((mc?.inputs.serviceMeshProfile as { istio?: { revisions?: string[] } } | undefined)?.istio?.revisions)
        ?? (Array.isArray(run.outputs.revisions) ? run.outputs.revisions as string[] : []);
}

/**
 * Checks every Istio object against the CRDs of each Istio line the stack runs (both during a
 * canary upgrade), the way the API server would.
 */
function checkSchemas(objects: Record<string, any>[], dirs: ReadonlyMap<string, string>): SchemaReport {
    const istio = objects.filter((o) => /\.istio\.io\//.test(String(o.apiVersion)));
    const { bundles, errors } = validateAgainstBundles(istio, dirs);
    return { bundles, checked: istio.length, errors };
}

/**
 * Runs the policy pack's rules on what the engine would hand the pack: every resource the stack
 * registers or reads, with the stack's policy config (policy-pack/config/<stack>.json by default).
 */
function checkPolicies(run: StackRun, configFile: string | undefined): PolicyReport {
    let policies: Record<string, any> | undefined;
    if (configFile) {
        try {
            policies = JSON.parse(fs.readFileSync(configFile, "utf8"));
        } catch (e) {
            throw new ConfigError(configFile, `cannot read the policy config: ${(e as Error).message}`);
        }
    }
    const objects = run.resources.map((r) => toPolicyObject(r.type, r.name, r.inputs)).filter((o): o is KubeObject => o !== undefined);
    try {
        const violations = evaluate(objects, { policies });
        const rank = (v: Violation) => (v.enforcement === "mandatory" ? 0 : 1);
        return { config: configFile && path.relative(ROOT, configFile), violations: violations.sort((a, b) => rank(a) - rank(b)) };
    } catch (e) {
        if (e instanceof ConfigError) {
            throw new ConfigError(`${configFile ?? "policy config"}: ${e.path}`, e.problem);
        }
        throw e;
    }
}

function policySummary(p: PolicyReport): string[] {
    const mandatory = p.violations.filter((v) => v.enforcement === "mandatory");
    const lines = [`  policy       ${mandatory.length} mandatory, ${p.violations.length - mandatory.length} advisory violations${p.config ? ` (config ${p.config})` : ""}`];
    for (const v of p.violations) {
        lines.push(`  ${v.enforcement === "mandatory" ? "✗" : "!"} [${v.policy}${v.code ? ` ${v.code}` : ""}] ${v.kind} ${v.namespace ? `${v.namespace}/` : ""}${v.name ?? ""}: ${v.message}`);
    }
    return lines;
}

function schemaSummary(s: SchemaReport): string[] {
    const lines = [`  schema       ${s.checked} Istio objects checked against ${s.bundles.map((b) => `Istio ${b.istio} (${b.revision})`).join(" and ") || "no CRDs"}: ${s.errors.length} errors`];
    for (const e of s.errors) {
        lines.push(`  ✗ ${e.kind} ${e.namespace ?? ""}/${e.name ?? ""} ${e.path}: ${e.message}`);
    }
    return lines;
}

function clusterSummary(run: StackRun): string[] {
    const mc = run.resources.find((r) => r.type === "azure-native:containerservice:ManagedCluster");
    const provider = run.resources.find((r) => r.type === "pulumi:providers:kubernetes");
    const lines: string[] = [];
    if (mc) {
        const mesh = mc.inputs.serviceMeshProfile as { mode?: string; istio?: { revisions?: string[]; components?: { ingressGateways?: { mode: string; enabled: boolean }[] } } } | undefined;
        const gateways = (mesh?.istio?.components?.ingressGateways ?? []).map((g) => `${g.mode} ${g.enabled ? "enabled" : "disabled"}`);
        lines.push(`  cluster      ${mc.inputs.resourceName} (Kubernetes ${mc.inputs.kubernetesVersion}, ${(mc.inputs.sku as { tier?: string })?.tier} tier${mc.protect ? ", protected" : ""})`);
        lines.push(`  mesh         ${mesh?.mode} ${(mesh?.istio?.revisions ?? []).join(" + ")}; ingress gateways: ${gateways.join(", ") || "none"}`);
    }
    if (provider) {
        lines.push(mc
            ? `  kubernetes   provider ${provider.name}: kubeconfig ${provider.inputs.kubeconfig} from listManagedClusterUserCredentials, clusterIdentifier = cluster id`
            : `  kubernetes   provider ${provider.name}: kubeconfig ${provider.inputs.kubeconfig} of an existing cluster (no cluster created)`);
    }
    return lines;
}

async function previewStack(stack: string, opts: Options): Promise<{ report: Report; clean: boolean }> {
    const t0 = Date.now();
    const run = await runProgram({ stack, configFile: opts.configFile });
    // The stack's own pack config must exist and match its settings; a file given with --policy-config is the user's choice.
    const policyConfig = opts.policyConfig ?? assertPolicyConfigCurrent(stack, ROOT, opts.configFile);
    const t1 = Date.now();
    const list = manifests(run.resources);
    const dirs = await bundleDirs(stackRevisions(run), opts.schemas ?? (process.env.AKS_ISTIO_MESH_SCHEMAS || undefined));
    const schema = checkSchemas(list.map((m) => m.object), dirs);
    const tSchema = Date.now();
    const policy = checkPolicies(run, policyConfig);
    const tPolicy = Date.now();
    const outDir = opts.out ? (opts.stacks.length > 1 ? path.join(opts.out, stack) : opts.out) : path.join(ROOT, "out", stack);
    // An out directory that cannot be written is bad input (exit 2, one line), not a crash.
    const write = (file: string, data: string) => {
        try {
            fs.mkdirSync(outDir, { recursive: true });
            fs.writeFileSync(path.join(outDir, file), data);
        } catch (e) {
            throw new ConfigError("--out", `${outDir} cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
    };
    write("manifests.yaml", manifestsYaml(list));
    write("resources.json", JSON.stringify(run.resources, null, 2) + "\n");
    const tWrite = Date.now();
    write("mesh.svg", await renderSvg(toDot(meshGraph(list.map((m) => m.object)))));
    const t2 = Date.now();
    const report: Report = {
        stack,
        counts: { resources: run.resources.length, kubernetesObjects: list.length, byType: countByType(run.resources) },
        policy,
        schema,
        outputs: run.outputs,
        timings: { programMs: t1 - t0, schemaMs: tSchema - t1, policyMs: tPolicy - tSchema, writeMs: tWrite - tPolicy, pictureMs: t2 - tWrite },
    };
    write("report.json", JSON.stringify(report, null, 2) + "\n");
    if (!opts.json) {
        console.log(`Previewing stack ${stack} offline (Pulumi SDK mock runtime; no cloud, no credentials)\n`);
        console.log(resourceTree(run.resources, `${run.project}-${stack}`));
        console.log(`\nResources: + ${run.resources.length} to create (${list.length} Kubernetes objects)`);
        console.log([...clusterSummary(run), ...policySummary(policy), ...schemaSummary(schema)].join("\n"));
        console.log(`  wrote        ${path.relative(process.cwd(), outDir) || "."}/{manifests.yaml,resources.json,report.json,mesh.svg}\n`);
    }
    const clean = schema.errors.length === 0 && !policy.violations.some((v) => v.enforcement === "mandatory");
    return { report, clean };
}

async function main(): Promise<number> {
    let opts: Options;
    try {
        opts = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error(`error: ${(e as Error).message}`);
        return 2;
    }
    const reports: Report[] = [];
    let clean = true;
    for (const stack of opts.stacks) {
        try {
            const result = await previewStack(stack, opts);
            reports.push(result.report);
            clean &&= result.clean;
        } catch (e) {
            if (pulumi.RunError.isInstance(e)) {
                console.error(`error: stack ${stack}: ${(e as Error).message}`);
                return 2;
            }
            throw e;
        }
    }
    if (opts.json) {
        console.log(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
    }
    return clean ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
    console.error(e);
    process.exit(1);
});
