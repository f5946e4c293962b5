/**
 * Reading a stack's objects back from the API server and comparing them with what the program rendered: the
 * checks the real-engine tier (and the fault suite) run after every `up`.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { KubeObject } from "../../../policy-pack/rules";
import { asRecord, asString, at, nameOf } from "../../../policy-pack/rules/k8s";
import { toYaml, withTempDir } from "./istioctl";
import { Kube, kubectl } from "./kube";

export type Live = KubeObject & { metadata: { managedFields?: { manager?: string }[] } };

/** `Kind ns/name` (or `Kind name`), how every failure names an object. */
export function id(o: KubeObject): string {
    const ns = asString(at(o, "metadata", "namespace"));
    return `${o.kind} ${ns ? `${ns}/` : ""}${nameOf(o)}`;
}

/** The type argument kubectl resolves without ambiguity: `Kind` for the core group, else `Kind.version.group`. */
export function typeOf(o: KubeObject): string {
    const [group, version] = String(o.apiVersion).includes("/") ? String(o.apiVersion).split("/") : ["", String(o.apiVersion)];
    return group ? `${o.kind}.${version}.${group}` : String(o.kind);
}

const SUFFIXES: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** A resource quantity's value: the server stores the canonical form ("1000m" becomes "1"), the same amount. */
function quantity(v: unknown): number | undefined {
    const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(v));
    return m ? Number(m[1]) * SUFFIXES[m[2] ?? ""] : undefined;
}

/**
 * The first field the program rendered that the API server does not hold with the same value, or undefined.
 * The server adds defaults but must never change or drop a rendered field (lists must keep their order).
 */
export function firstDifference(rendered: unknown, live: unknown, where: string): string | undefined {
    // The API server drops empty optional lists and maps (omitempty): `env: []` is stored as no env.
    const empty = (Array.isArray(rendered) && rendered.length === 0) || (asRecord(rendered) && Object.keys(rendered as object).length === 0);
    if (empty && live === undefined) return undefined;
    if (Array.isArray(rendered)) {
        if (!Array.isArray(live) || live.length !== rendered.length) {
            return `${where}: rendered ${rendered.length} items, the server holds ${JSON.stringify(live)}`;
        }
        for (let i = 0; i < rendered.length; i++) {
            const d = firstDifference(rendered[i], live[i], `${where}[${i}]`);
            if (d) return d;
        }
        return undefined;
    }
    if (rendered !== null && typeof rendered === "object") {
        const l = asRecord(live);
        if (!l) return `${where}: rendered an object, the server holds ${JSON.stringify(live)}`;
        for (const [k, v] of Object.entries(rendered)) {
            const d = firstDifference(v, l[k], `${where}.${k}`);
            if (d) return d;
        }
        return undefined;
    }
    if (/\.resources\.(requests|limits)\.[^.]+$/.test(where) && quantity(rendered) !== undefined && quantity(rendered) === quantity(live)) return undefined;
    return rendered === live ? undefined : `${where}: rendered ${JSON.stringify(rendered)}, the server holds ${JSON.stringify(live)}`;
}


/** Live objects of `objs` keyed by `id`, from one `kubectl get -f`; missing ones are absent from the map. */
export function liveObjects(kube: Kube, objs: readonly KubeObject[]): Map<string, Live> {
    if (objs.length === 0) return new Map();
    return withTempDir((dir) => {
        const file = path.join(dir, "objects.yaml");
        fs.writeFileSync(file, toYaml(objs));
        const r = kubectl(kube, ["get", "-f", file, "--ignore-not-found", "-o", "json"]);
        assert.ok(r.ok, `kubectl get -f failed: ${r.output}`);
        const parsed = r.stdout.trim() === "" ? { items: [] } : JSON.parse(r.stdout) as { items?: Live[]; kind?: string };
        const items = parsed.items ?? [parsed as Live];
        return new Map(items.map((o) => [id(o), o]));
    });
}

/** Field managers of the Pulumi Kubernetes provider's server-side applies start with this. */
const PROVIDER_MANAGER = /^pulumi-kubernetes/;

/** The stack's objects the Pulumi provider applied: in the rendered objects' namespaces, of their types. */
export function providerObjects(kube: Kube, objects: readonly KubeObject[]): Live[] {
    const namespaces = new Set(objects.map((o) => asString(at(o, "metadata", "namespace")) ?? (o.kind === "Namespace" ? nameOf(o) : undefined)));
    const types = [...new Set(objects.map(typeOf))];
    const r = kubectl(kube, ["get", types.join(","), "-A", "--show-managed-fields", "-o", "json"]);
    assert.ok(r.ok, `kubectl get ${types.join(",")}: ${r.output}`);
    return (JSON.parse(r.stdout) as { items: Live[] }).items
        .filter((o) => namespaces.has(asString(at(o, "metadata", "namespace")) ?? nameOf(o)))
        .filter((o) => (o.metadata.managedFields ?? []).some((m) => PROVIDER_MANAGER.test(m.manager ?? "")));
}

/**
 * The API server holds what the offline preview renders: exactly its kind/namespace/name set (applied by the
 * provider), every rendered field as rendered, each Istio spec equal, each Secret with the rendered keys
 * (the preview redacts values).
 */
export function assertMatchesRender(kube: Kube, objects: readonly KubeObject[]): void {
    const got = new Set(providerObjects(kube, objects).map(id));
    const want = new Set(objects.map(id));
    assert.deepStrictEqual({ missing: [...want].filter((x) => !got.has(x)), extra: [...got].filter((x) => !want.has(x)) }, { missing: [], extra: [] },
        "the API server's objects of the stack differ from the offline render");
    const now = liveObjects(kube, objects);
    for (const o of objects) {
        const l = now.get(id(o));
        assert.ok(l, `${id(o)} is not in the API server`);
        if (o.kind === "Secret") {
            const { stringData, data, ...rest } = o as KubeObject & { stringData?: object; data?: object };
            assert.deepStrictEqual(Object.keys(asRecord(at(l, "data")) ?? {}).sort(), Object.keys({ ...data, ...stringData }).sort(), `${id(o)}: its keys`);
            const d = firstDifference(rest, l, id(o));
            assert.ok(!d, d);
            continue;
        }
        const d = firstDifference(o, l, id(o));
        assert.ok(!d, d);
        if (String(o.apiVersion).includes(".istio.io/")) {
            assert.deepStrictEqual(at(l, "spec"), at(o, "spec"), `${id(o)}: the spec in the API server is not the rendered one`);
        }
    }
}
