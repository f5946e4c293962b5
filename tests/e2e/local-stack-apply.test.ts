/**
 * The `local` stack applied for real onto the e2e control plane: its offline-rendered manifests.yaml, applied
 * server-side in the file's dependency order, must come up the way a user expects (revision labels, available
 * workloads through kwok, the ingress wait Job complete, exactly the rendered objects with the rendered fields),
 * and deleting it must leave nothing of it behind. This stands in for `pulumi up`/`pulumi destroy` of the
 * stack, which cannot run here (docs/real-peers.md): it proves the objects, not the Pulumi engine.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { KubeObject } from "../../policy-pack/rules";
import { asArray, asRecord, asString, at, labelsOf, nameOf, podTemplate, stringMap, WORKLOAD_KINDS, groupKind } from "../../policy-pack/rules/k8s";
import { toYaml, withTempDir } from "./support/istioctl";
import { FIELD_MANAGER, Kube, kubectl } from "./support/kube";
import { kubectlPath, localCluster } from "./support/peers";
import { renderedStacks, ROOT } from "./support/stacks";

const STACK = "local";
/** How long a rollout may take under kwok (pods become Ready within seconds; this bounds a stuck one). */
const WAIT_SECONDS = 90;

type Live = KubeObject & { metadata: { managedFields?: { manager?: string }[] } };

/** `Kind ns/name` (or `Kind name`), how every failure names an object. */
function id(o: KubeObject): string {
    const ns = asString(at(o, "metadata", "namespace"));
    return `${o.kind} ${ns ? `${ns}/` : ""}${nameOf(o)}`;
}

/** The type argument kubectl resolves without ambiguity: `Kind` for the core group, else `Kind.version.group`. */
function typeOf(o: KubeObject): string {
    const [group, version] = String(o.apiVersion).includes("/") ? String(o.apiVersion).split("/") : ["", String(o.apiVersion)];
    return group ? `${o.kind}.${version}.${group}` : String(o.kind);
}

