/**
 * npm run policy:check -- [--json] [--config <policy-pack-config.json>] <file.yaml|dir> ...
 *
 * The policy pack's rules on plain Kubernetes/Istio manifests: reads files and directories
 * (*.yaml, *.yml, recursively), multi-document YAML and `List` kinds, and hands every object to
 * `evaluate`. Kinds no rule reads are ignored. `--config` takes the same JSON file as
 * `pulumi preview --policy-pack-config`.
 *
 * Exit 0: no mandatory violation; 1: at least one; 2: unreadable input or config (one message).
 */
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { ConfigError } from "../policy-pack/lib/errors";
import { evaluate, KubeObject, PackConfigInput, Violation } from "../policy-pack/rules";

const USAGE = "usage: npm run policy:check -- [--json] [--config <policy-pack-config.json>] <file.yaml|dir> ...";

export interface Result {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

function manifestFiles(p: string): string[] {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(p);
    } catch {
        throw new ConfigError(p, "no such file or directory");
    }
    if (!stat.isDirectory()) {
        return [p];
    }
    return fs.readdirSync(p).sort().flatMap((entry) => {
        const child = path.join(p, entry);
        return fs.statSync(child).isDirectory() || /\.ya?ml$/.test(entry) ? manifestFiles(child) : [];
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

export function run(argv: readonly string[]): Result {
    const paths: string[] = [];
    let json = false;
    let configFile: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--json") {
            json = true;
        } else if (argv[i] === "--config") {
            configFile = argv[++i];
        } else if (argv[i] === "-h" || argv[i] === "--help") {
            return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
        } else if (argv[i].startsWith("-")) {
            return { code: 2, stdout: "", stderr: `policy:check: unknown option ${argv[i]}\n${USAGE}\n` };
        } else {
            paths.push(argv[i]);
        }
    }
    if (paths.length === 0 || (argv.includes("--config") && !configFile)) {
        return { code: 2, stdout: "", stderr: `${USAGE}\n` };
    }
    try {
        const files = paths.flatMap(manifestFiles);
        const objects = files.flatMap(load);
        const violations = evaluate(objects, configFile ? { policies: readConfig(configFile) } : {});
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
    const result = run(process.argv.slice(2));
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.code;
}
