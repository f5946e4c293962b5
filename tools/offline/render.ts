import { stringify } from "yaml";
import { REDACTED, ResourceRecord } from "./runtime";

/** A Kubernetes object the stack would apply, with the resource that creates it. */
export interface Manifest {
    urn: string;
    object: Record<string, any>;
}

const isKubeObject = (r: ResourceRecord) => r.custom && !r.read && r.type.startsWith("kubernetes:") && typeof r.inputs.kind === "string";

/** Orders resources so that each comes after its parent's dependencies and its own (stable). */
export function dependencyOrder(records: ResourceRecord[]): ResourceRecord[] {
    const byUrn = new Map(records.map((r) => [r.urn, r]));
    const done = new Set<string>();
    const out: ResourceRecord[] = [];
    const visit = (r: ResourceRecord, stack: Set<string>) => {
        if (done.has(r.urn) || stack.has(r.urn)) {
            return;
        }
        stack.add(r.urn);
        for (const d of r.dependencies) {
            const dep = byUrn.get(d);
            if (dep) {
                visit(dep, stack);
            }
        }
        stack.delete(r.urn);
        done.add(r.urn);
        out.push(r);
    };
    records.forEach((r) => visit(r, new Set()));
    return out;
}

/** Secret data never leaves the tool, whatever the mocks produced. */
function redactSecretData(obj: Record<string, any>): Record<string, any> {
    if (obj.kind !== "Secret") {
        return obj;
    }
    const hide = (m?: Record<string, unknown>) => m && Object.fromEntries(Object.keys(m).map((k) => [k, REDACTED]));
    return { ...obj, data: hide(obj.data), stringData: hide(obj.stringData) };
}

/** Every Kubernetes object of the stack, in dependency order. */
export function manifests(records: ResourceRecord[]): Manifest[] {
    return dependencyOrder(records).filter(isKubeObject).map((r) => ({ urn: r.urn, object: redactSecretData(r.inputs) }));
}

export function manifestsYaml(list: Manifest[]): string {
    return list.map((m) => `---\n${stringify(m.object, { lineWidth: 0 })}`).join("");
}

/** Counts by resource type, sorted by type. */
export function countByType(records: ResourceRecord[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of records) {
        counts[r.type] = (counts[r.type] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** The resource tree the way `pulumi preview` draws it. */
export function resourceTree(records: ResourceRecord[], stackLabel: string): string {
    const children = new Map<string | undefined, ResourceRecord[]>();
    for (const r of records) {
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    const rows: [string, string, string][] = [["", "pulumi:pulumi:Stack", stackLabel]];
    const walk = (parent: string | undefined, prefix: string) => {
        const list = children.get(parent) ?? [];
        list.forEach((r, i) => {
            const last = i === list.length - 1;
            rows.push([`${prefix}${last ? "└─ " : "├─ "}`, r.type, r.read ? `${r.name} (read)` : r.name]);
            walk(r.urn, `${prefix}${last ? "   " : "│  "}`);
        });
    };
    walk(undefined, "");
    const width = Math.max(...rows.map(([p, t]) => p.length + t.length)) + 2;
    return rows.map(([p, t, n]) => ` +   ${(p + t).padEnd(width)}${n}`).join("\n");
}
