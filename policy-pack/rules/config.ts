/**
 * The pack's configuration: one set of JSON-schema definitions with defaults drives the CrossGuard
 * `configSchema` of every policy, the validation here and the defaults, so the pack runs with no
 * config and the three front doors agree on what a config file means.
 *
 * CrossGuard scopes config to one policy (`{ "<policy>": { "enforcementLevel": ..., <settings> } }`,
 * plus `"all": "<level>"`). `PackConfigInput.policies` takes exactly that shape, so a
 * `--policy-pack-config` file works unchanged for the offline front doors; top-level settings
 * apply to every policy.
 */
import { EGRESS_NAMESPACE, INGRESS_GATEWAYS, INGRESS_NAMESPACE, ROOT_NAMESPACE } from "../lib/aks";
import { SUPPORTED_REVISIONS } from "../lib/revisions";
import { EnforcementLevel } from "./types";

export type Environment = "prod" | "dev";

/** A narrow, reviewed carve-out from STRICT mTLS (e.g. a webhook the API server calls in plain text). */
export interface MtlsException {
    /** Namespace of the PeerAuthentication. */
    namespace: string;
    /** When set, the PeerAuthentication's selector must carry these labels (it may narrow further). */
    selector?: Record<string, string>;
    /** When set, only this port (in `portLevelMtls`) may be relaxed. */
    port?: number;
    /** The weakest mode allowed; PERMISSIVE unless DISABLE is stated. */
    mode?: "PERMISSIVE" | "DISABLE";
    /** Why the exception exists (kept for reviewers; not interpreted). */
    reason?: string;
}

/** The mesh context every rule reads. */
export interface MeshSettings {
    rootNamespace: string;
    systemNamespaces: string[];
    allowedRevisions: string[];
    revisionTags: string[];
    mtlsExceptions: MtlsException[];
    environment: Environment;
    gatewaySelectors: string[];
}

export type SettingKey = keyof MeshSettings;

/** The subset of JSON Schema these definitions use (and the CLI understands). */
export interface JsonSchema {
    type: "string" | "integer" | "array" | "object";
    description?: string;
    default?: string | number | boolean | object;
    enum?: string[];
    minLength?: number;
    minimum?: number;
    maximum?: number;
    items?: JsonSchema;
    properties?: Record<string, JsonSchema>;
    required?: string[];
    additionalProperties?: boolean | JsonSchema;
}

const dnsLabel: JsonSchema = { type: "string", minLength: 1 };
const stringList = (description: string, def: readonly string[]): JsonSchema & { default: string[] } => ({
    type: "array", items: dnsLabel, description, default: [...def],
});

/** Setting definitions: schema, description and default, in one place. */
export const SETTINGS: { readonly [K in SettingKey]: JsonSchema & { default: MeshSettings[K] } } = {
    rootNamespace: {
        type: "string", minLength: 1, default: ROOT_NAMESPACE,
        description: "Istio root namespace: mesh-wide PeerAuthentication/AuthorizationPolicy and the shared MeshConfig live here (aks-istio-system on AKS).",
    },
    systemNamespaces: stringList(
        "Namespaces outside the mesh: no revision label required, workload and coverage rules skip them. The root namespace always counts as one.",
        ["kube-system", "kube-public", "kube-node-lease", ROOT_NAMESPACE, INGRESS_NAMESPACE, EGRESS_NAMESPACE,
            "gatekeeper-system", "app-routing-system", "calico-system", "tigera-operator"],
    ),
    allowedRevisions: stringList(
        "Istio revisions namespaces may point to with istio.io/rev (default: the supported AKS revisions). A ManagedCluster in the stack narrows this to its own revisions.",
        SUPPORTED_REVISIONS.map((r) => r.revision),
    ),
    revisionTags: stringList(
        "Revision tags (istioctl tag set ... --istioNamespace aks-istio-system) that namespaces may use as istio.io/rev.",
        [],
    ),
    mtlsExceptions: {
        type: "array", default: [],
        description: "Reviewed exceptions to STRICT mTLS: { namespace, selector?, port?, mode? (PERMISSIVE|DISABLE), reason? }.",
        items: {
            type: "object",
            required: ["namespace"],
            additionalProperties: false,
            properties: {
                namespace: dnsLabel,
                selector: { type: "object", additionalProperties: { type: "string" } },
                port: { type: "integer", minimum: 1, maximum: 65535 },
                mode: { type: "string", enum: ["PERMISSIVE", "DISABLE"] },
                reason: { type: "string" },
            },
        },
    },
    environment: {
        type: "string", enum: ["prod", "dev"], default: "prod",
        description: "prod makes wildcard gateway hosts mandatory violations and checks replicas/PDBs; dev reports wildcard hosts as advisory.",
    },
    gatewaySelectors: stringList(
        "Values of the `istio` label a Gateway selector may use (the AKS ingress gateways by default).",
        Object.values(INGRESS_GATEWAYS).map((g) => g.selector.istio),
    ),
};

