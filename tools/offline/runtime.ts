import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties, isRpcSecret, unwrapRpcSecret } from "@pulumi/pulumi/runtime/rpc";
// Internal SDK entry points (present at run time, not in the typings): the mock runtime has no
// engine to tell the program is done, so we drain the RPC queue ourselves.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { monitor: unknown } } };
import { parse } from "yaml";
import * as os from "os";
import { ConfigError } from "../../policy-pack/lib/errors";
import { offlineKubeconfig, offlineMocks } from "./mocks";
import { unknownKey } from "../../config/schema";
import type * as ProgramConfig from "../../config";
import { PROGRAM_DIR, ROOT } from "../root";

export { ROOT };

/**
 * Drops the program's modules (index.ts, config/, components/) from the require cache, so the next require
 * evaluates the program afresh. The tools, the tests and the pack stay loaded: they are shared, pure, or hold
 * registries, and a second copy would bring, e.g., a second ConfigError class.
 */
export function forgetProgramModules(root = ROOT): void {
    const kept = ["node_modules", "tools", "tests", "policy-pack"].map((d) => `${path.sep}${d}${path.sep}`);
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(root + path.sep) && !kept.some((k) => id.includes(k))) {
            delete require.cache[id];
        }
    }
}

/** The project's stacks: one per Pulumi.<stack>.yaml, so a stack file added is a stack. */
export function stackNames(root = ROOT): string[] {
    return fs.readdirSync(root).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();
}

/** Stand-in for `secure:` config values, which need the stack's secrets provider to decrypt. */
export const SECRET_PLACEHOLDER = "offline-secret";
export const REDACTED = "[secret]";

/** One registered (or read) resource, as resources.json shows it. */
export interface ResourceRecord {
    urn: string;
    type: string;
    name: string;
    id?: string;
    parent?: string;
    dependencies: string[];
    provider?: string;
    custom: boolean;
    protect: boolean;
    /** True for a read of an existing resource (e.g. the add-on's gateway Service). */
    read: boolean;
    inputs: Record<string, unknown>;
}

export interface StackRun {
    project: string;
    stack: string;
    resources: ResourceRecord[];
    outputs: Record<string, unknown>;
}

