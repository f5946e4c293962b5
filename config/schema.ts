/**
 * Building blocks for the stack-config schemas (zod 4): each carries the one-line message a user
 * reads, so a refusal always says what is wrong and what is allowed. Zod was chosen over valibot and
 * TypeBox + ajv because its schemas are plain TypeScript values whose types are inferred (no second
 * type declaration), per-schema error functions give us our own wording, and refinements can point
 * at any path below the value they check.
 */
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../policy-pack/lib/errors";

/** The project's config namespace (the `name` in Pulumi.yaml). */
export const PROJECT = "aks-istio-mesh";

/** `aks-istio-mesh:<k>`: a stack-config key as users write it. */
export const key = (k: string): string => `${PROJECT}:${k}`;

export function fail(path: string, problem: string): never {
    throw new ConfigError(path, problem);
}

/** A value as a message shows it. */
export function describe(value: unknown): string {
    return value === undefined ? "nothing" : JSON.stringify(value);
}

/** A valid value to suggest for what YAML read as a number or a boolean; a fixed one, or one made from the value. */
type Example = string | ((value: number | boolean) => string);

/** `got ...`, saying plainly when YAML read a value as a number or a boolean where text was meant. */
function gotText(value: unknown, example?: Example): string {
    if (typeof value === "number" || typeof value === "boolean") {
        const quoted = typeof example === "function" ? example(value) : example ?? `"${value}"`;
        return `got the ${typeof value} ${value}, not text: write the value in quotes (e.g. ${quoted}); YAML reads it unquoted as a ${typeof value}`;
    }
    return `got ${describe(value)}`;
}

/** Appends a path below `base` the way users write keys: `.name` and `[0]`. */
export function joinPath(base: string, path: readonly PropertyKey[]): string {
    return path.reduce<string>((p, k) => (typeof k === "number" ? `${p}[${k}]` : `${p}.${String(k)}`), base);
}

/** Text; `pattern` (with `hint`, what is allowed) narrows it, `check` adds a rule of its own. */
export function text(opts: { pattern?: RegExp; hint?: string; example?: Example; check?: (s: string) => string | undefined } = {}) {
    const { pattern, hint, example, check } = opts;
    return z.string({ error: (iss) => `must be a non-empty string${hint ? ` (${hint})` : ""}; ${gotText(iss.input, example)}` })
        .min(1, { error: () => `must be a non-empty string${hint ? ` (${hint})` : ""}; got ""` })
        .superRefine((s, ctx) => {
            if (pattern && !pattern.test(s)) {
                ctx.addIssue({ code: "custom", message: `${describe(s)} is not valid; expected ${hint ?? pattern.source}`, input: s });
                return;
            }
            const problem = check?.(s);
            if (problem) {
                ctx.addIssue({ code: "custom", message: problem, input: s });
            }
        });
}

/** One of a fixed set of strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(allowed: T, opts: { required?: string } = {}) {
    return z.enum(allowed, {
        error: (iss) => iss.input === undefined && opts.required ? opts.required : (typeof iss.input === "number" || typeof iss.input === "boolean")
            && allowed.includes(String(iss.input))
            ? `got the ${typeof iss.input} ${iss.input}, not the text "${iss.input}": quote it in the stack file; allowed: ${allowed.map((a) => `"${a}"`).join(", ")}`
            : `${describe(iss.input)} is not allowed; allowed: ${allowed.join(", ")}`,
    });
}

/** A whole number from `min` to `max`. */
export function integer(min: number, max: number) {
    const error = (iss: { input?: unknown }) => `must be an integer from ${min} to ${max}; ${typeof iss.input === "string" && /^-?\d+$/.test(iss.input)
        ? `got the text ${describe(iss.input)}: write the number without quotes` : `got ${describe(iss.input)}`}`;
    return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A number (not necessarily whole) from `min` to `max`. */
export function decimal(min: number, max: number, what = "a number") {
    const error = (iss: { input?: unknown }) => `must be ${what} from ${min} to ${max}; got ${describe(iss.input)}`;
    return z.number({ error }).min(min, { error }).max(max, { error });
}

export const boolean = () => z.boolean({
    error: (iss) => typeof iss.input === "string" && /^(true|false)$/i.test(iss.input.trim())
        ? `got the text ${describe(iss.input)}, not the boolean ${iss.input.trim().toLowerCase()}: write it without quotes`
        : `must be true or false; got ${describe(iss.input)}`,
});

/** Stands for the full key path in a message made where only the last key is known (see parseWith). */
const KEY_PATH = "\u0000key\u0000";

/** Edit distance, for naming the known key a misspelt one was meant to be. */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cur = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            prev = cur;
        }
    }
    return row[b.length];
}

/** The known key `k` was most likely meant as (a typo, a wrong case, a plural), if one is close. */
export function closest(k: string, known: readonly string[]): string | undefined {
    const ranked = known.map((c) => ({ c, d: distance(k, c) })).sort((x, y) => x.d - y.d);
    const best = ranked[0];
    return best && best.d <= Math.max(1, Math.floor(Math.min(k.length, best.c.length) / 4)) ? best.c : undefined;
}

/**
 * Why `k` is not a key: a dotted path written as one key (`pulumi config set --path` makes the
 * nesting), or a misspelling of a known key, or neither. `full` is the key as users write it; a
 * schema's error function does not know it, so parseWith fills in KEY_PATH.
 */