const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** The CrossGuard `configSchema` of a policy that reads `keys`. */
export function configSchemaFor(keys: readonly SettingKey[]): { properties: Record<string, JsonSchema> } | undefined {
    if (keys.length === 0) {
        return undefined;
    }
    const properties: Record<string, JsonSchema> = {};
    for (const k of keys) {
        properties[k] = SETTINGS[k];
    }
    return { properties };
}

/** A bad config value; front doors print the message alone and exit 2. */
export class ConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

function validate(schema: JsonSchema, v: unknown, path: string): string[] {
    switch (schema.type) {
        case "string":
            if (typeof v !== "string") {
                return [`${path} must be a string`];
            }
            if (schema.enum && !schema.enum.includes(v)) {
                return [`${path} must be one of ${schema.enum.join(", ")} (got "${v}")`];
            }
            return schema.minLength && v.length < schema.minLength ? [`${path} must not be empty`] : [];
        case "integer":
            if (typeof v !== "number" || !Number.isInteger(v)) {
                return [`${path} must be an integer`];
            }
            return (schema.minimum !== undefined && v < schema.minimum) || (schema.maximum !== undefined && v > schema.maximum)
                ? [`${path} must be between ${schema.minimum} and ${schema.maximum}`] : [];
        case "array":
            if (!Array.isArray(v)) {
                return [`${path} must be a list`];
            }
            return v.flatMap((x, i) => (schema.items ? validate(schema.items, x, `${path}[${i}]`) : []));
        case "object": {
            if (typeof v !== "object" || v === null || Array.isArray(v)) {
                return [`${path} must be an object`];
            }
            const errors: string[] = [];
            const rec = v as Record<string, unknown>;
            for (const r of schema.required ?? []) {
                if (rec[r] === undefined) {
                    errors.push(`${path}.${r} is required`);
                }
            }
            for (const [k, x] of Object.entries(rec)) {
                const prop = schema.properties?.[k];
                if (prop) {
                    errors.push(...validate(prop, x, `${path}.${k}`));
                } else if (typeof schema.additionalProperties === "object") {
                    errors.push(...validate(schema.additionalProperties, x, `${path}.${k}`));
                } else if (schema.additionalProperties === false) {
                    errors.push(`${path}.${k} is not a known field (known: ${Object.keys(schema.properties ?? {}).join(", ")})`);
                }
            }
            return errors;
        }
    }
}

export type EnforcementInput = EnforcementLevel | "remediate";
export type SettingsInput = Partial<MeshSettings>;
export type PolicyConfigInput = EnforcementInput | (SettingsInput & { enforcementLevel?: EnforcementInput });

export interface PackConfigInput extends SettingsInput {
    /** A `--policy-pack-config` document: per policy a level or `{ enforcementLevel?, ...settings }`; `all` sets every level. */
    policies?: Record<string, PolicyConfigInput>;
}

export interface PackConfig {
    /** Settings for policies without their own overrides. */
    readonly settings: MeshSettings;
    readonly policies: Readonly<Record<string, { readonly enforcement?: EnforcementLevel; readonly settings: MeshSettings }>>;
    /** Level from the `all` key. */
    readonly all?: EnforcementLevel;
}

