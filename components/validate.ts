import * as pulumi from "@pulumi/pulumi";

/**
 * A bad stack-config or app-spec value. It is a RunError so `pulumi up` prints the message alone,
 * without the program's stack trace; the offline tools print the same message and exit 2.
 */
export class ConfigError extends pulumi.RunError {
    constructor(readonly path: string, readonly problem: string) {
        super(`${path}: ${problem}`);
        this.name = "ConfigError";
    }
}

export function fail(path: string, problem: string): never {
    throw new ConfigError(path, problem);
}

function describe(value: unknown): string {
    return value === undefined ? "nothing" : JSON.stringify(value);
}

/** A plain object whose keys are all in `allowed`; anything else is refused by name. */
export function object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        fail(path, `must be an object with keys ${allowed.join(", ")}; got ${describe(value)}`);
    }
    for (const key of Object.keys(value)) {
        if (!allowed.includes(key)) {
            fail(`${path}.${key}`, `unknown key; allowed keys: ${allowed.join(", ")}`);
        }
    }
    return value as Record<string, unknown>;
}

export function string(value: unknown, path: string, opts: { pattern?: RegExp; hint?: string } = {}): string {
    if (typeof value !== "string" || value.length === 0) {
        fail(path, `must be a non-empty string${opts.hint ? ` (${opts.hint})` : ""}; got ${describe(value)}`);
    }
    if (opts.pattern && !opts.pattern.test(value)) {
        fail(path, `${describe(value)} is not valid; expected ${opts.hint ?? opts.pattern.source}`);
    }
    return value;
}

export function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
        fail(path, `${describe(value)} is not allowed; allowed: ${allowed.join(", ")}`);
    }
    return value as T;
}

export function integer(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        fail(path, `must be an integer from ${min} to ${max}; got ${describe(value)}`);
    }
    return value;
}

export function boolean(value: unknown, path: string): boolean {
    if (typeof value !== "boolean") {
        fail(path, `must be true or false; got ${describe(value)}`);
    }
    return value;
}

export function list<T>(value: unknown, path: string, item: (v: unknown, p: string) => T): T[] {
    if (!Array.isArray(value)) {
        fail(path, `must be a list; got ${describe(value)}`);
    }
    return value.map((v, i) => item(v, `${path}[${i}]`));
}

/** A map of string keys to values parsed by `item`, e.g. env vars or version weights. */
export function record<T>(value: unknown, path: string, item: (v: unknown, p: string) => T): Record<string, T> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        fail(path, `must be a map; got ${describe(value)}`);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, item(v, `${path}.${k}`)]));
}

/** Parses `obj[key]` when present, else returns the default. */
export function optional<T>(obj: Record<string, unknown>, key: string, path: string, parse: (v: unknown, p: string) => T, dflt: T): T {
    return obj[key] === undefined ? dflt : parse(obj[key], `${path}.${key}`);
}

/** Refuses duplicates in a list of names, naming the first repeat. */
export function unique(names: readonly string[], path: string, what: string): void {
    const seen = new Set<string>();
    for (const n of names) {
        if (seen.has(n)) {
            fail(path, `duplicate ${what} "${n}"`);
        }
        seen.add(n);
    }
}
