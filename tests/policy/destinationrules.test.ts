import * as assert from "assert";
import { destinationRule, find, NS, service } from "./fixtures/mesh";
import { cases, messages, verdicts } from "./helpers";

type Objects = Parameters<typeof find>[0];
const dr = (o: Objects) => find(o, "DestinationRule", "api");
const subset = (o: Objects, i = 0) => dr(o).spec.subsets[i];
/** The fixture cluster placed in westeurope with a pool across zones 1-3. */
const zonal = (o: Objects) => {
    const c = find(o, "ManagedCluster", "aks");
    c.properties.location = "westeurope";
    c.properties.agentPoolProfiles = [{ name: "system", availabilityZones: ["1", "2", "3"] }];
};

describe("policy: destination-rule-tls", () => {
    cases([
        { name: "top-level DISABLE is refused", change: (o) => { dr(o).spec.trafficPolicy.tls.mode = "DISABLE"; }, expect: ["destination-rule-tls"] },
        {
            name: "port-level DISABLE is refused",
            change: (o) => { dr(o).spec.trafficPolicy.portLevelSettings = [{ port: { number: 8080 }, tls: { mode: "DISABLE" } }]; },
            expect: ["destination-rule-tls"],
        },
        { name: "subset DISABLE is refused", change: (o) => { subset(o).trafficPolicy = { tls: { mode: "DISABLE" } }; }, expect: ["destination-rule-tls"] },
        {
            name: "subset port-level DISABLE is refused",
            change: (o) => { subset(o).trafficPolicy = { portLevelSettings: [{ port: { number: 8080 }, tls: { mode: "DISABLE" } }] }; },
            expect: ["destination-rule-tls"],
        },
        { name: "DISABLE next to other settings is still found", change: (o) => { dr(o).spec.trafficPolicy = { loadBalancer: { simple: "ROUND_ROBIN" }, tls: { mode: "DISABLE", sni: "api" } }; }, expect: ["destination-rule-tls"] },
        { name: "top-level SIMPLE without caCertificates (IST0128)", change: (o) => { dr(o).spec.trafficPolicy.tls.mode = "SIMPLE"; }, expect: ["destination-rule-tls:IST0128"] },
        { name: "top-level MUTUAL without caCertificates (IST0128)", change: (o) => { dr(o).spec.trafficPolicy.tls = { mode: "MUTUAL", clientCertificate: "/c", privateKey: "/k" }; }, expect: ["destination-rule-tls:IST0128"] },
        {
            name: "port-level SIMPLE without caCertificates (IST0129)",
            change: (o) => { dr(o).spec.trafficPolicy.portLevelSettings = [{ port: { number: 8080 }, tls: { mode: "SIMPLE" } }]; },
            expect: ["destination-rule-tls:IST0129"],
        },
        { name: "subset SIMPLE without caCertificates", change: (o) => { subset(o).trafficPolicy = { tls: { mode: "SIMPLE" } }; }, expect: ["destination-rule-tls"] },
        { name: "SIMPLE with caCertificates verifies the server", change: (o) => { dr(o).spec.trafficPolicy.tls = { mode: "SIMPLE", caCertificates: "/etc/certs/ca.pem" }; }, expect: [] },
        { name: "credentialName alone does not verify (IST0128)", change: (o) => { dr(o).spec.trafficPolicy.tls = { mode: "SIMPLE", credentialName: "api-ca" }; }, expect: ["destination-rule-tls:IST0128"] },
        {
            name: "credentialName with a workloadSelector verifies",
            change: (o) => { dr(o).spec.trafficPolicy.tls = { mode: "SIMPLE", credentialName: "api-ca" }; dr(o).spec.workloadSelector = { matchLabels: { app: "web" } }; },
            expect: [],
        },
        { name: "insecureSkipVerify is refused", change: (o) => { dr(o).spec.trafficPolicy.tls = { mode: "SIMPLE", caCertificates: "/ca", insecureSkipVerify: true }; }, expect: ["destination-rule-tls", "destination-rule-istiod"] },
        { name: "networking.istio.io/v1beta1 is matched like v1", change: (o) => { dr(o).apiVersion = "networking.istio.io/v1beta1"; dr(o).spec.trafficPolicy.tls.mode = "DISABLE"; }, expect: ["destination-rule-tls"] },
        { name: "networking.istio.io/v1alpha3 is matched like v1", change: (o) => { dr(o).apiVersion = "networking.istio.io/v1alpha3"; dr(o).spec.trafficPolicy.tls.mode = "DISABLE"; }, expect: ["destination-rule-tls"] },
    ]);

    it("names the level in the message", () => {
        const objects = [destinationRule("api", { host: "api", subsets: [{ name: "v1", labels: { version: "v1" }, trafficPolicy: { portLevelSettings: [{ port: { number: 8080 }, tls: { mode: "DISABLE" } }] } }] })];
        assert.deepStrictEqual(messages(objects, "destination-rule-tls"),
            ["subsets[0] (v1).trafficPolicy.portLevelSettings[0] (port 8080).tls.mode is DISABLE: traffic to api leaves the proxy in plain text"]);
    });
});

