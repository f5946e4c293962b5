/** Shapes shared by the schema checks; kept apart so the rule modules do not import the entry point. */

export type SchemaRule = "unknown-field" | "schema" | "cel" | "list-type" | "metadata";

/** One reason the API server would reject an object. */
export interface SchemaError {
    apiVersion: string;
    kind: string;
    namespace?: string;
    name?: string;
    /** JSON pointer into the object, e.g. `/spec/http/0/rout`. */
    path: string;
    message: string;
    rule: SchemaRule;
}

/** A finding before it is attributed to an object. */
export type Finding = Pick<SchemaError, "path" | "message" | "rule">;

/** Appends segments to a JSON pointer, escaping `~` and `/` as RFC 6901 requires (label keys contain `/`). */
export function pointer(base: string, ...segments: (string | number)[]): string {
    return base + segments.map((s) => "/" + String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}
