/**
 * Offline schema conformance for Istio objects: what the API server would reject (strict unknown fields,
 * OpenAPI, CEL rules, list-type uniqueness, ObjectMeta), against Istio's own `crd-all.gen.yaml` for the
 * cluster's revision. Pure: no cluster, no network. What istiod's webhook refuses beyond the CRDs needs no
 * bundle and is a policy rule (policy-pack/rules/webhook.ts), run by all three front doors.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import Ajv, { AnySchemaObject, ErrorObject, ValidateFunction } from "ajv";
import type { DataValidationCxt } from "ajv/dist/types";
import addFormats from "ajv-formats";
import { parseAllDocuments } from "yaml";
import { ConfigError } from "../../policy-pack/lib/errors";
import { revisionInfo, SUPPORTED_REVISIONS } from "../../policy-pack/lib/revisions";
import { asRecord } from "../../policy-pack/rules/k8s";
import type { KubeObject } from "../../policy-pack/rules/types";
import { CelProgram, CelSchema, compileRule, firstLine, toCelValue } from "./cel";
import { Finding, SchemaError, pointer } from "./finding";
import { validateMetadata } from "./metadata";
import { ROOT } from "../root";

export type { SchemaError, SchemaRule } from "./finding";

const BUNDLE_FILE = "crd-all.gen.yaml";

/** Where `npm run schemas:fetch` puts the bundles (git-ignored). */
export const FETCHED_SCHEMA_DIR = path.join(ROOT, "schemas", "istio");

/** Bundles kept beside the repository (`shared/schemas/istio`), on machines that have them. */
export const SHARED_SCHEMA_DIR = path.resolve(ROOT, "..", "shared", "schemas", "istio");

/**
 * Where Istio schema bundles live: `$AKS_ISTIO_MESH_SCHEMAS`, else the fetched ones, else
 * `shared/schemas/istio` beside the repository.
 */
export function defaultSchemaBaseDir(): string {
    return process.env.AKS_ISTIO_MESH_SCHEMAS || (fs.existsSync(FETCHED_SCHEMA_DIR) ? FETCHED_SCHEMA_DIR : SHARED_SCHEMA_DIR);
}

/**
 * The bundle directory for an AKS revision: `<base>/<istioPatch>` from the revision table
 * (`asm-1-30` → `<base>/1.30.3`). Throws for a revision the table does not hold: stack config and the
 * pack refuse those before any schema is read.
 */
export function schemaDirForRevision(revision: string, baseDir: string = defaultSchemaBaseDir()): string {
    const info = revisionInfo(revision);
    if (!info) {
        throw new Error(`revision "${revision}" is not in the revision table (policy-pack/lib/revisions.ts): ${SUPPORTED_REVISIONS.map((r) => r.revision).join(", ")}`);
    }
    return path.join(baseDir, info.istioPatch);
}

/** Istio's CRDs for one release, indexed for validation. */
export interface SchemaBundle {
    /** The Istio release, taken from the directory name (e.g. `1.30.3`); used in messages. */
    readonly istioVersion: string;
    readonly dir: string;
    /** openAPIV3Schema by `group/version/kind`, for every served version. */
    readonly schemas: ReadonlyMap<string, AnySchemaObject>;
    /** Served versions by `group/kind`, to say what is served when an apiVersion is not. */
    readonly servedVersions: ReadonlyMap<string, readonly string[]>;
}

interface CrdDocument {
    kind?: string;
    spec?: {
        group?: string;
        names?: { kind?: string };
        versions?: { name: string; served?: boolean; schema?: { openAPIV3Schema?: AnySchemaObject } }[];
    };
}

const CACHE_DIR = path.join(ROOT, "node_modules", ".cache", "aks-istio-mesh");

/**
 * The bundle's documents, cached as JSON under node_modules/.cache by content hash: parsing the
 * ~0.9 MB of YAML took a third of an offline preview's fixed cost. The cache is best effort.
 */
function readCrds(file: string, text: string, digest: string): (CrdDocument | null)[] {
    const cache = path.join(CACHE_DIR, `crds-${digest}.json`);
    try {
        return JSON.parse(fs.readFileSync(cache, "utf8"));
    } catch {
        // Not cached yet (or unreadable): parse below.
    }
    const docs = parseAllDocuments(text).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
        return doc.toJS() as CrdDocument | null;
    });
    try {
        fs.mkdirSync(CACHE_DIR, { recursive: true });
        const tmp = `${cache}.${process.pid}`;
        fs.writeFileSync(tmp, JSON.stringify(docs));
        fs.renameSync(tmp, cache);
    } catch {
        // A read-only tree only costs the parse next time.
    }
    return docs;
}