describe("policy: destination-rule-subset-pods", () => {
    cases([
        { name: "a subset whose labels match no pod of the service (IST0173)", change: (o) => { subset(o, 1).labels.version = "v3"; }, expect: ["destination-rule-subset-pods:IST0173"] },
        { name: "a label typo is caught (IST0173)", change: (o) => { subset(o).labels = { verison: "v1" }; }, expect: ["destination-rule-subset-pods:IST0173"] },
        { name: "pods must also match the Service selector (IST0173)", change: (o) => { find(o, "Deployment", "api-v2").spec.template.metadata.labels.app = "api2"; }, expect: ["destination-rule-subset-pods:IST0173", "workload-availability"] },
        { name: "StatefulSet pod templates count as pods", change: (o) => { find(o, "Deployment", "api-v2").kind = "StatefulSet"; }, expect: [] },
        { name: "a zone the cluster's nodes run in selects pods", change: (o) => { zonal(o); subset(o).labels["topology.kubernetes.io/zone"] = "westeurope-2"; }, expect: [] },
        { name: "the cluster's region selects pods", change: (o) => { zonal(o); subset(o).labels["topology.kubernetes.io/region"] = "westeurope"; }, expect: [] },
        { name: "a zone no node pool runs in selects no pod (IST0173)", change: (o) => { zonal(o); subset(o).labels["topology.kubernetes.io/zone"] = "westeurope-4"; }, expect: ["destination-rule-subset-pods:IST0173"] },
        { name: "topology labels select nothing when the cluster's zones are unknown (IST0173)", change: (o) => { subset(o).labels["topology.kubernetes.io/zone"] = "westeurope-1"; }, expect: ["destination-rule-subset-pods:IST0173"] },
    ]);

    it("does not judge a Service whose workloads are not in the set", () => {
        const objects = [service("api", 8080), destinationRule("api", { host: "api", subsets: [{ name: "v1", labels: { version: "v1" } }] })];
        assert.deepStrictEqual(verdicts(objects), []);
    });
});

describe("policy: destination-rule-host", () => {
    cases([
        { name: "an unknown short host (IST0174)", change: (o) => { dr(o).spec.host = "apii"; }, expect: ["destination-rule-host:IST0174", "virtual-service-references:IST0101", "virtual-service-references:IST0101"] },
        { name: "the FQDN of the Service resolves", change: (o) => { dr(o).spec.host = `api.${NS}.svc.cluster.local`; }, expect: [] },
        { name: "a short name does not resolve across namespaces (IST0174)", change: (o) => { dr(o).metadata.namespace = "other"; }, expect: ["destination-rule-host:IST0174", "virtual-service-references:IST0101", "virtual-service-references:IST0101"] },
        { name: "a wildcard host is a deliberate catch-all", change: (o) => { dr(o).spec.host = "*.svc.cluster.local"; }, expect: ["virtual-service-references:IST0101", "virtual-service-references:IST0101"] },
    ]);

    it("resolves ServiceEntry hosts, honouring exportTo", () => {
        const se = { apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "ext", namespace: "egress" }, spec: { hosts: ["api.example.com"], ports: [{ number: 443, name: "tls", protocol: "TLS" }], resolution: "DNS" } };
        const rule = destinationRule("ext", { host: "api.example.com", trafficPolicy: { tls: { mode: "SIMPLE", caCertificates: "/ca" } } });
        assert.deepStrictEqual(verdicts([se, rule]), []);
        assert.deepStrictEqual(verdicts([{ ...se, spec: { ...se.spec, exportTo: ["."] } }, rule]), ["destination-rule-host:IST0174"]);
        // DNS resolution of a wildcard host needs endpoints (istiod), so the wildcard entry resolves nothing itself.
        const wildcard = { ...se, spec: { ...se.spec, hosts: ["*.example.com"], resolution: "NONE" } };
        assert.deepStrictEqual(verdicts([wildcard, rule]), []);
    });
});
