import * as assert from "assert";
import { evaluate } from "../../policy-pack/rules";
import { cluster, find, goodMesh, namespace, NS, peerAuthentication, ROOT } from "./fixtures/mesh";
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

describe("policy: namespace-reserved", () => {
    const app = (name: string, labels: Record<string, string> = { "istio.io/rev": "asm-1-30", "app.kubernetes.io/part-of": "shop" }) => (o: Parameters<typeof find>[0]) => { o.push(namespace(name, labels)); };
    cases([
        { name: "an app namespace named kube-system is refused", change: app("kube-system"), expect: ["namespace-reserved"] },
        { name: "an app namespace named default is refused", change: app("default"), expect: ["namespace-reserved"] },
        { name: "an app in the add-on's ingress namespace is refused (its allow-nothing policy would deny the gateway)", change: app("aks-istio-ingress"), expect: ["namespace-reserved"] },
        { name: "an app in the add-on's egress namespace is refused", change: app("aks-istio-egress"), expect: ["namespace-reserved"] },
        { name: "an app in Gatekeeper's namespace is refused", change: app("gatekeeper-system"), expect: ["namespace-reserved"] },
        { name: "an app in Calico's namespace is refused", change: app("calico-system", { "istio-injection": "enabled" }), expect: ["namespace-reserved"] },
        { name: "an app in a namespace the platform lists in systemNamespaces is refused", change: app("platform-tools"), config: { systemNamespaces: ["platform-tools"] }, expect: ["namespace-reserved"] },
        { name: "an app in the program's Kiali namespace is refused", change: app("kiali"), expect: ["namespace-reserved"] },
        { name: "the program's own Kiali namespace passes", change: app("kiali", { "istio.io/rev": "asm-1-30", "app.kubernetes.io/part-of": "kiali" }), expect: [] },
        { name: "a system namespace declared without mesh labels passes", change: app("kube-system", {}), expect: [] },
    ]);

    it("refuses an app in the root namespace with one line on the Namespace, and names the duplicate root policy once", () => {
        const objects = goodMesh();
        objects.push(namespace(ROOT), peerAuthentication("default", ROOT));
        const found = evaluate(objects).map((v) => `${v.policy} ${v.kind} ${v.namespace ?? ""}/${v.name}: ${v.message}`);
        assert.deepStrictEqual(found, [
            "mesh-mtls-strict PeerAuthentication aks-istio-system/default: PeerAuthentication default is declared 2 times as one of the selector-less PeerAuthentications in aks-istio-system; the declarations overwrite each other, so keep exactly one",
            "namespace-reserved Namespace /aks-istio-system: namespace aks-istio-system belongs to the AKS Istio add-on: an app here would put sidecars and its mesh policies on the owner's pods; give the app a namespace of its own",
        ]);
    });

    it("names the app that took the program's Kiali namespace", () => {
        assert.deepStrictEqual(messages([namespace("kiali", { "istio.io/rev": "asm-1-30", "app.kubernetes.io/part-of": "shop" })], "namespace-reserved"),
            ["namespace kiali belongs to this program's observability (app.kubernetes.io/part-of=kiali), not to app shop: give the app a namespace of its own"]);
    });
});