/**
 * Bundles this process has loaded, by directory and content: previewing several stacks compiles each kind's
 * validator once (validators hang off the bundle), not once per stack.
 */
const loadedBundles = new Map<string, SchemaBundle>();

/** Loads `<dir>/crd-all.gen.yaml`; undefined when the file is absent (callers say "no schema bundle found"). */
export function loadSchemaBundle(dir: string): SchemaBundle | undefined {
    const file = path.join(dir, BUNDLE_FILE);
    if (!fs.existsSync(file)) return undefined;
    const text = fs.readFileSync(file, "utf8");
    const digest = createHash("sha256").update(text).digest("hex").slice(0, 16);
    const key = `${path.resolve(dir)}:${digest}`;
    const known = loadedBundles.get(key);
    if (known) return known;
    const schemas = new Map<string, AnySchemaObject>();
    const servedVersions = new Map<string, string[]>();
    for (const crd of readCrds(file, text, digest)) {
        const group = crd?.spec?.group;
        const kind = crd?.spec?.names?.kind;
        if (crd?.kind !== "CustomResourceDefinition" || !group || !kind) continue;
        for (const version of crd.spec?.versions ?? []) {
            const schema = version.schema?.openAPIV3Schema;
            if (!version.served || !schema) continue;
            schemas.set(`${group}/${version.name}/${kind}`, schema);
            servedVersions.set(`${group}/${kind}`, [...(servedVersions.get(`${group}/${kind}`) ?? []), version.name]);
        }
    }
    const bundle = { istioVersion: path.basename(path.resolve(dir)), dir, schemas, servedVersions };
    loadedBundles.set(key, bundle);
    return bundle;
}

// ---------------------------------------------------------------------------------------------------------
// Schema preparation and ajv keywords

/** Keywords whose value is one subschema, or a list of them; with `properties`, the only places schemas nest. */
const SUBSCHEMA = new Set(["additionalProperties", "items", "not"]);
const SUBSCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf"]);

/**
 * Copies a CRD schema for ajv: drops descriptions, and closes every object that declares `properties` and
 * does not preserve unknown fields, which is what `kubectl --validate=strict` (fieldValidation=Strict) enforces.
 */
function strictSchema(schema: AnySchemaObject): AnySchemaObject {
    const out: AnySchemaObject = {};
    for (const [key, value] of Object.entries(schema)) {
        if (key === "description") continue;
        if (key === "properties") {
            out.properties = Object.fromEntries(Object.entries(value as Record<string, AnySchemaObject>).map(([k, s]) => [k, strictSchema(s)]));
        } else if (SUBSCHEMA.has(key) && typeof value === "object") {
            out[key] = strictSchema(value as AnySchemaObject);
        } else if (SUBSCHEMA_LISTS.has(key)) {
            out[key] = (value as AnySchemaObject[]).map(strictSchema);
        } else {
            out[key] = value;
        }
    }
    if (out.properties && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) {
        out.additionalProperties = false;
    }
    return out;
}

/** A CRD root schema made strict, with the envelope fields every object carries (metadata is checked apart). */
function rootSchema(schema: AnySchemaObject): AnySchemaObject {
    const strict = strictSchema(schema);
    return {
        ...strict,
        properties: { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, ...strict.properties },
    };
}

interface KubernetesValidation {
    rule: string;
    message?: string;
}

/** Our keywords report through ajv errors; `params.rule` carries the SchemaError rule family. */
type KeywordError = Partial<ErrorObject> & { params: { rule: "cel" | "list-type" } };

/** Why one rule rejects `self`, or undefined when it holds. An unevaluable rule is a failure, never a pass. */
function celFailure({ rule, message }: KubernetesValidation, program: CelProgram, self: unknown): string | undefined {
    if (typeof program !== "function") return `rule cannot be evaluated offline (${program.error}): ${rule}`;
    try {
        return program({ self }) === true ? undefined : message ?? `failed rule: ${rule}`;
    } catch (e) {
        return `${message ?? rule} (evaluation error: ${firstLine((e as Error).message)})`;
    }
}

