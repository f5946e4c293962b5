import * as assert from "assert";
import { find, namespace, NS, peerAuthentication, ROOT } from "./fixtures/mesh";
import { cases, messages, remove, verdicts } from "./helpers";

const PA = "PeerAuthentication";
const root = (o: Parameters<typeof find>[0]) => find(o, PA, "default", ROOT);
const nsWide = (o: Parameters<typeof find>[0]) => find(o, PA, "default", NS);
const apiPorts = (o: Parameters<typeof find>[0]) => find(o, PA, "api-ports");

describe("policy: peer-authentication-strict", () => {
    cases([
        { name: "namespace-wide PERMISSIVE is refused (and leaves the namespace uncovered)", change: (o) => { nsWide(o).spec.mtls.mode = "PERMISSIVE"; }, expect: ["peer-authentication-strict", "mesh-mtls-strict"] },
        { name: "namespace-wide DISABLE is refused", change: (o) => { nsWide(o).spec.mtls.mode = "DISABLE"; }, expect: ["peer-authentication-strict", "mesh-mtls-strict"] },
        { name: "namespace-wide UNSET beneath the STRICT mesh policy is fine", change: (o) => { delete nsWide(o).spec.mtls; }, expect: [] },
        { name: "mesh-wide PERMISSIVE is refused", change: (o) => { root(o).spec.mtls.mode = "PERMISSIVE"; }, expect: ["peer-authentication-strict"] },
        { name: "mesh-wide UNSET is refused (falls back to PERMISSIVE)", change: (o) => { root(o).spec.mtls.mode = "UNSET"; }, expect: ["peer-authentication-strict"] },
        { name: "port-level PERMISSIVE is refused", change: (o) => { apiPorts(o).spec.portLevelMtls[8080].mode = "PERMISSIVE"; }, expect: ["peer-authentication-strict"] },
        { name: "port-level DISABLE is refused", change: (o) => { apiPorts(o).spec.portLevelMtls[8080].mode = "DISABLE"; }, expect: ["peer-authentication-strict"] },
        { name: "port-level UNSET beneath a STRICT parent is fine", change: (o) => { apiPorts(o).spec.portLevelMtls[8080].mode = "UNSET"; }, expect: [] },
        { name: "workload UNSET beneath a STRICT namespace policy is fine", change: (o) => { apiPorts(o).spec.mtls.mode = "UNSET"; }, expect: [] },
        {
            name: "portLevelMtls without a selector is ineffective (and makes a second namespace-wide policy)",
            change: (o) => { delete apiPorts(o).spec.selector; },
            expect: ["peer-authentication-strict", "mesh-mtls-strict", "mesh-mtls-strict", "peer-authentication-istiod"],
        },
        {
            name: "security.istio.io/v1beta1 is matched like v1",
            change: (o) => { nsWide(o).apiVersion = "security.istio.io/v1beta1"; nsWide(o).spec.mtls.mode = "PERMISSIVE"; },
            expect: ["peer-authentication-strict", "mesh-mtls-strict"],
        },
    ]);

    describe("mtlsExceptions", () => {
        const permissivePort = (o: Parameters<typeof find>[0]) => { apiPorts(o).spec.portLevelMtls[8080].mode = "PERMISSIVE"; };
        cases([
            { name: "an exception for namespace + selector + port allows that port", change: permissivePort, config: { mtlsExceptions: [{ namespace: NS, selector: { app: "api" }, port: 8080 }] }, expect: [] },
            { name: "an exception for another port does not", change: permissivePort, config: { mtlsExceptions: [{ namespace: NS, selector: { app: "api" }, port: 9090 }] }, expect: ["peer-authentication-strict"] },
            { name: "an exception for other workloads does not", change: permissivePort, config: { mtlsExceptions: [{ namespace: NS, selector: { app: "web" }, port: 8080 }] }, expect: ["peer-authentication-strict"] },
            { name: "an exception for another namespace does not", change: permissivePort, config: { mtlsExceptions: [{ namespace: "other", port: 8080 }] }, expect: ["peer-authentication-strict"] },
            {
                name: "an exception allows DISABLE only when it says so",
                change: (o) => { apiPorts(o).spec.portLevelMtls[8080].mode = "DISABLE"; },
                config: { mtlsExceptions: [{ namespace: NS, selector: { app: "api" }, port: 8080 }] },
                expect: ["peer-authentication-strict"],
            },
            {
                name: "an exception with mode DISABLE allows DISABLE",
                change: (o) => { apiPorts(o).spec.portLevelMtls[8080].mode = "DISABLE"; },
                config: { mtlsExceptions: [{ namespace: NS, selector: { app: "api" }, port: 8080, mode: "DISABLE", reason: "legacy probe" }] },
                expect: [],
            },
            {
                name: "a port exception does not relax the workload's top-level mode",
                change: (o) => { apiPorts(o).spec.mtls.mode = "PERMISSIVE"; },
                config: { mtlsExceptions: [{ namespace: NS, selector: { app: "api" }, port: 8080 }] },
                expect: ["peer-authentication-strict"],
            },
            {
                name: "a namespace exception allows a PERMISSIVE namespace and its coverage gap",
                change: (o) => { nsWide(o).spec.mtls.mode = "PERMISSIVE"; },
                config: { mtlsExceptions: [{ namespace: NS }] },
                expect: [],
            },
            {
                name: "the mesh-wide policy cannot be excepted",
                change: (o) => { root(o).spec.mtls.mode = "PERMISSIVE"; },
                config: { mtlsExceptions: [{ namespace: ROOT }] },
                expect: ["peer-authentication-strict"],
            },
            {
                name: "per-policy settings apply to that policy only (as CrossGuard scopes them)",
                change: permissivePort,
                config: { policies: { "peer-authentication-strict": { mtlsExceptions: [{ namespace: NS, selector: { app: "api" }, port: 8080 }] } } },
                expect: [],
            },
        ]);
    });
});

