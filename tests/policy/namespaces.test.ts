import * as assert from "assert";
import { cluster, find, namespace, NS } from "./fixtures/mesh";
import { cases, messages, verdicts } from "./helpers";

const ns = (o: Parameters<typeof find>[0]) => find(o, "Namespace", NS);
const revisions = (o: Parameters<typeof find>[0]) => find(o, "ManagedCluster", "aks").properties.serviceMeshProfile.istio.revisions as string[];

describe("policy: namespace-injection-labels", () => {
    cases([
        { name: "a namespace without istio.io/rev gets no sidecars (IST0102)", change: (o) => { ns(o).metadata.labels = {}; }, expect: ["namespace-injection-labels:IST0102"] },
        { name: "istio-injection instead of istio.io/rev is skipped by the add-on", change: (o) => { ns(o).metadata.labels = { "istio-injection": "enabled" }; }, expect: ["namespace-injection-labels"] },
        { name: "both labels conflict (IST0123)", change: (o) => { ns(o).metadata.labels["istio-injection"] = "enabled"; }, expect: ["namespace-injection-labels:IST0123"] },
        { name: "istio-injection=disabled next to istio.io/rev still conflicts (IST0123)", change: (o) => { ns(o).metadata.labels["istio-injection"] = "disabled"; }, expect: ["namespace-injection-labels:IST0123"] },
        { name: "ambient mode is refused", change: (o) => { ns(o).metadata.labels["istio.io/dataplane-mode"] = "ambient"; }, expect: ["namespace-injection-labels"] },
        { name: "an unsupported revision is refused", change: (o) => { ns(o).metadata.labels["istio.io/rev"] = "asm-1-22"; }, expect: ["namespace-injection-labels"] },
        { name: "a configured revision tag is accepted", change: (o) => { ns(o).metadata.labels["istio.io/rev"] = "prod-stable"; }, config: { revisionTags: ["prod-stable"] }, expect: [] },
        { name: "an unconfigured tag is refused", change: (o) => { ns(o).metadata.labels["istio.io/rev"] = "prod-stable"; }, expect: ["namespace-injection-labels"] },
        { name: "allowedRevisions narrows the supported table", change: () => undefined, config: { allowedRevisions: ["asm-1-29"] }, expect: ["namespace-injection-labels", "aks-mesh-profile"] },
        { name: "a namespace listed in systemNamespaces needs no label", change: (o) => { ns(o).metadata.labels = {}; }, config: { systemNamespaces: [NS] }, expect: [] },
    ]);

    it("skips system namespaces by default and reports the wording users act on", () => {
        assert.deepStrictEqual(verdicts([namespace("kube-system", {}), namespace("aks-istio-ingress", {})]), []);
        assert.deepStrictEqual(messages([namespace(NS, { "istio-injection": "enabled" })], "namespace-injection-labels"),
            ["label istio-injection=enabled is ignored by the AKS add-on and makes injection skip the namespace; use istio.io/rev=<revision>"]);
    });
});

describe("policy: namespace-revision-on-cluster", () => {
    cases([
        { name: "a revision the cluster does not run is refused", change: (o) => { ns(o).metadata.labels["istio.io/rev"] = "asm-1-29"; }, expect: ["namespace-revision-on-cluster"] },
        {
            name: "during a canary upgrade either revision is accepted",
            change: (o) => { revisions(o).splice(0, 1, "asm-1-29", "asm-1-30"); ns(o).metadata.labels["istio.io/rev"] = "asm-1-29"; },
            expect: [],
        },
        { name: "a configured tag is accepted whatever the cluster runs", change: (o) => { ns(o).metadata.labels["istio.io/rev"] = "canary"; }, config: { revisionTags: ["canary"] }, expect: [] },
    ]);

    it("does nothing without a ManagedCluster in the set (YAML checks, partial sets)", () => {
        assert.deepStrictEqual(verdicts([namespace(NS, { "istio.io/rev": "asm-1-29" })]).filter((v) => v.startsWith("namespace-")), []);
        assert.ok(verdicts([cluster(), namespace(NS, { "istio.io/rev": "asm-1-29" })]).includes("namespace-revision-on-cluster"));
    });
});