function celKeyword(rules: KubernetesValidation[], parentSchema: AnySchemaObject) {
    const compiled = rules.map((r) => ({ validation: r, program: compileRule(r.rule) }));
    const validate = (data: unknown): boolean => {
        const self = toCelValue(data, parentSchema as CelSchema);
        validate.errors = compiled.flatMap(({ validation, program }): KeywordError[] => {
            const failure = celFailure(validation, program, self);
            return failure ? [{ keyword: "x-kubernetes-validations", message: failure, params: { rule: "cel" } }] : [];
        });
        return validate.errors.length === 0;
    };
    validate.errors = [] as KeywordError[];
    return validate;
}

function listTypeKeyword(listType: string, parentSchema: AnySchemaObject) {
    const keys: string[] = parentSchema["x-kubernetes-list-map-keys"] ?? [];
    const identity = (item: unknown) =>
        JSON.stringify(listType === "map" ? keys.map((k) => asRecord(item)?.[k]) : item);
    const validate = (data: unknown, cxt?: DataValidationCxt): boolean => {
        const errors: KeywordError[] = [];
        if ((listType === "map" || listType === "set") && Array.isArray(data)) {
            const seen = new Set<string>();
            data.forEach((item, i) => {
                const id = identity(item);
                if (seen.has(id)) {
                    const what = listType === "map" ? `key ${keys.map((k) => `${k}=${JSON.stringify(asRecord(item)?.[k])}`).join(", ")}` : `value ${id}`;
                    errors.push({ keyword: "x-kubernetes-list-type", instancePath: pointer(cxt?.instancePath ?? "", i), message: `duplicate ${what}`, params: { rule: "list-type" } });
                }
                seen.add(id);
            });
        }
        validate.errors = errors;
        return errors.length === 0;
    };
    validate.errors = [] as KeywordError[];
    return validate;
}

function newAjv(): Ajv {
    // strict:false because CRDs carry x-kubernetes-* annotations ajv does not know; verbose gives error data for messages.
    // Each validator runs over a few dozen objects per preview: skipping ajv's code optimisation
    // passes saves more compile time than it could ever cost at validation.
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, code: { optimize: false } });
    // The API server checks string formats but not the width of number formats (the `type` check covers
    // integers); istiod decodes int32 fields into int32 and refuses what does not fit.
    addFormats(ajv, ["date-time", "byte"]);
    ajv.addFormat("int32", { type: "number", validate: (n: number) => n >= -2147483648 && n <= 2147483647 }).addFormat("double", true);
    ajv.addKeyword({ keyword: "x-kubernetes-validations", errors: true, compile: celKeyword });
    ajv.addKeyword({ keyword: "x-kubernetes-list-type", schemaType: "string", errors: true, compile: listTypeKeyword });
    return ajv;
}

interface Compiled {
    ajv: Ajv;
    /** Each kind's strict root schema, made once. */
    roots: Map<string, AnySchemaObject>;
    /** Validators by kind and the part of its schema they were compiled for. */
    validators: Map<string, ValidateFunction>;
}

// One ajv per bundle; each kind compiles on first use (most meshes use a handful of the 33 kind versions).
const compiledByBundle = new WeakMap<SchemaBundle, Compiled>();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The part of a (strict) schema that `values`, every value found at its place, can reach: a property none of
 * them has is left out, with everything under it. What remains judges those values exactly as the whole schema
 * would (a property that is absent is never checked, `required` and the closing `additionalProperties: false`
 * stay where they are, CEL rules still see the whole value), and compiles in a fraction of the time: an Istio
 * kind's schema is large and an object uses little of it.
 */
function reachable(schema: AnySchemaObject, values: readonly unknown[]): AnySchemaObject {
    const out: AnySchemaObject = { ...schema };
    const objects = values.filter(isObject);
    if (isObject(schema.properties)) {
        const properties: Record<string, AnySchemaObject> = {};
        for (const [key, sub] of Object.entries(schema.properties as Record<string, AnySchemaObject>)) {
            const present = objects.filter((o) => Object.hasOwn(o, key)).map((o) => o[key]);
            if (present.length > 0) properties[key] = reachable(sub, present);
        }
        out.properties = properties;
    }
    if (isObject(schema.items)) out.items = reachable(schema.items, values.filter(Array.isArray).flat());
    if (isObject(schema.additionalProperties)) {
        const named = new Set(Object.keys(schema.properties ?? {}));
        out.additionalProperties = reachable(schema.additionalProperties, objects.flatMap((o) => Object.entries(o).filter(([k]) => !named.has(k)).map(([, v]) => v)));
    }
    for (const key of SUBSCHEMA_LISTS) {
        if (Array.isArray(schema[key])) out[key] = (schema[key] as AnySchemaObject[]).map((sub) => reachable(sub, values));
    }
    if (isObject(schema.not)) out.not = reachable(schema.not, values);
    return out;
}

