/**
 * The real Pulumi engine deploys the `local` stack onto the e2e control plane: `up` with the policy pack (the
 * provider's await logic on, pods made Ready by kwok), the API server holding exactly what the offline preview
 * renders, no-change previews (also after `refresh`), a mandatory policy stopping a bad change, the revision
 * canary runbook of docs/upgrades.md as real `up`s, outputs and secrets as docs say, `destroy` and `stack rm`.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import * as auto from "@pulumi/pulumi/automation";
import { KubeObject } from "../../policy-pack/rules";
import { asArray, asString, at, groupKind, labelsOf, nameOf, podTemplate, stringMap, WORKLOAD_KINDS } from "../../policy-pack/rules/k8s";
import { REVISION_ANNOTATION } from "../../components/app";
import { engineStack, EngineStack } from "../../tools/engine";
import { Kube, kubectl } from "./support/kube";
import { assertMatchesRender, id, liveObjects, providerObjects } from "./support/live";
import { kubectlPath, localCluster } from "./support/peers";
import { renderedStacks, ROOT } from "./support/stacks";
import { policyConfigText } from "../../tools/policy-config";

const STACK = "local";

type StackFile = { config: Record<string, unknown> } & Record<string, unknown>;

describe("e2e: the real Pulumi engine deploys the local stack (Automation API, the built CLI and provider, the pack)", function () {
    let kube: Kube;
    let objects: KubeObject[] = [];
    let engine: EngineStack | undefined;
    let deployed = false;
    let firstUp: auto.UpResult;
    let original: StackFile;
    const stackFile = () => path.join(engine!.stack.workspace.workDir, `Pulumi.${STACK}.yaml`);

    /** Rewrites the scratch stack file's config (a user's edit of Pulumi.local.yaml), keeping its secure values. */
    function setConfig(edit: (config: Record<string, unknown>) => void): void {
        const doc = structuredClone(original);
        edit(doc.config);
        fs.writeFileSync(stackFile(), stringify(doc));
    }

    const up = (opts: auto.UpOptions = {}) => engine!.stack.up({ ...engine!.policy, color: "never", ...opts });
    const preview = (opts: auto.PreviewOptions = {}) => engine!.stack.preview({ ...engine!.policy, color: "never", ...opts });

    before(async function () {
        this.timeout(8 * 60_000);
        const s = (await renderedStacks()).find((x) => x.stack === STACK);
        assert.ok(s, `stack ${STACK} was not rendered`);
        objects = s.objects;
        const cluster = await localCluster();
        kube = { kubectl: await kubectlPath(), kubeconfig: cluster.kubeconfig };
        engine = await engineStack(STACK, { KUBECONFIG: cluster.kubeconfig });
        original = parse(fs.readFileSync(stackFile(), "utf8")) as StackFile;
        deployed = true;
        firstUp = await up();
    });

    after(async function () {
        this.timeout(5 * 60_000);
        if (!engine) return;
        if (deployed) await engine.stack.destroy({ color: "never" }).catch(() => undefined);
        await engine.remove().catch(() => undefined);
    });

    it("up creates every resource with the pack and the provider's await logic (Deployments Available, the broker ready)", () => {
        assert.strictEqual(firstUp.summary.result, "succeeded");
        const created = firstUp.summary.resourceChanges?.create ?? 0;
        assert.ok(created > objects.length, `up created ${created} resources; the stack renders ${objects.length} Kubernetes objects`);
        const now = liveObjects(kube, objects.filter((o) => WORKLOAD_KINDS.includes(groupKind(o))));
        for (const w of objects.filter((o) => groupKind(o) === "apps/Deployment")) {
            const l = now.get(id(w));
            assert.ok(asArray(at(l, "status", "conditions")).some((c) => at(c, "type") === "Available" && at(c, "status") === "True"), `${id(w)} is not Available after up: ${JSON.stringify(at(l, "status"))}`);
        }
        for (const w of objects.filter((o) => groupKind(o) === "apps/StatefulSet")) {
            const l = now.get(id(w));
            assert.strictEqual(Number(at(l, "status", "readyReplicas") ?? 0), Number(at(w, "spec", "replicas") ?? 1), `${id(w)} ready replicas after up`);
        }
    });

    it("holds exactly what the offline preview renders: the kind/namespace/name set, every rendered field, Istio specs", () => {
        assertMatchesRender(kube, objects);
    });

    it("gives every secretKeyRef of a workload a key of its Secret, with the value from the stack's encrypted config", async () => {
        const secrets = liveObjects(kube, objects.filter((o) => o.kind === "Secret"));
        for (const w of objects.filter((o) => WORKLOAD_KINDS.includes(groupKind(o)))) {
            const containers = [...asArray(at(podTemplate(w), "spec", "containers")), ...asArray(at(podTemplate(w), "spec", "initContainers"))];
            for (const env of containers.flatMap((c) => asArray(at(c, "env")))) {
                const ref = at(env, "valueFrom", "secretKeyRef");
                if (!ref || at(ref, "optional") === true) continue;
                const secret = secrets.get(`Secret ${asString(at(w, "metadata", "namespace"))}/${asString(at(ref, "name"))}`);
                assert.ok(secret && asString(at(ref, "key"))! in stringMap(at(secret, "data")), `${id(w)} env ${asString(at(env, "name"))}: Secret ${asString(at(ref, "name"))} has no key "${asString(at(ref, "key"))}"`);
            }
        }
        const configured = JSON.parse((await engine!.stack.getConfig("aks-istio-mesh:secrets")).value) as { values: Record<string, Record<string, Record<string, string>>> };
        for (const [app, bySecret] of Object.entries(configured.values)) {
            const ns = asString(at(objects.find((o) => o.kind === "Namespace" && labelsOf(o)["app.kubernetes.io/part-of"] === app), "metadata", "name"));
            for (const [secret, keys] of Object.entries(bySecret)) {
                const live = secrets.get(`Secret ${ns}/${secret}`);
                for (const [k, v] of Object.entries(keys)) {
                    assert.strictEqual(Buffer.from(stringMap(at(live, "data"))[k] ?? "", "base64").toString(), v, `Secret ${ns}/${secret} key ${k}: the value set with pulumi config set --secret`);
                }
            }
        }
    });

    it("previews no change right after up, and none after a refresh", async function () {
        this.timeout(4 * 60_000);
        await preview({ expectNoChanges: true });
        const refreshed = await engine!.stack.refresh({ color: "never" });
        assert.strictEqual(refreshed.summary.result, "succeeded");
        await preview({ expectNoChanges: true });
    });

    it("exports the outputs docs/existing-cluster.md names, the kubeconfig as a secret, nothing undefined", async () => {
        const outputs = await engine!.stack.outputs();
        assert.deepStrictEqual(outputs.revisions.value, ["asm-1-30"]);
        assert.deepStrictEqual([...outputs.namespaces.value as string[]].sort(), objects.filter((o) => o.kind === "Namespace").map(nameOf).sort());
        assert.ok(outputs.kubeconfig.secret, "kubeconfig is a secret output");
        assert.ok(typeof outputs.clusterName.value === "string" && outputs.clusterName.value.length > 0, "clusterName");
        assert.ok(asArray(outputs.ingressGateways.value).some((g) => at(g, "service") === "aks-istio-ingressgateway-external"), "ingressGateways names the external gateway");
        assert.ok(/^http:\/\//.test(String(at(outputs.appUrls.value, "pets"))), `appUrls.pets: ${JSON.stringify(outputs.appUrls.value)}`);
        for (const [name, o] of Object.entries(outputs)) {
            assert.notStrictEqual(o.value, undefined, `output ${name} is undefined`);
        }
    });

    it("keeps every secret out of the state in plain text (the checkpoint the backend stores, as stack export shows it)", async () => {
        // The Automation API's exportStack passes --show-secrets; the checkpoint file is what the backend keeps.
        const files = fs.readdirSync(path.join(engine!.dir, "state"), { recursive: true }).map(String).filter((f) => f.endsWith(`${STACK}.json`));
        assert.strictEqual(files.length, 1, `one checkpoint of stack ${STACK}: ${files.join(", ")}`);
        const state = fs.readFileSync(path.join(engine!.dir, "state", files[0]), "utf8");
        // The provider's kubeconfig and the kubeconfig output: a kubeconfig's own words never appear in plain text.
        for (const word of ["current-context", "client-certificate", "certificate-authority"]) {
            assert.ok(!state.includes(word), `the state holds a kubeconfig in plain text ("${word}")`);
        }
        assert.ok(state.includes("ciphertext"), "the secrets are in the state, encrypted");
        const configured = JSON.parse((await engine!.stack.getConfig("aks-istio-mesh:secrets")).value) as { values: Record<string, Record<string, Record<string, string>>> };
        for (const value of Object.values(configured.values).flatMap((s) => Object.values(s).flatMap((k) => Object.values(k)))) {
            assert.ok(!state.includes(value), "an app password is in the state in plain text");
            assert.ok(!state.includes(Buffer.from(value).toString("base64")), "an app password is in the state base64-encoded");
        }
    });

    it("stops the preview when a config change breaks mandatory policies, naming them, and changes nothing", async function () {
        this.timeout(4 * 60_000);
        // An mTLS exception the stack's pack config does not approve (peer-authentication-strict), and a pack config
        // not regenerated for the new settings (pack-config-current): both mandatory.
        setConfig((c) => {
            const mesh = c["aks-istio-mesh:mesh"] as Record<string, unknown>;
            mesh.mtlsExceptions = [{ namespace: "pets", selector: { app: "order-service" }, reason: "e2e: an unapproved exception" }];
        });
        try {
            const before = providerObjects(kube, objects).map((o) => `${id(o)} ${o.metadata.resourceVersion}`).sort();
            await assert.rejects(preview(), (e: Error) => /peer-authentication-strict/.test(e.message) && /pack-config-current/.test(e.message)
                && /npm run policy:config/.test(e.message) && /mandatory/.test(e.message));
            assert.deepStrictEqual(providerObjects(kube, objects).map((o) => `${id(o)} ${o.metadata.resourceVersion}`).sort(), before, "the refused preview changed the cluster");
        } finally {
            setConfig(() => undefined);
        }
        await preview({ expectNoChanges: true });
    });

    it("runs the revision canary runbook (docs/upgrades.md) as real ups: prepare, canary, move one app, roll back, complete", async function () {
        this.timeout(10 * 60_000);
        // Each step regenerates the pack config from the edited stack file, as `npm run policy:config` does.
        const packConfig = path.join(engine!.dir, "canary-policy.json");
        // The stack's own app entries (pets with its external host), each pinned to a revision or following the newest.
        const entries = original.config["aks-istio-mesh:apps"] as (string | Record<string, unknown>)[];
        const pin = (revisions: Record<string, string | undefined>) => entries.map((e) => {
            const entry = typeof e === "string" ? { name: e } : { ...e };
            const revision = revisions[String(entry.name)];
            return revision ? { ...entry, revision } : (Object.keys(entry).length === 1 ? entry.name : entry);
        });
        const step = async (mesh: Record<string, unknown>, revisions: Record<string, string | undefined>) => {
            setConfig((c) => {
                c["aks-istio-mesh:mesh"] = { ...(c["aks-istio-mesh:mesh"] as object), ...mesh };
                c["aks-istio-mesh:apps"] = pin(revisions);
            });
            fs.writeFileSync(packConfig, policyConfigText(STACK, ROOT, stackFile()));
            const r = await engine!.stack.up({ color: "never", policyPacks: engine!.policy.policyPacks, policyPackConfigs: [packConfig] });
            assert.strictEqual(r.summary.result, "succeeded");
        };
        const namespaceOf = (app: string) => asString(at(objects.find((o) => o.kind === "Namespace" && labelsOf(o)["app.kubernetes.io/part-of"] === app), "metadata", "name"))!;
        const expectRevisions = (want: Record<string, string>, what: string) => {
            for (const [app, revision] of Object.entries(want)) {
                const ns = namespaceOf(app);
                const r = kubectl(kube, ["get", "namespace", ns, "-o", "json"]);
                assert.strictEqual(labelsOf(JSON.parse(r.stdout) as KubeObject)["istio.io/rev"], revision, `${what}: namespace ${ns} istio.io/rev`);
                const d = kubectl(kube, ["get", "deployments", "-n", ns, "-o", "json"]);
                for (const dep of (JSON.parse(d.stdout) as { items: KubeObject[] }).items) {
                    assert.strictEqual(asString(at(podTemplate(dep), "metadata", "annotations", REVISION_ANNOTATION)), revision, `${what}: ${id(dep)} pod template revision`);
                }
            }
        };
        const configMap = (revision: string) => kubectl(kube, ["get", "configmap", "-n", "aks-istio-system", `istio-shared-configmap-${revision}`, "--ignore-not-found", "-o", "name"]).stdout.trim() !== "";
        try {
            await step({ revisions: ["asm-1-29"] }, {});
            expectRevisions({ pets: "asm-1-29", bookinfo: "asm-1-29" }, "0. before");
            await step({ revisions: ["asm-1-29"], nextRevision: "asm-1-30" }, {});
            assert.ok(configMap("asm-1-30"), "1. prepare: the next revision's shared MeshConfig exists");
            const pinned = { pets: "asm-1-29", bookinfo: "asm-1-29" };
            await step({ revisions: ["asm-1-29", "asm-1-30"], nextRevision: undefined }, pinned);
            expectRevisions({ pets: "asm-1-29", bookinfo: "asm-1-29" }, "2. canary, every namespace pinned");
            await step({ revisions: ["asm-1-29", "asm-1-30"] }, { pets: "asm-1-29" });
            expectRevisions({ pets: "asm-1-29", bookinfo: "asm-1-30" }, "3. bookinfo moved");
            await step({ revisions: ["asm-1-29", "asm-1-30"] }, pinned);
            expectRevisions({ pets: "asm-1-29", bookinfo: "asm-1-29" }, "rollback: bookinfo pinned back");
            await step({ revisions: ["asm-1-30"] }, {});
            expectRevisions({ pets: "asm-1-30", bookinfo: "asm-1-30" }, "4. complete");
            assert.ok(!configMap("asm-1-29"), "4. complete: the old revision's shared MeshConfig is deleted");
        } finally {
            setConfig(() => undefined);
        }
        await preview({ expectNoChanges: true });
    });

    it("destroy leaves no object of the stack in the cluster, and stack rm removes its state", async function () {
        this.timeout(5 * 60_000);
        const result = await engine!.stack.destroy({ color: "never" });
        deployed = false;
        assert.strictEqual(result.summary.result, "succeeded");
        assert.deepStrictEqual([...liveObjects(kube, objects).keys()], [], `objects of ${STACK} left after destroy`);
        // What the controllers made (ReplicaSets, pods, revisions) goes with its owners.
        for (const ns of new Set(objects.map((o) => asString(at(o, "metadata", "namespace"))).filter((n): n is string => !!n))) {
            const r = kubectl(kube, ["get", "pods,replicasets,controllerrevisions", "-n", ns, "-o", "name"]);
            assert.ok(r.ok, r.output);
            assert.strictEqual(r.stdout.trim(), "", `left in ${ns} after destroy`);
        }
        const stateDir = path.join(engine!.dir, "state");
        await engine!.stack.workspace.removeStack(STACK);
        const left = fs.readdirSync(stateDir, { recursive: true }).map(String).filter((f) => f.endsWith(`${STACK}.json`));
        assert.deepStrictEqual(left, [], "stack rm left the stack's checkpoint");
        fs.rmSync(engine!.dir, { recursive: true, force: true });
        engine = undefined;
    });
});
