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
import { z } from "zod";
import { ConfigError } from "../lib/errors";
import { ADDON_NAMESPACES, AKS_ADDON_NAMESPACES, EGRESS_NAMESPACE, INGRESS_GATEWAYS, KUBERNETES_NAMESPACES, PROXY_REDIRECTIONS, ROOT_NAMESPACE } from "../lib/aks";
import { SUPPORTED_REVISIONS } from "../lib/revisions";
import { EnforcementLevel } from "./types";

const ENVIRONMENTS = ["prod", "dev"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const name = z.string().min(1, "must not be empty");
const PORT_RANGE = "must be between 1 and 65535";

/** Closed objects name the fields they know when given another. */
function closed<T extends z.ZodRawShape>(shape: T) {
    const known = Object.keys(shape).join(", ");
    return z.strictObject(shape, { error: (issue) => (issue.code === "unrecognized_keys" ? `is not a known field (known: ${known})` : undefined) });
}

/**
 * A narrow, reviewed carve-out from STRICT mTLS (e.g. a webhook the API server calls in plain text). The one
 * shape both sides use: stack config produces these (it requires `selector` and `reason`), the pack checks
 * PeerAuthentications against them.
 */
export const mtlsExceptionSchema = closed({
    /** Namespace of the PeerAuthentication. */
    namespace: name,
    /** When set, the PeerAuthentication's selector must carry these labels (it may narrow further). */
    selector: z.record(z.string(), z.string()).optional(),
    /** When set, only this port (in `portLevelMtls`) may be relaxed. */
    port: z.number().int("must be an integer").min(1, PORT_RANGE).max(65535, PORT_RANGE).optional(),
    /** The weakest mode allowed; PERMISSIVE unless DISABLE is stated. */
    mode: z.enum(["PERMISSIVE", "DISABLE"]).optional(),
    /** Why the exception exists (kept for reviewers; not interpreted). */
    reason: z.string().optional(),
});

export type MtlsException = Readonly<z.infer<typeof mtlsExceptionSchema>>;

/** An egress gateway the add-on runs (`serviceMeshProfile.istio.components.egressGateways[]`), as the rules see it. */
export const egressGatewaySchema = closed({
    /** The gateway's name; its ClusterIP Service has this name. */
    name,
    namespace: name.default(EGRESS_NAMESPACE),
    /** Labels of its pods; the add-on labels them `istio: <name>`. */
    selector: z.record(z.string(), z.string()).optional(),
});

export type EgressGatewaySetting = z.output<typeof egressGatewaySchema>;

/** Pod labels of an egress gateway: its selector, else the add-on's `istio: <name>`. */
export function egressGatewayLabels(g: EgressGatewaySetting): Record<string, string> {
    return g.selector ?? { istio: g.name };
}

const stringList = (description: string, def: readonly string[]) => z.array(name).default(() => [...def]).describe(description);

/** The settings every rule may read: schema, description and default, in one place. */
export const SETTINGS = {
    rootNamespace: name.default(ROOT_NAMESPACE).describe(
        "Istio root namespace: mesh-wide PeerAuthentication/AuthorizationPolicy and the shared MeshConfig live here (aks-istio-system on AKS)."),
    systemNamespaces: stringList(
        "Namespaces outside the mesh: no revision label required, workload and coverage rules skip them. The root namespace always counts as one.",
        [...KUBERNETES_NAMESPACES.filter((n) => n !== "default"), ...ADDON_NAMESPACES, ...AKS_ADDON_NAMESPACES],
    ),
    allowedRevisions: stringList(
        "Istio revisions namespaces may point to with istio.io/rev (default: the supported AKS revisions). A ManagedCluster in the stack narrows this to its own revisions.",
        SUPPORTED_REVISIONS.map((r) => r.revision),
    ),
    revisionTags: stringList(
        "Revision tags (istioctl tag set ... --istioNamespace aks-istio-system) that namespaces may use as istio.io/rev.",
        [],
    ),
    mtlsExceptions: z.array(mtlsExceptionSchema).default(() => []).describe(
        "Reviewed exceptions to STRICT mTLS: { namespace, selector?, port?, mode? (PERMISSIVE|DISABLE), reason? }."),
    environment: z.enum(ENVIRONMENTS).default("prod").describe(
        "prod makes wildcard gateway hosts mandatory violations and checks replicas/PDBs; dev reports wildcard hosts as advisory."),
    proxyRedirection: z.enum(PROXY_REDIRECTIONS).default("CNIChaining").describe(
        "How the add-on redirects traffic into sidecars: CNIChaining (Istio CNI, meshes installed at asm-1-30 or later) or InitContainers (istio-init, which needs NET_ADMIN and NET_RAW)."),
    settingsDigest: z.string().regex(/^(sha256:[0-9a-f]{16})?$/, "must be sha256:<16 hex digits>, as npm run policy:config writes it").default("").describe(
        "Digest of the stack settings this config was generated from (npm run policy:config); a stack whose Namespaces carry another digest is refused."),
    gatewaySelectors: stringList(
        "Values of the `istio` label a Gateway selector may use (the AKS ingress gateways by default).",
        Object.values(INGRESS_GATEWAYS).map((g) => g.selector.istio),
    ),
    egressGateways: z.array(egressGatewaySchema).default(() => []).describe(
        "The AKS add-on egress gateways the stack routes through: { name, namespace (default aks-istio-egress), selector (default { istio: <name> }) }. Gateways may select them, and their Service and pods count as present though the add-on, not the stack, creates them."),
} as const;

/** The mesh context every rule reads. */
export type MeshSettings = { -readonly [K in keyof typeof SETTINGS]: z.output<(typeof SETTINGS)[K]> };

export type SettingKey = keyof MeshSettings;

const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** A JSON Schema (draft-07), as CrossGuard's `configSchema` takes it. */
export type JsonSchema = Record<string, unknown>;

/** One setting's JSON Schema, derived from its zod schema (the `$schema` marker belongs to documents, not properties). */
export function settingJsonSchema(key: SettingKey): JsonSchema {
    const schema = z.toJSONSchema(SETTINGS[key], { target: "draft-7" }) as JsonSchema;
    delete schema.$schema;
    return schema;
}

/** The CrossGuard `configSchema` of a policy that reads `keys`. */
export function configSchemaFor(keys: readonly SettingKey[]): { properties: Record<string, JsonSchema> } | undefined {
    return keys.length === 0 ? undefined : { properties: Object.fromEntries(keys.map((k) => [k, settingJsonSchema(k)])) };
}

const TYPE_NAMES: Record<string, string> = { string: "a string", number: "a number", int: "an integer", array: "a list", object: "an object", record: "an object" };

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>((v, k) => (typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined), root);
}

