import * as assert from "assert";
import { find, NS, sharedMeshConfig } from "./fixtures/mesh";
import { cases, messages, verdicts } from "./helpers";

type Objects = Parameters<typeof find>[0];
const webPort = (o: Objects) => find(o, "Service", "web").spec.ports[0];
const template = (o: Objects) => find(o, "Deployment", "web-v1").spec.template;
const meshCm = (o: Objects) => find(o, "ConfigMap", "istio-shared-configmap-asm-1-30");

describe("policy: service-port-names", () => {
    cases([
        { name: "a name without a protocol prefix (IST0118)", change: (o) => { webPort(o).name = "web"; }, expect: ["service-port-names:IST0118"] },
        { name: "an unnamed port (IST0118)", change: (o) => { delete webPort(o).name; }, expect: ["service-port-names:IST0118"] },
        { name: "<protocol>-<suffix> is fine", change: (o) => { webPort(o).name = "http-web"; }, expect: [] },
        { name: "the prefix is case-insensitive", change: (o) => { webPort(o).name = "HTTP2"; }, expect: [] },
        { name: "grpc-web is a protocol", change: (o) => { webPort(o).name = "grpc-web-api"; }, expect: [] },
        { name: "a udp-named TCP port resolves to TCP", change: (o) => { webPort(o).name = "udp-x"; }, expect: [] },
        { name: "well-known ports default to TCP", change: (o) => { webPort(o).name = "db"; webPort(o).port = 3306; }, expect: ["virtual-service-references:IST0101"] },
        { name: "appProtocol declares the protocol", change: (o) => { webPort(o).name = "web"; webPort(o).appProtocol = "http"; }, expect: [] },
        { name: "appProtocol kubernetes.io/h2c declares HTTP2", change: (o) => { webPort(o).name = "web"; webPort(o).appProtocol = "kubernetes.io/h2c"; }, expect: [] },
        { name: "appProtocol wins over the name (IST0118)", change: (o) => { webPort(o).appProtocol = "custom"; }, expect: ["service-port-names:IST0118"] },
        { name: "UDP ports need no name", change: (o) => { webPort(o).name = "stats"; webPort(o).protocol = "UDP"; }, expect: [] },
        { name: "ExternalName services report IST0150", change: (o) => { find(o, "Service", "web").spec.type = "ExternalName"; webPort(o).name = "web"; }, expect: ["service-port-names:IST0150"] },
        { name: "ExternalName services named tcp report IST0150 (as istioctl does)", change: (o) => { find(o, "Service", "web").spec.type = "ExternalName"; webPort(o).name = "tcp"; }, expect: ["service-port-names:IST0150"] },
    ]);

    it("skips system namespaces", () => {
        assert.deepStrictEqual(verdicts([{ apiVersion: "v1", kind: "Service", metadata: { name: "x", namespace: "kube-system" }, spec: { ports: [{ port: 9 }] } }]), []);
    });
});

describe("policy: deprecated-annotations", () => {
    cases([
        { name: "the sidecar.istio.io/inject annotation on a pod template (IST0135)", change: (o) => { template(o).metadata.annotations = { "sidecar.istio.io/inject": "true" }; }, expect: ["deprecated-annotations:IST0135"] },
        {
            name: "the annotation next to the label is deliberate",
            change: (o) => { template(o).metadata.annotations = { "sidecar.istio.io/inject": "true" }; template(o).metadata.labels["sidecar.istio.io/inject"] = "true"; },
            expect: [],
        },
        { name: "stats annotations on a Deployment (IST0135)", change: (o) => { find(o, "Deployment", "web-v1").metadata.annotations = { "sidecar.istio.io/statsInclusionPrefixes": "cluster" }; }, expect: ["deprecated-annotations:IST0135"] },
        { name: "alpha annotations on a Service (IST0135)", change: (o) => { find(o, "Service", "web").metadata.annotations = { "alpha.istio.io/kubernetes-serviceaccounts": "web" }; }, expect: ["deprecated-annotations:IST0135"] },
        { name: "current annotations are fine", change: (o) => { template(o).metadata.annotations = { "proxy.istio.io/config": "holdApplicationUntilProxyStarts: true" }; }, expect: [] },
    ]);
});

describe("policy: sidecar-default-selector", () => {
    const sidecar = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: { name, namespace: NS }, spec });
    cases([
        { name: "two selector-less Sidecars in a namespace (IST0111)", change: (o) => { o.push(sidecar("second", { egress: [{ hosts: ["./*"] }] })); }, expect: ["sidecar-default-selector:IST0111", "sidecar-default-selector:IST0111"] },
        { name: "a Sidecar with a workloadSelector is fine", change: (o) => { o.push(sidecar("api", { workloadSelector: { labels: { app: "api" } }, egress: [{ hosts: ["./*"] }] })); }, expect: [] },
    ]);
});

describe("policy: aks-meshconfig", () => {
    cases([
        { name: "outside aks-istio-system it has no effect", change: (o) => { meshCm(o).metadata.namespace = NS; }, expect: ["aks-meshconfig"] },
        { name: "a blocked MeshConfig field", change: (o) => { meshCm(o).data.mesh = "configSources:\n  - address: x\n"; }, expect: ["aks-meshconfig"] },
        { name: "a blocked ProxyConfig field", change: (o) => { meshCm(o).data.mesh = "defaultConfig:\n  image: { imageType: distroless }\n"; }, expect: ["aks-meshconfig"] },
        { name: "allowed fields pass", change: (o) => { meshCm(o).data.mesh = "outboundTrafficPolicy: { mode: REGISTRY_ONLY }\npathNormalization: { normalization: MERGE_SLASHES }\ndefaultConfig:\n  proxyMetadata: { ISTIO_META_DNS_CAPTURE: \"true\" }\n"; }, expect: [] },
        { name: "MeshConfig as JSON passes", change: (o) => { meshCm(o).data.mesh = JSON.stringify({ accessLogFile: "/dev/stdout" }); }, expect: [] },
        { name: "concurrency 0 is advised against", change: (o) => { meshCm(o).data.mesh = "defaultConfig:\n  concurrency: 0\n"; }, expect: ["aks-meshconfig"] },
        { name: "invalid YAML is reported, not thrown", change: (o) => { meshCm(o).data.mesh = "defaultConfig: [unclosed"; }, expect: ["aks-meshconfig"] },
        { name: "data.mesh is required", change: (o) => { meshCm(o).data = { meshConfig: "x: 1" }; }, expect: ["aks-meshconfig"] },
        { name: "the suffix must be a revision", change: (o) => { meshCm(o).metadata.name = "istio-shared-configmap-latest"; }, expect: ["aks-meshconfig"] },
        {
            name: "the add-on's own istio-<revision> ConfigMap is not to be edited",
            change: (o) => { meshCm(o).metadata.name = "istio-asm-1-30"; },
            expect: ["aks-meshconfig"],
        },
    ]);

    it("names the blocked field", () => {
        assert.deepStrictEqual(messages([sharedMeshConfig("enableAutoMtls: false\n")], "aks-meshconfig"),
            ["data.mesh field enableAutoMtls is blocked by the AKS add-on's admission webhook"]);
    });
});