/** The validator of one kind for the objects of that kind being checked together (`peers`, in wire form). */
function validatorFor(bundle: SchemaBundle, key: string, schema: AnySchemaObject, peers: readonly unknown[]): ValidateFunction {
    let compiled = compiledByBundle.get(bundle);
    if (!compiled) {
        compiled = { ajv: newAjv(), roots: new Map(), validators: new Map() };
        compiledByBundle.set(bundle, compiled);
    }
    let root = compiled.roots.get(key);
    if (!root) {
        root = rootSchema(schema);
        compiled.roots.set(key, root);
    }
    const part = reachable(root, peers);
    const id = `${key}\n${JSON.stringify(part)}`;
    let validator = compiled.validators.get(id);
    if (!validator) {
        validator = compiled.ajv.compile(part);
        compiled.validators.set(id, validator);
    }
    return validator;
}

// ---------------------------------------------------------------------------------------------------------
// Error translation

const COMPOSITE = new Set(["anyOf", "oneOf", "not"]);

function describe(value: unknown): string {
    return Array.isArray(value) ? "array" : value === null ? "null" : typeof value === "number" && Number.isInteger(value) ? "integer" : typeof value;
}

/** Istio encodes proto oneofs as `oneOf` of `required` lists; name the fields instead of "match exactly one schema". */
function oneOfFields(parentSchema: AnySchemaObject | undefined): string[] {
    return ((parentSchema?.oneOf ?? []) as AnySchemaObject[]).flatMap((s) => (Array.isArray(s.required) ? (s.required as string[]) : []));
}

function toFinding(e: ErrorObject): Finding {
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
        case "additionalProperties":
            return { path: pointer(e.instancePath, String(params.additionalProperty)), rule: "unknown-field", message: `unknown field "${String(params.additionalProperty)}"` };
        case "required":
            return { path: pointer(e.instancePath, String(params.missingProperty)), rule: "schema", message: `required field "${String(params.missingProperty)}" is missing` };
        case "enum":
            return { path: e.instancePath, rule: "schema", message: `unsupported value ${JSON.stringify(e.data)}: must be one of ${(params.allowedValues as unknown[]).join(", ")}` };
        case "type":
            return { path: e.instancePath, rule: "schema", message: `must be ${String(params.type)}, not ${describe(e.data)}` };
        case "oneOf": {
            const fields = oneOfFields(e.parentSchema);
            const message = fields.length > 1 ? `only one of ${fields.join(", ")} may be set` : String(e.message);
            return { path: e.instancePath, rule: "schema", message };
        }
        case "anyOf":
            return {
                path: e.instancePath,
                rule: "schema",
                message: e.parentSchema?.["x-kubernetes-int-or-string"] ? `must be an integer or a string, not ${describe(e.data)}` : String(e.message),
            };
        case "format":
            return params.format === "int32"
                ? { path: e.instancePath, rule: "schema", message: `${String(e.data)} does not fit an int32, which istiod decodes it into` }
                : { path: e.instancePath, rule: "schema", message: String(e.message) };
        case "x-kubernetes-validations":
        case "x-kubernetes-list-type":
            return { path: e.instancePath, rule: (params as KeywordError["params"]).rule, message: String(e.message) };
        default:
            return { path: e.instancePath, rule: "schema", message: String(e.message) };
    }
}

/**
 * ajv errors as the API server would word them: branch errors under a failed anyOf/oneOf/not are folded into
 * that one error, and CEL findings are dropped when a value has the wrong type (the API server skips CEL then).
 */
function schemaFindings(errors: ErrorObject[]): Finding[] {
    const composites = errors.filter((e) => COMPOSITE.has(e.keyword)).map((e) => e.schemaPath + "/");
    const kept = errors.filter((e) => !composites.some((prefix) => e.schemaPath.startsWith(prefix)));
    const typeError = kept.some((e) => e.keyword === "type" || (e.keyword === "anyOf" && e.parentSchema?.["x-kubernetes-int-or-string"]));
    return kept.filter((e) => !(typeError && e.keyword === "x-kubernetes-validations")).map(toFinding);
}

