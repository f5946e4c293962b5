/**
 * npm run policy:check -- [--json] [--config <policy-pack-config.json>] [--revision <asm-x-y>] [--schemas <dir>] <file.yaml|dir> ...
 *
 * One YAML front door for both judges: the policy pack's rules and the Istio CRD schema check, on plain
 * Kubernetes/Istio manifests. Reads files and directories (*.yaml, *.yml, recursively), multi-document
 * YAML and `List` kinds, and hands every object to `evaluate`; Istio objects are also checked against
 * the CRDs of each revision (--revision, else the revisions a ManagedCluster or the namespaces' istio.io/rev
 * labels name, else the newest supported one), fetched like the preview does when missing. A schema
 * error is reported as a mandatory violation of `istio-schema`. `--config` takes the same JSON file as
 * `pulumi preview --policy-pack-config`.
 *
 * Exit 0: no mandatory violation; 1: at least one; 2: unreadable input or config (one message).
 */
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { ConfigError } from "../policy-pack/lib/errors";
import { revisionInfo, SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { bundleDirs } from "./fetch-schemas";
import { validateAgainstBundles } from "./schema";
import { asStrings, at } from "../policy-pack/rules/k8s";
import { evaluate, KubeObject, PackConfigInput, Violation } from "../policy-pack/rules";

const USAGE = "usage: npm run policy:check -- [--json] [--config <policy-pack-config.json>] [--revision <asm-x-y>] [--schemas <dir>] <file.yaml|dir> ...";

/** The policy name schema errors are reported under. */
export const SCHEMA_POLICY = "istio-schema";

export interface Result {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

function statOf(p: string): fs.Stats {
    try {
        return fs.statSync(p);
    } catch {
        throw new ConfigError(p, "no such file or directory");
    }
}

function manifestFiles(p: string): string[] {
    if (!statOf(p).isDirectory()) {
        return [p];
    }
    let entries: string[];
    try {
        entries = fs.readdirSync(p);
    } catch (e) {
        throw new ConfigError(p, (e as NodeJS.ErrnoException).code ?? "cannot be read");
    }
    // A broken link inside a directory is named like a missing file, not thrown as a stack trace.
    return entries.sort().flatMap((entry) => {
        const child = path.join(p, entry);
        return statOf(child).isDirectory() || /\.ya?ml$/.test(entry) ? manifestFiles(child) : [];
    });
}

function read(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new ConfigError(file, (e as NodeJS.ErrnoException).code ?? "cannot be read");
    }
}

/** Kubernetes `List` kinds (List, ServiceList, ...) carry their objects in `items`. */
function flatten(v: unknown, where: string): KubeObject[] {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new ConfigError(where, "a document is not a Kubernetes object");
    }
    const obj = v as KubeObject;
    return typeof obj.kind === "string" && obj.kind.endsWith("List") && Array.isArray(obj.items)
        ? obj.items.flatMap((item) => flatten(item, where))
        : [obj];
}

function load(file: string): KubeObject[] {
    return parseAllDocuments(read(file)).flatMap((doc) => {
        if (doc.errors.length > 0) {
            throw new ConfigError(file, `invalid YAML: ${doc.errors[0].message.split("\n")[0].replace(/:$/, "")}`);
        }
        const v: unknown = doc.toJS();
        return v === null || v === undefined ? [] : flatten(v, file);
    });
}

function readConfig(file: string): PackConfigInput["policies"] {
    try {
        return JSON.parse(read(file));
    } catch (e) {
        throw e instanceof ConfigError ? e : new ConfigError(file, `invalid JSON: ${(e as Error).message}`);
    }
}

function line(v: Violation): string {
    const where = [v.namespace, v.name].filter((x) => x !== undefined).join("/");
    return `${v.enforcement.toUpperCase().padEnd(9)} ${v.policy}${v.code ? ` [${v.code}]` : ""}  ${v.kind} ${where}\n          ${v.message}`;
}