function readYaml(file: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        throw new ConfigError(file, "cannot be read");
    }
    try {
        return parse(text);
    } catch (e) {
        throw new ConfigError(file, `is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
}

/** Top-level keys of a Pulumi stack settings file (a misspelt `config:` would hide every value). */
const STACK_FILE_KEYS: readonly string[] = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"];

/** Project-level config may wrap a value as `{ value: ... }` or declare `{ type, default }`. */
function projectValue(v: unknown): unknown {
    if (v && typeof v === "object" && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        if ("value" in o) {
            return o.value;
        }
        if ("default" in o) {
            return o.default;
        }
        if ("type" in o) {
            return undefined;
        }
    }
    return v;
}

/**
 * A stack-file value with every `secure:` value in it (top level or nested, as `pulumi config set --secret
 * --path` writes) replaced by the placeholder; `secure` when there was one, which makes the whole key secret.
 */
function withoutSecure(v: unknown): { value: unknown; secure: boolean } {
    if (Array.isArray(v)) {
        const items = v.map(withoutSecure);
        return { value: items.map((i) => i.value), secure: items.some((i) => i.secure) };
    }
    if (v && typeof v === "object") {
        if ("secure" in v) return { value: SECRET_PLACEHOLDER, secure: true };
        const entries = Object.entries(v).map(([k, x]) => [k, withoutSecure(x)] as const);
        return { value: Object.fromEntries(entries.map(([k, x]) => [k, x.value])), secure: entries.some(([, x]) => x.secure) };
    }
    return { value: v, secure: false };
}

/**
 * The config the CLI would hand the program: Pulumi.yaml's project config overlaid by the stack
 * file. Keys without a namespace get the project's. `secure:` values become a placeholder.
 */
export function loadConfig(stack: string, configFile?: string, root = ROOT): { project: string; values: Record<string, unknown>; secretKeys: string[] } {
    const projectFile = readYaml(path.join(root, "Pulumi.yaml")) as { name?: string; config?: Record<string, unknown> };
    const project = projectFile?.name;
    if (!project) {
        throw new ConfigError(path.join(root, "Pulumi.yaml"), "has no project name");
    }
    const file = configFile ?? path.join(root, `Pulumi.${stack}.yaml`);
    if (!configFile && !fs.existsSync(file)) {
        throw new ConfigError("--stack", `unknown stack "${stack}": ${file} does not exist; stacks here: ${stackNames(root).join(", ")}`);
    }
    const stackFile = readYaml(file) as { config?: Record<string, unknown> } | null;
    if (!stackFile || typeof stackFile !== "object" || (stackFile.config !== undefined && typeof stackFile.config !== "object")) {
        throw new ConfigError(file, 'must be a stack settings file with a "config:" map');
    }
    for (const k of Object.keys(stackFile)) {
        if (!STACK_FILE_KEYS.includes(k)) {
            throw new ConfigError(`${path.basename(file)}: ${k}`, `${unknownKey(k, STACK_FILE_KEYS)} (the top level of a stack settings file; the stack's values go under config:)`);
        }
    }
    const values: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    const qualify = (k: string) => (k.includes(":") ? k : `${project}:${k}`);
    for (const [k, v] of Object.entries(projectFile.config ?? {})) {
        const value = projectValue(v);
        if (value !== undefined) {
            values[qualify(k)] = value;
        }
    }
    for (const [k, v] of Object.entries(stackFile.config ?? {})) {
        const { value, secure } = withoutSecure(v);
        values[qualify(k)] = value;
        if (secure) {
            secretKeys.push(qualify(k));
        }
    }
    return { project, values, secretKeys };
}

/**
 * Replaces secret values with a marker so no output file carries one. A secret map (a Secret's
 * stringData) keeps its keys, which the program names in code: manifests.yaml must still list the
 * keys pods read by secretKeyRef, or a real kubelet refuses to start them.
 */
function redactSecrets(v: unknown): unknown {
    if (isRpcSecret(v)) {
        const inner = unwrapRpcSecret(v);
        return inner && typeof inner === "object" && !Array.isArray(inner) ? Object.fromEntries(Object.keys(inner).map((k) => [k, REDACTED])) : REDACTED;
    }
    if (Array.isArray(v)) {
        return v.map(redactSecrets);
    }
    if (v && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactSecrets(x)]));
    }
    return v;
}

/** A mock monitor that also records what the engine would know: parents, dependencies, providers. */
class RecordingMonitor extends MockMonitor {
    readonly records: ResourceRecord[] = [];

    registerResource(req: any, callback: (err: any, resp: any) => void): Promise<void> {
        return super.registerResource(req, (err: any, resp: any) => {
            if (!err) {
                this.records.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    id: resp.getId() || undefined,
                    parent: req.getParent() || undefined,
                    dependencies: req.getDependenciesList(),
                    provider: req.getProvider() || undefined,
                    custom: req.getCustom(),
                    protect: req.getProtect?.() ?? false,
                    read: false,
                    inputs: redactSecrets(deserializeProperties(req.getObject())) as Record<string, unknown>,
                });
            }
            callback(err, resp);
        });
    }

    readResource(req: any, callback: (err: any, resp: any) => void): Promise<void> {
        return super.readResource(req, (err: any, resp: any) => {
            if (!err) {
                this.records.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    id: req.getId(),
                    parent: req.getParent() || undefined,
                    dependencies: req.getDependenciesList(),
                    provider: req.getProvider() || undefined,
                    custom: true,
                    protect: false,
                    read: true,
                    inputs: redactSecrets(deserializeProperties(req.getProperties())) as Record<string, unknown>,
                });
            }
            callback(err, resp);
        });
    }
}