// ---------------------------------------------------------------------------------------------------------
// Validation

/**
 * The object as it would go over the wire: undefined dropped by JSON. A null stays: under server-side apply
 * the API server judges it against the field's type and refuses it ("must be of type string: null"; the
 * generative differential measured it). ObjectMeta nulls are dropped here: metadata has its own check.
 */
function wireForm(value: unknown, keepNull = true): unknown {
    if (Array.isArray(value)) return value.map((v) => wireForm(v, keepNull));
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(
            Object.entries(value)
                .filter(([, v]) => v !== undefined && (keepNull || v !== null))
                .map(([k, v]) => [k, wireForm(v, keepNull)]),
        );
    }
    return value;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
    const slash = apiVersion.lastIndexOf("/");
    return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function validateOne(object: KubeObject, wire: Record<string, unknown>, bundle: SchemaBundle, peers: ReadonlyMap<string, unknown[]>): Finding[] {
    const { group, version } = splitApiVersion(object.apiVersion ?? "");
    const kind = object.kind ?? "";
    const key = `${group}/${version}/${kind}`;
    const schema = bundle.schemas.get(key);
    if (!schema) {
        const served = bundle.servedVersions.get(`${group}/${kind}`);
        const alternatives = served ? ` (served: ${served.map((v) => `${group}/${v}`).join(", ")})` : "";
        const message = `no such kind in Istio ${bundle.istioVersion}: ${object.apiVersion} ${kind}${alternatives}`;
        return [{ path: "", rule: "schema", message }];
    }
    const validator = validatorFor(bundle, key, schema, peers.get(key) ?? [wire]);
    const findings = validator(wire) ? [] : schemaFindings(validator.errors ?? []);
    return [...findings, ...validateMetadata(wire.metadata)];
}

/**
 * Validates Istio objects (any group ending in `istio.io`) the way the API server would; other objects are left to their own checks. An Istio kind the bundle does not serve is an error.
 */
export function validateObjects(objects: KubeObject[], bundle: SchemaBundle): SchemaError[] {
    const istio = objects.filter((o) => /(^|\.)istio\.io$/.test(splitApiVersion(o.apiVersion ?? "").group));
    const wires = istio.map((o) => ({ ...(wireForm(o) as Record<string, unknown>), metadata: wireForm(o.metadata, false) }));
    // Objects of one kind share a validator, compiled for the fields they use.
    const peers = new Map<string, unknown[]>();
    istio.forEach((o, i) => {
        const { group, version } = splitApiVersion(o.apiVersion ?? "");
        const key = `${group}/${version}/${o.kind ?? ""}`;
        peers.set(key, [...(peers.get(key) ?? []), wires[i]]);
    });
    return istio
        .flatMap((object, i) =>
            validateOne(object, wires[i], bundle, peers).map((finding) => ({
                apiVersion: object.apiVersion ?? "",
                kind: object.kind ?? "",
                ...(object.metadata?.namespace !== undefined && { namespace: object.metadata.namespace }),
                ...(object.metadata?.name !== undefined && { name: object.metadata.name }),
                ...finding,
            })),
        );
}

/** A bundle a check used: the revision and the Istio version of its CRDs. */
export interface BundleUsed {
    readonly revision: string;
    readonly istio: string;
    readonly dir: string;
}

/**
 * Validates the objects against each revision's bundle (directories as `bundleDirs` gives them); an error
 * found under several revisions is reported once. Shared by the offline preview and the YAML check.
 */
export function validateAgainstBundles(objects: readonly KubeObject[], dirs: ReadonlyMap<string, string>): { bundles: BundleUsed[]; errors: SchemaError[] } {
    const bundles: BundleUsed[] = [];
    const errors: SchemaError[] = [];
    const seen = new Set<string>();
    for (const [revision, dir] of dirs) {
        const bundle = loadSchemaBundle(dir);
        if (!bundle) {
            throw new ConfigError("--schemas", `no Istio schema bundle for ${revision} (looked in ${dir})`);
        }
        bundles.push({ revision, istio: bundle.istioVersion, dir });
        for (const e of validateObjects([...objects], bundle)) {
            const key = JSON.stringify(e);
            if (!seen.has(key)) {
                seen.add(key);
                errors.push(e);
            }
        }
    }
    return { bundles, errors };
}
