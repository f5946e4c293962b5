import * as assert from "assert";
import { POLICIES, POLICY_NAMES, toPolicyObject, evaluate, KubeObject, Violation } from "../../policy-pack/rules";
import { formatMessage } from "../../policy-pack/policies";
import { asPulumiResource, brokenMesh, cluster, deployment, edit, goodMesh, namespace, peerAuthentication, service, NS } from "./fixtures/mesh";
import { POLICIES as PACK, runResource, runStack, UNKNOWN, UNKNOWN_ARRAY, UNKNOWN_OBJECT } from "./harness";

describe("policy pack adapter: toPolicyObject", () => {
    const props = { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } };

    it("passes Kubernetes props through for kinds rules read, in every served Istio version", () => {
        assert.deepStrictEqual(toPolicyObject("kubernetes:core/v1:Namespace", "ns", props), props);
        assert.deepStrictEqual(toPolicyObject("kubernetes:core/v1:NamespacePatch", "ns", props), props);
        for (const v of ["v1", "v1beta1", "v1alpha3"]) {
            const vs = { apiVersion: `networking.istio.io/${v}`, kind: "VirtualService", spec: { hosts: ["a"] } };
            assert.deepStrictEqual(toPolicyObject(`kubernetes:networking.istio.io/${v}:VirtualService`, "vs", vs), vs);
        }
        assert.ok(toPolicyObject("kubernetes:install.istio.io/v1alpha1:IstioOperator", "op", {}));
    });

    it("takes apiVersion and kind from the token (props of a resource read with .get may lack them)", () => {
        const pa = toPolicyObject("kubernetes:security.istio.io/v1beta1:PeerAuthentication", "pa", { spec: { mtls: { mode: "STRICT" } } })!;
        assert.strictEqual(pa.apiVersion, "security.istio.io/v1beta1");
        assert.strictEqual(pa.kind, "PeerAuthentication");
        assert.deepStrictEqual(pa.spec, { mtls: { mode: "STRICT" } });
        assert.strictEqual(toPolicyObject("kubernetes:core/v1:NamespacePatch", "ns", {})!.kind, "Namespace");
    });

    it("drops types no rule reads", () => {
        for (const type of ["kubernetes:core/v1:Secret", "kubernetes:core/v1:ServiceAccount", "kubernetes:yaml/v2:ConfigGroup",
            "azure-native:resources:ResourceGroup", "pulumi:providers:kubernetes", "random:index/randomPet:RandomPet"]) {
            assert.strictEqual(toPolicyObject(type, "x", {}), undefined, type);
        }
    });

    it("wraps a ManagedCluster's ARM properties, for unversioned and versioned tokens", () => {
        const arm = { serviceMeshProfile: { mode: "Istio" } };
        for (const type of ["azure-native:containerservice:ManagedCluster", "azure-native:containerservice/v20250901:ManagedCluster"]) {
            assert.deepStrictEqual(toPolicyObject(type, "aks", arm), {
                apiVersion: "containerservice.azure.com/v1", kind: "ManagedCluster", metadata: { name: "aks" }, properties: arm,
            });
        }
    });

    it("decides from the type token alone, without reading props", () => {
        const untouchable = new Proxy({}, { get: () => { throw new Error("read"); } });
        const ns = toPolicyObject("kubernetes:core/v1:Namespace", "ns", untouchable)!;
        assert.strictEqual(ns.kind, "Namespace");
        assert.doesNotThrow(() => toPolicyObject("azure-native:containerservice:ManagedCluster", "aks", untouchable));
    });
});

/** evaluate's verdicts for one object and resource policy, as the pack would word them. */
function unitMessages(violations: Violation[], policy: string, o: KubeObject): string[] {
    return violations.filter((v) => v.policy === policy && v.kind === o.kind && v.name === o.metadata?.name
        && (v.namespace === undefined || v.namespace === o.metadata?.namespace || (v.namespace === "default" && !o.metadata?.namespace)))
        .map((v) => formatMessage(v)).sort();
}

describe("policy pack adapter: runtime-faithful runs agree with evaluate", () => {
    for (const [label, objects] of [["good mesh", goodMesh()], ["broken mesh", brokenMesh()]] as const) {
        it(`resource policies, through the unknown-checking proxy (${label})`, () => {
            const unit = evaluate(objects);
            for (const o of objects) {
                const r = asPulumiResource(o);
                for (const p of POLICIES.filter((x) => x.scope === "resource")) {
                    const outcome = runResource(p.name, r.type, r.props);
                    const got = outcome.kind === "violations" ? outcome.messages.map((m) => m.message).sort() : [];
                    assert.notStrictEqual(outcome.kind, "unknown");
                    assert.deepStrictEqual(got, unitMessages(unit, p.name, o), `${p.name} on ${o.kind} ${o.metadata?.name}`);
                }
            }
        });

        it(`stack policies, reported on the offending resource's URN (${label})`, () => {
            const resources = objects.map(asPulumiResource);
            const urnOf = (v: Violation) => {
                const i = objects.findIndex((o) => o.kind === v.kind && o.metadata?.name === v.name
                    && (v.namespace === undefined || (o.metadata?.namespace ?? "default") === v.namespace));
                return i < 0 ? undefined : resources[i].urn;
            };
            const unit = evaluate(objects);
            for (const p of POLICIES.filter((x) => x.scope === "stack")) {
                const outcome = runStack(p.name, resources);
                assert.strictEqual(outcome.kind, "violations", p.name);
                const got = outcome.kind === "violations" ? outcome.messages.map((m) => `${m.urn}|${m.message}`).sort() : [];
                const want = unit.filter((v) => v.policy === p.name).map((v) => `${urnOf(v)}|${formatMessage(v)}`).sort();
                assert.deepStrictEqual(got, want, p.name);
            }
        });
    }

    it("the broken mesh trips mandatory and advisory, resource and stack policies", () => {
        const v = evaluate(brokenMesh());
        const scopes = new Set(v.map((x) => `${POLICIES.find((p) => p.name === x.policy)!.scope}/${x.enforcement}`));
        assert.deepStrictEqual([...scopes].sort(), ["resource/advisory", "resource/mandatory", "stack/advisory", "stack/mandatory"]);
    });

    it("passes per-policy config from getConfig to the rule", () => {
        const pa = peerAuthentication("api", NS, { selector: { matchLabels: { app: "api" } }, mtls: { mode: "STRICT" }, portLevelMtls: { 8080: { mode: "PERMISSIVE" } } });
        const r = asPulumiResource(pa);
        assert.strictEqual((runResource("peer-authentication-strict", r.type, r.props) as { messages: unknown[] }).messages.length, 1);
        assert.deepStrictEqual(runResource("peer-authentication-strict", r.type, r.props, { mtlsExceptions: [{ namespace: NS, port: 8080 }] }),
            { kind: "violations", messages: [] });
    });

    it("marks policies not applicable to other types", () => {
        const r = asPulumiResource(namespace());
        assert.deepStrictEqual(runResource("peer-authentication-strict", r.type, r.props), { kind: "not-applicable" });
        assert.deepStrictEqual(runResource("aks-mesh-profile", "kubernetes:core/v1:Secret", {}), { kind: "not-applicable" });
    });
});