function toConfigStrings(values: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

let standIn: string | undefined;

/** A kubeconfig file for an offline cluster (no real server or credentials), written once per process. */
function standInKubeconfig(): string {
    if (!standIn) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-istio-mesh-offline-"));
        standIn = path.join(dir, "kubeconfig");
        fs.writeFileSync(standIn, offlineKubeconfig("offline", false));
        process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    }
    return standIn;
}

/** Resolves exported Outputs to plain values, secrets redacted. */
async function resolveOutputs(programExports: Record<string, unknown>): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(programExports)) {
        const output = pulumi.output(v) as pulumi.Output<unknown>;
        const secret = await pulumi.isSecret(output);
        const value = await new Promise<unknown>((resolve) => output.apply(resolve));
        out[k] = secret ? REDACTED : unwrapRpcSecret(value);
    }
    return out;
}

/**
 * Runs the real program (index.ts) for a stack under the SDK's mock runtime and returns every
 * resource it registered. The program's own errors (e.g. a ConfigError) propagate unchanged.
 * Can be called repeatedly in one process: the program's modules are loaded afresh each time.
 */
export async function runProgram(opts: { stack: string; configFile?: string; values?: Record<string, unknown>; root?: string; asRealEngine?: boolean }): Promise<StackRun> {
    const root = opts.root ?? ROOT;
    const loaded = loadConfig(opts.stack, opts.configFile, root);
    const values = opts.values ?? loaded.values;
    const monitor = new RecordingMonitor(offlineMocks);
    await pulumi.runtime.setMocks(offlineMocks, loaded.project, opts.stack, false);
    // Swap in the recording monitor without resetting the feature flags setMocks just set.
    getStore().settings.monitor = monitor;
    pulumi.runtime.setAllConfig(toConfigStrings(values), loaded.secretKeys);
    // A kubeconfig cluster (cluster.existing.kubeconfig without a path) reads $KUBECONFIG: offline it gets a
    // stand-in without credentials, never the user's own.
    const userKubeconfig = process.env.KUBECONFIG;
    process.env.KUBECONFIG = standInKubeconfig();

    forgetProgramModules(root);
    // Tells the program it runs offline (example values allowed); `asRealEngine` lets tests see what a real run refuses.
    // Required after the purge, so the program finds this copy of config/ loaded rather than loading it twice.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OFFLINE_FLAG } = require("../../config") as typeof ProgramConfig;
    (globalThis as Record<symbol, unknown>)[OFFLINE_FLAG] = !opts.asRealEngine;
    // The SDK captures and formats a stack trace for every promise and resource (debugging aids the
    // mock run never reads); with source maps on (tsx turns them on) each capture maps every frame,
    // most of the run time. While the program runs, traces stay short, unmapped and unformatted
    // (the error's own line only); an error that escapes is formatted in full when first printed.
    const { prepareStackTrace, stackTraceLimit } = Error;
    const sourceMaps = process.sourceMapsEnabled;
    process.setSourceMapsEnabled(false);
    Error.prepareStackTrace = (error: Error) => String(error);
    Error.stackTraceLimit = 4;
    try {
        // The program is loaded like the CLI loads it: a plain require of the entry module (index.ts, or
        // dist/index.js beside the compiled tools).
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require(path.join(opts.root ?? PROGRAM_DIR, "index")) as Record<string, unknown>;
        const outputs = await resolveOutputs(program);
        await waitForRPCs();
        return { project: loaded.project, stack: opts.stack, resources: monitor.records, outputs };
    } finally {
        process.setSourceMapsEnabled(sourceMaps);
        if (userKubeconfig === undefined) {
            delete process.env.KUBECONFIG;
        } else {
            process.env.KUBECONFIG = userKubeconfig;
        }
        Error.prepareStackTrace = prepareStackTrace;
        Error.stackTraceLimit = stackTraceLimit;
    }
}