describe("policy: mesh-mtls-strict", () => {
    cases([
        { name: "a missing mesh-wide policy is reported once", change: (o) => remove(o, PA, "default"), expect: ["mesh-mtls-strict"] },
        { name: "a mesh-wide policy outside the root namespace does not count", change: (o) => { root(o).metadata.namespace = "istio-system"; }, expect: ["mesh-mtls-strict"] },
        { name: "a root policy with a selector is not mesh-wide", change: (o) => { root(o).spec.selector = { matchLabels: { app: "x" } }; }, expect: ["mesh-mtls-strict"] },
        {
            name: "two mesh-wide policies are ambiguous",
            change: (o) => { o.push(peerAuthentication("second")); },
            expect: ["mesh-mtls-strict", "mesh-mtls-strict"],
        },
        {
            name: "a root namespace configured elsewhere moves the requirement",
            change: () => undefined,
            config: { rootNamespace: "istio-system" },
            expect: ["mesh-mtls-strict", "authorization-default-deny", "aks-meshconfig", "authorization-policy-workloads:IST0127"],
        },
    ]);

    it("UNSET beneath a PERMISSIVE parent inherits PERMISSIVE", () => {
        const objects = [
            namespace(),
            peerAuthentication("default", ROOT),
            peerAuthentication("default", NS, { mtls: { mode: "PERMISSIVE" } }),
            peerAuthentication("api", NS, { selector: { matchLabels: { app: "api" } } }),
        ];
        assert.deepStrictEqual(verdicts(objects).filter((v) => v.includes("mtls") || v.startsWith("peer-")), ["mesh-mtls-strict", "mesh-mtls-strict", "peer-authentication-strict"]);
        assert.ok(messages(objects, "mesh-mtls-strict").some((m) => m.includes("UNSET and inherits PERMISSIVE")));
    });

    it("a namespace with no STRICT policy above it is not covered", () => {
        const objects = [namespace(), namespace("other", { "istio.io/rev": "asm-1-30" })];
        const found = messages(objects, "mesh-mtls-strict");
        assert.strictEqual(found.length, 3);
        assert.ok(found.some((m) => m.includes("no mesh-wide PeerAuthentication in aks-istio-system")));
        assert.ok(found.some((m) => m.includes("namespace other is not covered")));
    });

    it("needs no mesh-wide policy when the set holds no mesh (a partial manifest set)", () => {
        assert.deepStrictEqual(verdicts([namespace("kube-system", {})]), []);
        assert.deepStrictEqual(verdicts([peerAuthentication("api", NS, { selector: { matchLabels: { app: "api" } }, mtls: { mode: "STRICT" } })]), []);
    });
});