function report(violations: Violation[], objects: number, files: number): string {
    const mandatory = violations.filter((v) => v.enforcement === "mandatory").length;
    const summary = `${violations.length} violation(s), ${mandatory} mandatory, in ${objects} object(s) from ${files} file(s)`;
    return [...violations.map(line), summary].join("\n") + "\n";
}

/** The revisions the manifests are for: a ManagedCluster's, else the namespaces' istio.io/rev labels, else the newest. */
function revisionsOf(objects: readonly KubeObject[]): string[] {
    const named = [
        ...objects.filter((o) => o.kind === "ManagedCluster").flatMap((o) => asStrings(at(o, "properties", "serviceMeshProfile", "istio", "revisions"))),
        ...objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata?.labels?.["istio.io/rev"]),
    ].filter((r): r is string => r !== undefined && revisionInfo(r) !== undefined);
    return named.length > 0 ? [...new Set(named)] : [SUPPORTED_REVISIONS[SUPPORTED_REVISIONS.length - 1].revision];
}

/** Schema errors against each revision's CRDs, once each, as violations. */
async function schemaViolations(objects: readonly KubeObject[], revisions: readonly string[], schemas: string | undefined): Promise<Violation[]> {
    const { errors } = validateAgainstBundles(objects, await bundleDirs(revisions, schemas));
    return errors.map((e) => ({
        policy: SCHEMA_POLICY,
        enforcement: "mandatory",
        severity: "high",
        kind: e.kind,
        ...(e.namespace !== undefined ? { namespace: e.namespace } : {}),
        ...(e.name !== undefined ? { name: e.name } : {}),
        message: `${e.path || "/"}: ${e.message} (${e.rule}; the API server would refuse it)`,
    }));
}

export async function run(argv: readonly string[]): Promise<Result> {
    const paths: string[] = [];
    let json = false;
    let configFile: string | undefined;
    let schemas: string | undefined;
    const revisions: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const value = () => (argv[i + 1] !== undefined && !argv[i + 1].startsWith("-") ? argv[++i] : undefined);
        if (argv[i] === "--json") {
            json = true;
        } else if (argv[i] === "--config" || argv[i] === "--schemas" || argv[i] === "--revision") {
            const flag = argv[i];
            const v = value();
            if (v === undefined) {
                return { code: 2, stdout: "", stderr: `policy:check: ${flag} needs a value; ${USAGE}\n` };
            }
            if (flag === "--config") configFile = v;
            else if (flag === "--schemas") schemas = path.resolve(v);
            else revisions.push(v);
        } else if (argv[i] === "-h" || argv[i] === "--help") {
            return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
        } else if (argv[i].startsWith("-")) {
            return { code: 2, stdout: "", stderr: `policy:check: unknown option ${argv[i]}; ${USAGE}\n` };
        } else {
            paths.push(argv[i]);
        }
    }
    if (paths.length === 0) {
        return { code: 2, stdout: "", stderr: `${USAGE}\n` };
    }
    try {
        const files = paths.flatMap(manifestFiles);
        const objects = files.flatMap(load);
        let violations: Violation[];
        try {
            violations = evaluate(objects, configFile ? { policies: readConfig(configFile) } : {});
        } catch (e) {
            throw e instanceof ConfigError && configFile && e.path !== configFile ? new ConfigError(`${configFile}: ${e.path}`, e.problem) : e;
        }
        violations.push(...await schemaViolations(objects, revisions.length > 0 ? revisions : revisionsOf(objects), schemas));
        const stdout = json ? `${JSON.stringify({ violations }, null, 2)}\n` : report(violations, objects.length, files.length);
        return { code: violations.some((v) => v.enforcement === "mandatory") ? 1 : 0, stdout, stderr: "" };
    } catch (e) {
        if (e instanceof ConfigError) {
            return { code: 2, stdout: "", stderr: `policy:check: ${e.message}\n` };
        }
        throw e;
    }
}

if (require.main === module) {
    void run(process.argv.slice(2)).then((result) => {
        process.stdout.write(result.stdout);
        process.stderr.write(result.stderr);
        process.exitCode = result.code;
    });
}
