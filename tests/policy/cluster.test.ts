import * as assert from "assert";
import { find } from "./fixtures/mesh";
import { cases, messages } from "./helpers";

type Objects = Parameters<typeof find>[0];
const props = (o: Objects) => find(o, "ManagedCluster", "aks").properties;
const istio = (o: Objects) => props(o).serviceMeshProfile.istio;

describe("policy: aks-mesh-profile", () => {
    cases([
        { name: "mode Disabled is refused", change: (o) => { props(o).serviceMeshProfile.mode = "Disabled"; }, expect: ["aks-mesh-profile"] },
        {
            name: "no serviceMeshProfile is refused (nothing runs the namespaces' revision or the gateway)",
            change: (o) => { delete props(o).serviceMeshProfile; },
            expect: ["aks-mesh-profile", "namespace-revision-on-cluster", "gateway-ingress-enabled:IST0101"],
        },
        { name: "implicit revisions are refused", change: (o) => { istio(o).revisions = []; }, expect: ["aks-mesh-profile", "namespace-revision-on-cluster"] },
        { name: "an unsupported revision is refused", change: (o) => { istio(o).revisions = ["asm-1-28"]; }, expect: ["aks-mesh-profile", "namespace-revision-on-cluster"] },
        { name: "two consecutive revisions (canary) are fine", change: (o) => { istio(o).revisions = ["asm-1-29", "asm-1-30"]; }, expect: [] },
        { name: "two revisions out of order are refused", change: (o) => { istio(o).revisions = ["asm-1-30", "asm-1-29"]; }, expect: ["aks-mesh-profile"] },
        { name: "three revisions are refused", change: (o) => { istio(o).revisions = ["asm-1-28", "asm-1-29", "asm-1-30"]; }, expect: ["aks-mesh-profile"] },
        { name: "a Kubernetes version outside the revision's window is refused", change: (o) => { props(o).kubernetesVersion = "1.31"; }, expect: ["aks-mesh-profile"] },
        { name: "a patch Kubernetes version inside the window is fine", change: (o) => { props(o).kubernetesVersion = "1.34.2"; }, expect: [] },
        { name: "no kubernetesVersion (AKS default) skips the compatibility check", change: (o) => { delete props(o).kubernetesVersion; }, expect: [] },
        { name: "two External ingress gateways are refused", change: (o) => { istio(o).components.ingressGateways.push({ mode: "External", enabled: false }); }, expect: ["aks-mesh-profile"] },
    ]);

    it("explains the revision problem with the supported table", () => {
        const objects = [{ apiVersion: "containerservice.azure.com/v1", kind: "ManagedCluster", metadata: { name: "aks" }, properties: { kubernetesVersion: "1.31", serviceMeshProfile: { mode: "Istio", istio: { revisions: ["asm-1-30"] } } } }];
        assert.deepStrictEqual(messages(objects, "aks-mesh-profile"), ["serviceMeshProfile.istio.revisions: \"asm-1-30\" is not compatible with Kubernetes 1.31; it supports 1.32 to 1.36"]);
    });
});