const LEVELS: readonly string[] = ["mandatory", "advisory", "disabled", "remediate"];

/** `remediate` exists in CrossGuard; with no remediations here the server reports it as mandatory, and so do we. */
function level(v: unknown, path: string): EnforcementLevel {
    if (typeof v !== "string" || !LEVELS.includes(v)) {
        throw new ConfigError(`${path} must be one of ${LEVELS.join(", ")} (got ${JSON.stringify(v)})`);
    }
    return v === "remediate" ? "mandatory" : (v as EnforcementLevel);
}

function defaults(): MeshSettings {
    // Fresh copies: resolved settings never share arrays with the definitions.
    return JSON.parse(JSON.stringify(Object.fromEntries(SETTING_KEYS.map((k) => [k, SETTINGS[k].default])))) as MeshSettings;
}

/** Validates a layer of settings and applies it over `base`. */
function mergeSettings(base: MeshSettings, layer: Record<string, unknown>, path: string): MeshSettings {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(layer)) {
        if (v === undefined) {
            continue;
        }
        if (!(k in SETTINGS)) {
            throw new ConfigError(`${path}${k} is not a known setting (known: ${SETTING_KEYS.join(", ")})`);
        }
        const errors = validate(SETTINGS[k as SettingKey], v, `${path}${k}`);
        if (errors.length > 0) {
            throw new ConfigError(errors.join("; "));
        }
        out[k] = JSON.parse(JSON.stringify(v));
    }
    return out as unknown as MeshSettings;
}

/** Settings of one policy as the CrossGuard server hands them over (`args.getConfig()`). */
export function settingsFromPolicyConfig(policy: string, raw: object): MeshSettings {
    return mergeSettings(defaults(), raw as Record<string, unknown>, `${policy}.`);
}

/**
 * Validates a config input and applies defaults. `knownPolicies`, when given, rejects per-policy
 * entries for policies that do not exist (a typo would otherwise silently do nothing).
 */
export function resolvePackConfig(input: PackConfigInput = {}, knownPolicies?: readonly string[]): PackConfig {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new ConfigError("policy config must be an object");
    }
    const { policies = {}, ...flat } = input;
    const settings = mergeSettings(defaults(), flat, "");
    if (typeof policies !== "object" || policies === null || Array.isArray(policies)) {
        throw new ConfigError("policies must be an object keyed by policy name");
    }
    let all: EnforcementLevel | undefined;
    const perPolicy: Record<string, { enforcement?: EnforcementLevel; settings: MeshSettings }> = {};
    for (const [name, entry] of Object.entries(policies)) {
        if (name === "all") {
            all = level(typeof entry === "string" ? entry : (entry as { enforcementLevel?: unknown }).enforcementLevel, "all");
            continue;
        }
        if (knownPolicies && !knownPolicies.includes(name)) {
            throw new ConfigError(`"${name}" is not a policy of this pack (known: ${knownPolicies.join(", ")})`);
        }
        if (typeof entry === "string") {
            perPolicy[name] = { enforcement: level(entry, name), settings };
        } else if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) {
            const { enforcementLevel, ...rest } = entry;
            perPolicy[name] = {
                enforcement: enforcementLevel === undefined ? undefined : level(enforcementLevel, `${name}.enforcementLevel`),
                settings: mergeSettings(settings, rest, `${name}.`),
            };
        } else {
            throw new ConfigError(`${name} must be an enforcement level or an object`);
        }
    }
    return { settings, policies: perPolicy, all };
}

export function settingsFor(config: PackConfig, policy: string): MeshSettings {
    return config.policies[policy]?.settings ?? config.settings;
}

/** CrossGuard precedence: the policy's own entry, then `all`, then the policy default. */
export function enforcementFor(config: PackConfig, policy: string, fallback: EnforcementLevel): EnforcementLevel {
    return config.policies[policy]?.enforcement ?? config.all ?? fallback;
}

/** The root namespace always counts as a system namespace. */
export function isSystemNamespace(settings: MeshSettings, ns: string): boolean {
    return ns === settings.rootNamespace || settings.systemNamespaces.includes(ns);
}