/** A zod issue as the pack words problems: the key path, then what is wrong and what is allowed. */
function configError(base: string, issue: z.core.$ZodIssue, input: unknown): ConfigError {
    const keys = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : issue.path;
    const where = keys.reduce<string>((p, k) => (typeof k === "number" ? `${p}[${k}]` : `${p}.${String(k)}`), base);
    const got = valueAt(input, issue.path);
    switch (issue.code) {
        case "invalid_type":
            return new ConfigError(where, got === undefined ? "is required" : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`);
        case "invalid_value":
            return new ConfigError(where, `must be one of ${issue.values.join(", ")} (got ${JSON.stringify(got)})`);
        default:
            return new ConfigError(where, issue.message);
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
        throw new ConfigError(path, `must be one of ${LEVELS.join(", ")} (got ${JSON.stringify(v)})`);
    }
    return v === "remediate" ? "mandatory" : (v as EnforcementLevel);
}

function defaults(): MeshSettings {
    // Each default is built afresh: resolved settings never share arrays with the definitions.
    return Object.fromEntries(SETTING_KEYS.map((k) => [k, SETTINGS[k].parse(undefined)])) as MeshSettings;
}

/** Validates a layer of settings and applies it over `base`. */
function mergeSettings(base: MeshSettings, layer: Record<string, unknown>, path: string): MeshSettings {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(layer)) {
        if (v === undefined) {
            continue;
        }
        if (!(k in SETTINGS)) {
            throw new ConfigError(`${path}${k}`, `is not a known setting (known: ${SETTING_KEYS.join(", ")})`);
        }
        const parsed = SETTINGS[k as SettingKey].safeParse(v);
        if (!parsed.success) {
            throw configError(`${path}${k}`, parsed.error.issues[0], v);
        }
        out[k] = parsed.data;
    }
    return out as MeshSettings;
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
        throw new ConfigError("policy config", "must be an object");
    }
    const { policies = {}, ...flat } = input;
    const settings = mergeSettings(defaults(), flat, "");
    if (typeof policies !== "object" || policies === null || Array.isArray(policies)) {
        throw new ConfigError("policies", "must be an object keyed by policy name");
    }
    let all: EnforcementLevel | undefined;
    const perPolicy: Record<string, { enforcement?: EnforcementLevel; settings: MeshSettings }> = {};
    for (const [name, entry] of Object.entries(policies)) {
        if (name === "all") {
            all = level(typeof entry === "string" ? entry : (entry as { enforcementLevel?: unknown }).enforcementLevel, "all");
            continue;
        }
        if (knownPolicies && !knownPolicies.includes(name)) {
            throw new ConfigError(name, `is not a policy of this pack (known: ${knownPolicies.join(", ")})`);
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
            throw new ConfigError(name, "must be an enforcement level or an object");
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