/** The stack's revision from Pulumi.local.yaml (the stack runs one; a canary stack would need a per-namespace answer). */
function stackRevision(): string {
    const config = (parse(fs.readFileSync(path.join(ROOT, `Pulumi.${STACK}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;
    const revisions = asArray(at(config["aks-istio-mesh:mesh"], "revisions")).map(String);
    assert.strictEqual(revisions.length, 1, `Pulumi.${STACK}.yaml: aks-istio-mesh:mesh.revisions must name one revision for this test, got ${revisions.join(", ")}`);
    return revisions[0];
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
function firstDifference(rendered: unknown, live: unknown, where: string): string | undefined {
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

describe("e2e: the local stack applied for real onto the local cluster (stands in for pulumi up)", function () {
    let kube: Kube;
    let objects: KubeObject[] = [];
    /** Set once an apply was attempted: from then on the stack must be deleted, whatever happens. */
    let applied = false;

    /** Live objects of `objs` keyed by `id`, from one `kubectl get -f`; missing ones are absent from the map. */
    function live(objs: readonly KubeObject[]): Map<string, Live> {
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

    /**
     * Waits until every object of `objs` meets kubectl wait's `--for`, bounded by WAIT_SECONDS; on time-out
     * fails naming each object that does not, with its status.
     */
    function waitFor(objs: readonly KubeObject[], forArg: (o: KubeObject) => string, what: string, met: (o: Live) => boolean): void {
        const stuck = objs.filter((o) => {
            const ns = asString(at(o, "metadata", "namespace"));
            const r = kubectl(kube, ["wait", `--for=${forArg(o)}`, `--timeout=${WAIT_SECONDS}s`, ...(ns ? ["-n", ns] : []), `${typeOf(o)}/${nameOf(o)}`]);
            return !r.ok;
        });
        if (stuck.length === 0) return;
        const now = live(stuck);
        const lines = stuck.map((o) => {
            const l = now.get(id(o));
            return l && met(l) ? undefined : `${id(o)} is not ${what} after ${WAIT_SECONDS} s: ${JSON.stringify(l ? at(l, "status") : "missing")}`;
        }).filter((l): l is string => !!l);
        assert.fail(lines.join("\n") || `${stuck.map(id).join(", ")}: kubectl wait timed out`);
    }

    /** Deletes every applied object in reverse order and waits until they and their dependents are gone. */
    function deleteStack(): void {
        withTempDir((dir) => {
            const file = path.join(dir, "reverse.yaml");
            fs.writeFileSync(file, toYaml([...objects].reverse()));
            const r = kubectl(kube, ["delete", "-f", file, "--ignore-not-found", "--wait", "--cascade=foreground", `--timeout=${WAIT_SECONDS}s`]);
            assert.ok(r.ok, `kubectl delete of the ${STACK} stack failed: ${r.output}`);
        });
        applied = false;
    }

    before(async function () {
        this.timeout(5 * 60_000);
        const s = (await renderedStacks()).find((x) => x.stack === STACK);
        assert.ok(s, `stack ${STACK} was not rendered`);
        objects = s.objects;
        const cluster = await localCluster();
        kube = { kubectl: await kubectlPath(), kubeconfig: cluster.kubeconfig };
        applied = true;
        // kubectl applies a file's objects in order: the preview writes them in dependency order, namespaces first.
        const r = kubectl(kube, ["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "--validate=strict", "-f", s.manifests]);
        assert.ok(r.ok, `kubectl apply --server-side of ${STACK}'s manifests.yaml failed:\n${r.output.split("\n").filter((l) => !/ serverside-applied$/.test(l)).join("\n")}`);
    });

    after(function () {
        this.timeout(3 * 60_000);
        if (applied) deleteStack();
    });

    it("labels every app namespace with the stack's revision", () => {
        const revision = stackRevision();
        const namespaces = objects.filter((o) => o.kind === "Namespace");
        assert.ok(namespaces.length > 0, `${STACK} renders no Namespace`);
        const now = live(namespaces);
        for (const ns of namespaces) {
            assert.strictEqual(labelsOf(now.get(id(ns)))["istio.io/rev"], revision, `${id(ns)}: istio.io/rev in the API server`);
        }
    });

    it("brings every Deployment to Available and every StatefulSet to ready through kwok", function () {
        this.timeout(4 * WAIT_SECONDS * 1000);
        const deployments = objects.filter((o) => groupKind(o) === "apps/Deployment");
        const statefulSets = objects.filter((o) => groupKind(o) === "apps/StatefulSet");
        assert.ok(deployments.length > 0 && statefulSets.length > 0, `${STACK} renders ${deployments.length} Deployments and ${statefulSets.length} StatefulSets`);
        const available = (o: Live) => asArray(at(o, "status", "conditions")).some((c) => at(c, "type") === "Available" && at(c, "status") === "True");
        waitFor(deployments, () => "condition=Available", "Available", available);
        const replicas = (o: KubeObject) => Number(at(o, "spec", "replicas") ?? 1);
        waitFor(statefulSets, (o) => `jsonpath={.status.readyReplicas}=${replicas(o)}`, "ready", (o) => Number(at(o, "status", "readyReplicas") ?? 0) === replicas(o));
    });

    it("completes every Job (the ingress gateway wait) through kwok", function () {
        this.timeout(2 * WAIT_SECONDS * 1000);
        const jobs = objects.filter((o) => groupKind(o) === "batch/Job");
        assert.ok(jobs.some((j) => nameOf(j) === "mesh-ingress-gateway-wait"), `${STACK} renders no Job aks-istio-ingress/mesh-ingress-gateway-wait`);
        const complete = (o: Live) => asArray(at(o, "status", "conditions")).some((c) => at(c, "type") === "Complete" && at(c, "status") === "True");
        waitFor(jobs, () => "condition=Complete", "Complete", complete);
    });

    it("holds exactly the rendered objects (kind/namespace/name), applied by this run", () => {
        const namespaces = new Set(objects.map((o) => asString(at(o, "metadata", "namespace")) ?? (o.kind === "Namespace" ? nameOf(o) : undefined)));
        const types = [...new Set(objects.map(typeOf))];
        const r = kubectl(kube, ["get", types.join(","), "-A", "--show-managed-fields", "-o", "json"]);
        assert.ok(r.ok, `kubectl get ${types.join(",")}: ${r.output}`);
        const inStack = (JSON.parse(r.stdout) as { items: Live[] }).items
            .filter((o) => namespaces.has(asString(at(o, "metadata", "namespace")) ?? nameOf(o)))
            .filter((o) => (o.metadata.managedFields ?? []).some((m) => m.manager === FIELD_MANAGER));
        const want = new Set(objects.map(id));
        const got = new Set(inStack.map(id));
        const missing = [...want].filter((x) => !got.has(x));
        const extra = [...got].filter((x) => !want.has(x));
        assert.deepStrictEqual({ missing, extra }, { missing: [], extra: [] }, "the API server's objects of the stack differ from the rendered set");
    });

    it("holds every rendered field (labels, revision annotations, ports, Istio specs) as rendered", () => {
        const now = live(objects);
        for (const o of objects) {
            const l = now.get(id(o));
            assert.ok(l, `${id(o)} is not in the API server`);
            if (o.kind === "Secret") {
                // The preview redacts secret values; the keys the pods read must be there.
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
    });

    it("gives every secretKeyRef of a workload a key of its Secret", () => {
        const secrets = live(objects.filter((o) => o.kind === "Secret"));
        for (const w of objects.filter((o) => WORKLOAD_KINDS.includes(groupKind(o)))) {
            const containers = [...asArray(at(podTemplate(w), "spec", "containers")), ...asArray(at(podTemplate(w), "spec", "initContainers"))];
            for (const env of containers.flatMap((c) => asArray(at(c, "env")))) {
                const ref = at(env, "valueFrom", "secretKeyRef");
                if (!ref || at(ref, "optional") === true) continue;
                const secret = secrets.get(`Secret ${asString(at(w, "metadata", "namespace"))}/${asString(at(ref, "name"))}`);
                // A real kubelet refuses to start the container without the key (CreateContainerConfigError); kwok does not check.
                assert.ok(secret && asString(at(ref, "key"))! in stringMap(at(secret, "data")),
                    `${id(w)} env ${asString(at(env, "name"))}: Secret ${asString(at(ref, "name"))} has no key "${asString(at(ref, "key"))}" (keys: ${Object.keys(stringMap(at(secret, "data"))).join(", ") || "none"})`);
            }
        }
    });

    it("deleting it in reverse order leaves no object of the stack and nothing it ran", function () {
        this.timeout(3 * 60_000);
        deleteStack();
        const left = [...live(objects).keys()];
        assert.deepStrictEqual(left, [], `objects of ${STACK} left after kubectl delete --wait`);
        // Dependents the controllers made (ReplicaSets, pods, revisions) go with their owners: none may still carry a workload's selector.
        const namespaces = [...new Set(objects.map((o) => asString(at(o, "metadata", "namespace"))).filter((n): n is string => !!n))];
        const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(groupKind(o)));
        for (const ns of namespaces) {
            const r = kubectl(kube, ["get", "pods,replicasets,controllerrevisions", "-n", ns, "-o", "json"]);
            assert.ok(r.ok, `kubectl get pods,replicasets,controllerrevisions -n ${ns}: ${r.output}`);
            const items = (JSON.parse(r.stdout) as { items: Live[] }).items;
            const orphans = items.filter((i) => workloads.some((w) => asString(at(w, "metadata", "namespace")) === ns
                && Object.entries(labelsOf(podTemplate(w))).every(([k, v]) => labelsOf(i)[k] === v)));
            assert.deepStrictEqual(orphans.map(id), [], `objects of ${STACK}'s workloads left in ${ns}`);
        }
    });
});