export function unknownKey(k: string, known: readonly string[], full = KEY_PATH, show = (name: string) => name): string {
    const allowed = `allowed keys: ${known.map(show).join(", ")}`;
    const [head, ...rest] = k.split(".");
    if (rest.length > 0 && known.includes(head)) {
        return `unknown key: a path written as one key; nest ${rest.join(".")} under ${show(head)} in the stack file, or set it with pulumi config set --path '${full}' <value>`;
    }
    const meant = closest(k, known);
    return meant ? `unknown key; did you mean ${show(meant)}? (${allowed})` : `unknown key; ${allowed}`;
}

/**
 * A list or map stored as text, as `pulumi config set key '[a, b]'` stores it (and as the engine hands
 * structured values to the program): read as JSON, else as YAML. Other values pass unchanged;
 * `{ problem }` when the text is neither.
 */
export function decodeText(value: unknown): { value: unknown } | { problem: string } {
    if (typeof value !== "string" || !/^\s*[[{]/.test(value)) {
        return { value };
    }
    try {
        return { value: JSON.parse(value) };
    } catch {
        try {
            return { value: parseYaml(value) };
        } catch (e) {
            return { problem: `holds the text ${describe(value)}, which is neither JSON nor YAML (${(e as Error).message.split("\n")[0]}); write it as YAML in the stack file` };
        }
    }
}

/** Accepts a list or map given as text (see decodeText); text that is neither JSON nor YAML is refused by name. */
function structured<T extends z.ZodType>(schema: T) {
    return z.preprocess((value, ctx) => {
        const decoded = decodeText(value);
        if ("problem" in decoded) {
            ctx.addIssue({ code: "custom", input: value, message: decoded.problem });
            return z.NEVER;
        }
        return decoded.value;
    }, schema);
}

/** What a required value's message says when it is missing, instead of "must be a list/map/object". */
interface Required { readonly required?: string }

const missing = (opts: Required, input: unknown, otherwise: string) => (input === undefined && opts.required ? opts.required : otherwise);

export function list<T extends z.ZodType>(item: T, opts: { min?: number; minMessage?: string } & Required = {}) {
    const schema = z.array(item, { error: (iss) => missing(opts, iss.input, `must be a list; got ${describe(iss.input)}`) })
        .min(opts.min ?? 0, { error: () => opts.minMessage ?? `needs at least ${opts.min} item(s)` });
    return structured(schema);
}

/** A map of string keys to `value`; `keyCheck` refuses a key by its own path. */
export function record<T extends z.ZodType>(value: T, keyCheck?: (k: string) => string | undefined, opts: Required = {}) {
    const schema = z.record(z.string(), value, { error: (iss) => missing(opts, iss.input, `must be a map; got ${describe(iss.input)}`) })
        .superRefine((m, ctx) => {
            for (const k of Object.keys(m)) {
                const problem = keyCheck?.(k);
                if (problem) {
                    ctx.addIssue({ code: "custom", message: problem, path: [k], input: k });
                }
            }
        });
    return structured(schema);
}

/** An object with exactly these keys; any other key is refused by name. */
export function object<S extends z.ZodRawShape>(shape: S, opts: Required = {}) {
    const known = Object.keys(shape);
    const schema = z.strictObject(shape, {
        error: (iss) => iss.code === "unrecognized_keys" ? unknownKey(iss.keys[0], known)
            : missing(opts, iss.input, `must be an object with keys ${known.join(", ")}; got ${describe(iss.input)}`),
    });
    return structured(schema);
}

/** Refuses duplicates in a list of names, naming the first repeat at `path` (relative to the refinement). */
export function unique(ctx: z.RefinementCtx, names: readonly string[], path: PropertyKey[], what: string): void {
    const seen = new Set<string>();
    for (const n of names) {
        if (seen.has(n)) {
            ctx.addIssue({ code: "custom", message: `duplicate ${what} "${n}"`, path, input: names });
            return;
        }
        seen.add(n);
    }
}

/** Milliseconds in an Envoy/Istio duration (`500ms`, `7s`, `1m`, `1h`). */
export function durationMs(d: string): number {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d);
    return m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms"] : NaN;
}

/**
 * An Envoy/Istio duration of at least `minMs`: Istio's CRDs refuse durations under 1ms (so `0s`),
 * and Envoy's local rate limit refuses a fill interval under 50ms.
 */
export function duration(minMs = 1) {
    return text({
        pattern: /^\d+(\.\d+)?(ms|s|m|h)$/, hint: "a duration such as 500ms, 7s or 1m",
        // A bare number has no unit: suggest it in seconds, as a duration Istio accepts.
        example: (v) => (typeof v === "number" ? `"${v}s"` : "\"5s\""),
        check: (s) => durationMs(s) < minMs ? `${describe(s)} is too short: must be at least ${minMs}ms (${minMs === 1 ? "Istio refuses a zero or sub-millisecond duration" : "Envoy refuses a shorter interval"})` : undefined,
    });
}

/**
 * Parses `value` with `schema`; the first problem becomes one ConfigError naming the full key path
 * below `base` (an unknown key is named itself).
 */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, base: string): z.output<T> {
    const r = schema.safeParse(value);
    if (r.success) {
        return r.data;
    }
    // A misspelt key also leaves the key it was meant as missing: name the misspelling, not "got nothing".
    const first = r.error.issues[0];
    const sameParent = (a: readonly PropertyKey[], b: readonly PropertyKey[]) => a.length === b.length && a.every((k, i) => k === b[i]);
    const unknown = first.input === undefined
        ? r.error.issues.find((i) => i.code === "unrecognized_keys" && sameParent(i.path, first.path.slice(0, -1)))
        : undefined;
    const issue = unknown ?? first;
    const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : issue.path;
    return fail(joinPath(base, path), issue.message.replace(KEY_PATH, joinPath(base, path)));
}