describe("policy pack adapter: values unknown during preview", () => {
    it("a rule reading an unknown value gives way to the server's advisory", () => {
        const pa = asPulumiResource(peerAuthentication("default", NS, { mtls: { mode: UNKNOWN } }));
        const outcome = runResource("peer-authentication-strict", pa.type, pa.props);
        assert.strictEqual(outcome.kind, "unknown");
        assert.match((outcome as { message: string }).message, /\.spec\.mtls\.mode can't be known during preview/);

        const c = cluster();
        edit(c).properties.kubernetesVersion = UNKNOWN;
        const mc = asPulumiResource(c);
        assert.strictEqual(runResource("aks-mesh-profile", mc.type, mc.props).kind, "unknown");
    });

    it("rules do not read what they do not need, so unrelated unknowns leave verdicts intact", () => {
        const d = deployment("web", "v1");
        const podSpec = edit(d).spec.template.spec;
        podSpec.containers[0].image = UNKNOWN;
        podSpec.containers[0].env = UNKNOWN_ARRAY;
        edit(d).metadata.uid = UNKNOWN;
        const r = asPulumiResource(d);
        for (const name of ["workload-sidecar-injection", "workload-reserved-uid", "container-resource-requests", "deprecated-annotations"]) {
            assert.deepStrictEqual(runResource(name, r.type, r.props), { kind: "violations", messages: [] }, name);
        }
        const c = cluster();
        edit(c).properties.fqdn = UNKNOWN;
        edit(c).properties.identityProfile = UNKNOWN;
        const mc = asPulumiResource(c);
        assert.deepStrictEqual(runResource("aks-mesh-profile", mc.type, mc.props), { kind: "violations", messages: [] });
    });

    it("stack policies never touch outputs computed at apply time (status, uid) or apiVersion/kind", () => {
        const objects = goodMesh().map((o) => ({ ...o, status: UNKNOWN_OBJECT, metadata: { ...o.metadata, uid: UNKNOWN } }));
        const resources = objects.map((o) => {
            const r = asPulumiResource(o);
            return o.kind === "ManagedCluster" ? r : { ...r, props: { ...r.props, apiVersion: UNKNOWN, kind: UNKNOWN } };
        });
        for (const p of POLICIES.filter((x) => x.scope === "stack")) {
            assert.deepStrictEqual(runStack(p.name, resources), { kind: "violations", messages: [] }, p.name);
        }
    });

    it("stack policies degrade only when they read the unknown value", () => {
        const svc = service("web", 80);
        edit(svc).spec.clusterIP = UNKNOWN;
        const objects = [...goodMesh().filter((o) => !(o.kind === "Service" && o.metadata?.name === "web")), svc];
        const resources = objects.map(asPulumiResource);
        assert.deepStrictEqual(runStack("mesh-mtls-strict", resources), { kind: "violations", messages: [] });
        assert.deepStrictEqual(runStack("virtual-service-references", resources), { kind: "violations", messages: [] });
        edit(svc).spec.ports = UNKNOWN_ARRAY;
        const withUnknownPorts = objects.map(asPulumiResource);
        assert.strictEqual(runStack("virtual-service-references", withUnknownPorts).kind, "unknown");
        assert.deepStrictEqual(runStack("mesh-mtls-strict", withUnknownPorts), { kind: "violations", messages: [] });
    });
});

describe("policy pack adapter: published policies", () => {
    it("has one CrossGuard policy per rule with the rule's metadata and derived configSchema", () => {
        assert.deepStrictEqual(PACK.map((p) => p.name), [...POLICY_NAMES]);
        for (const p of PACK) {
            const info = POLICIES.find((x) => x.name === p.name)!;
            assert.strictEqual(p.description, info.description);
            assert.strictEqual(p.enforcementLevel, info.enforcement);
            assert.strictEqual(p.severity, info.severity);
            assert.strictEqual(p.remediationSteps, info.remediation);
            assert.strictEqual(p.configSchema === undefined, info.settings.length === 0, p.name);
            assert.strictEqual("validateResource" in p, info.scope === "resource");
        }
    });
});
