import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { evaluate, KubeObject, POLICIES, toPolicyObject, toPolicyPackConfig } from "../policy-pack/rules";
import { ROOT, StackRun } from "../tools/offline/runtime";
import * as os from "os";
import { packSettings } from "../config";
import { policyConfigFile, policyConfigText } from "../tools/policy-config";
import { configValues, parseStackConfig, stackConfig, stackRun, STACKS, variantRun } from "./helpers";
import { runStack } from "./policy/harness";

type Obj = Record<string, any>;

const copy = (o: Obj): Obj => JSON.parse(JSON.stringify(o));

function policyFile(stack: string): Obj {
    return JSON.parse(fs.readFileSync(path.join(ROOT, "policy-pack", "config", `${stack}.json`), "utf8"));
}

/** What the pack sees of the stack: every resource it would be handed, as plain objects (copies). */
function objectsOf(run: StackRun): Obj[] {
    return run.resources.map((r) => toPolicyObject(r.type, r.name, structuredClone(r.inputs))).filter((o): o is KubeObject => o !== undefined) as Obj[];
}

function find(objects: Obj[], kind: string, name: string, namespace?: string): Obj {
    const o = objects.find((x) => x.kind === kind && x.metadata?.name === name && (namespace === undefined || x.metadata?.namespace === namespace));
    assert.ok(o, `no ${kind} ${namespace ?? ""}/${name} in the stack`);
    return o;
}

/** The settings digest the program stamped on the run's Namespaces. */
function stamp(run: StackRun): string {
    return objectsOf(run).find((o) => o.kind === "Namespace")!.metadata.annotations["aks-istio-mesh.io/policy-settings"];
}

/** One deliberate break of the program's output per mandatory policy. */
const BREAKS: Record<string, { stack: "dev" | "prod"; edit: (o: Obj[]) => void; today?: string }> = {
    "peer-authentication-strict": { stack: "dev", edit: (o) => { find(o, "PeerAuthentication", "default", "pets").spec.mtls.mode = "PERMISSIVE"; } },
    "mesh-mtls-strict": { stack: "dev", edit: (o) => { o.splice(o.indexOf(find(o, "PeerAuthentication", "default", "aks-istio-system")), 1); } },
    // The day the end-of-life clock reads (AKS_ISTIO_MESH_TODAY), so the break does not depend on when the test runs.
    "revision-end-of-life": { stack: "prod", today: "2026-12-03", edit: (o) => { find(o, "ManagedCluster", "aks-aks").properties.serviceMeshProfile.istio.revisions = ["asm-1-29"]; } },
    "pack-config-current": { stack: "prod", edit: (o) => { find(o, "Namespace", "pets").metadata.annotations["aks-istio-mesh.io/policy-settings"] = "sha256:0000000000000000"; } },
    "namespace-reserved": { stack: "dev", edit: (o) => { find(o, "Namespace", "pets").metadata.name = "aks-istio-ingress"; } },
    "namespace-injection-labels": { stack: "dev", edit: (o) => { find(o, "Namespace", "pets").metadata.labels = { "istio-injection": "enabled" }; } },
    "namespace-revision-on-cluster": { stack: "dev", edit: (o) => { find(o, "Namespace", "pets").metadata.labels["istio.io/rev"] = "asm-1-29"; } },
    "workload-sidecar-injection": { stack: "dev", edit: (o) => { find(o, "Deployment", "store-front-v1").spec.template.metadata.labels["sidecar.istio.io/inject"] = "false"; } },
    "workload-reserved-uid": { stack: "dev", edit: (o) => { find(o, "Deployment", "details-v1").spec.template.spec.containers[0].securityContext.runAsUser = 1337; } },
    "destination-rule-tls": { stack: "dev", edit: (o) => { find(o, "DestinationRule", "reviews").spec.trafficPolicy.tls = { mode: "DISABLE" }; } },
    "aks-mesh-profile": { stack: "dev", edit: (o) => { find(o, "ManagedCluster", "aks-aks").properties.serviceMeshProfile.istio.revisions = ["asm-1-30", "asm-1-29"]; } },
    "aks-blocked-istio-apis": { stack: "dev", edit: (o) => { o.push({ apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin", metadata: { name: "auth", namespace: "pets" }, spec: {} }); } },
    "authorization-policy-safe": { stack: "dev", edit: (o) => { find(o, "AuthorizationPolicy", "allow-nothing", "pets").spec = { rules: [{}] }; } },
    "authorization-default-deny": { stack: "dev", edit: (o) => { o.splice(o.indexOf(find(o, "AuthorizationPolicy", "allow-nothing", "bookinfo")), 1); } },
    "gateway-selector": { stack: "dev", edit: (o) => { find(o, "Gateway", "mesh-ingress").spec.selector = { istio: "ingressgateway" }; } },
    "gateway-ingress-enabled": { stack: "dev", edit: (o) => { find(o, "ManagedCluster", "aks-aks").properties.serviceMeshProfile.istio.components.ingressGateways[0].enabled = false; } },
    "gateway-ports": { stack: "dev", edit: (o) => { find(o, "Gateway", "mesh-ingress").spec.servers[0].port.number = 8080; } },
    "gateway-tls": { stack: "prod", edit: (o) => { delete find(o, "Gateway", "mesh-ingress").spec.servers.find((s: Obj) => s.port.number === 443).tls.credentialName; } },
    "gateway-wildcard-host": { stack: "prod", edit: (o) => { find(o, "Gateway", "mesh-ingress").spec.servers[0].hosts = ["*"]; } },
    "gateway-conflicts": { stack: "dev", edit: (o) => { const g = copy(find(o, "Gateway", "mesh-ingress")); g.metadata.name = "copy"; o.push(g); } },
    "virtual-service-references": { stack: "dev", edit: (o) => { find(o, "VirtualService", "pets-ingress").spec.http[0].route[0].destination.host = "storefront"; } },
    "virtual-service-destination-port": { stack: "dev", edit: (o) => {
        o.push({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "rabbitmq", namespace: "pets" },
            spec: { hosts: ["rabbitmq"], tcp: [{ route: [{ destination: { host: "rabbitmq" } }] }] } });
    } },
    "virtual-service-mesh-host-conflicts": { stack: "dev", edit: (o) => { const v = copy(find(o, "VirtualService", "reviews")); v.metadata.name = "reviews-copy"; o.push(v); } },
    "workload-selector-matches": { stack: "dev", edit: (o) => {
        o.push({ apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: { name: "orders", namespace: "pets" }, spec: { workloadSelector: { labels: { app: "orders" } } } });
    } },
    "destination-rule-subset-pods": { stack: "dev", edit: (o) => { find(o, "DestinationRule", "reviews").spec.subsets[2].labels.version = "v9"; } },
    // What istiod's webhook refuses.
    "virtual-service-route-action": { stack: "dev", edit: (o) => { delete find(o, "VirtualService", "reviews").spec.http[1].route; } },
    "virtual-service-route-weights": { stack: "dev", edit: (o) => { find(o, "VirtualService", "reviews").spec.http[1].route[1].weight = -10; } },
    "gateway-name": { stack: "dev", edit: (o) => { find(o, "Gateway", "mesh-ingress").metadata.name = "mesh.ingress"; } },
    "gateway-port-range": { stack: "dev", edit: (o) => { find(o, "Gateway", "mesh-ingress").spec.servers[0].port.number = 0; } },
    "authorization-policy-action": { stack: "dev", edit: (o) => { find(o, "AuthorizationPolicy", "allow-nothing", "pets").spec = { action: "DENY" }; } },
    "sidecar-egress-hosts": { stack: "dev", edit: (o) => { find(o, "Sidecar", "default", "pets").spec.egress[0].hosts = []; } },
    "aks-node-pools": { stack: "prod", edit: (o) => { o.splice(o.indexOf(find(o, "AgentPool", "aks-pool-apps")), 1); } },
    "aks-delete-lock": { stack: "prod", edit: (o) => { find(o, "ManagementLock", "aks-lock").properties.level = "ReadOnly"; } },
    "aks-maintenance-windows": { stack: "prod", edit: (o) => { o.splice(o.indexOf(find(o, "MaintenanceConfiguration", "aks-maintenance-node-os")), 1); } },
    "aks-mesh-ca": { stack: "prod", edit: (o) => { delete find(o, "ManagedCluster", "aks-aks").properties.addonProfiles; } },
    "aks-egress-gateway": { stack: "prod", edit: (o) => { delete find(o, "ManagedCluster", "aks-aks").properties.networkProfile.staticEgressGatewayProfile; } },
    "pod-security-admission": { stack: "dev", edit: (o) => { find(o, "Namespace", "pets").metadata.labels["pod-security.kubernetes.io/enforce"] = "privileged"; } },
    "destination-rule-subset-names": { stack: "dev", edit: (o) => { find(o, "DestinationRule", "reviews").spec.subsets[1].name = "v1"; } },
    "request-authentication-pairs": { stack: "dev", edit: (o) => {
        o.push({ apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "end-user", namespace: "pets" },
            spec: { selector: { matchLabels: { app: "store-front" } }, jwtRules: [{ issuer: "https://login.example.com/", jwksUri: "https://login.example.com/keys" }] } });
    } },
    "autoscaler-target": { stack: "prod", edit: (o) => {
        o.push({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "reviews-v1", namespace: "bookinfo" },
            spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "reviews-v1" }, minReplicas: 2, maxReplicas: 4 } });
    } },
};

describe("the program's own output under the policy pack", () => {
    for (const stack of STACKS) {
        it(`${stack}: no mandatory violation, and only the advisories the design accepts`, async () => {
            const violations = evaluate(objectsOf(await stackRun(stack)) as KubeObject[], { policies: policyFile(stack) });
            assert.deepStrictEqual(violations.filter((v) => v.enforcement === "mandatory"), []);
            const accepted = stackConfig(stack).environment.kind === "development"
                ? ["envoy-filter-unsupported bookinfo/productpage-local-ratelimit", "gateway-wildcard-host-dev aks-istio-ingress/mesh-ingress"]
                : ["envoy-filter-unsupported bookinfo/productpage-local-ratelimit", "workload-availability pets/rabbitmq", "workload-availability pets/rabbitmq"];
            assert.deepStrictEqual(violations.map((v) => `${v.policy} ${v.namespace}/${v.name}`).sort(), accepted);
        });
    }

    it("has a deliberate break for every mandatory policy", () => {
        assert.deepStrictEqual(Object.keys(BREAKS).sort(), POLICIES.filter((p) => p.enforcement === "mandatory").map((p) => p.name).sort());
    });

    for (const [policy, { stack, edit, today }] of Object.entries(BREAKS)) {
        it(`a broken ${stack} output trips ${policy}`, async () => {
            const objects = objectsOf(await stackRun(stack));
            edit(objects);
            const saved = process.env.AKS_ISTIO_MESH_TODAY;
            if (today) {
                process.env.AKS_ISTIO_MESH_TODAY = today;
            }
            const hits = evaluate(objects as KubeObject[], { policies: policyFile(stack) }).filter((v) => v.policy === policy);
            if (saved === undefined) {
                delete process.env.AKS_ISTIO_MESH_TODAY;
            } else {
                process.env.AKS_ISTIO_MESH_TODAY = saved;
            }
            assert.ok(hits.some((v) => v.enforcement === "mandatory"), `${policy} did not fire: ${JSON.stringify(hits)}`);
        });
    }

    for (const stack of STACKS) {
        it(`${stack}: policy-pack/config/${stack}.json is generated from the current stack file (npm run policy:config)`, () => {
            assert.ok(fs.existsSync(policyConfigFile(stack)), `policy-pack/config/${stack}.json is missing: run npm run policy:config -- ${stack}`);
            assert.strictEqual(fs.readFileSync(policyConfigFile(stack), "utf8"), policyConfigText(stack),
                `policy-pack/config/${stack}.json is stale: run npm run policy:config -- ${stack}`);
        });
    }

    it("judges a stack by the environment its file declares, not by its name", () => {
        const generated = (file: string) => {
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "stack-env-"));
            fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
            fs.copyFileSync(path.join(ROOT, file), path.join(root, "Pulumi.prod.yaml"));
            fs.mkdirSync(path.join(root, "policy-pack", "config"), { recursive: true });
            return JSON.parse(policyConfigText("prod", root));
        };
        const env = (c: Obj) => c["gateway-wildcard-host"].environment;
        assert.strictEqual(env(generated("Pulumi.dev.yaml")), "dev", "a development stack file saved under the name prod is still development");
        assert.strictEqual(env(generated("Pulumi.prod.yaml")), "prod");
        assert.strictEqual(env(policyFile("prod")), "prod");
    });

    it("approves exactly the stack's mTLS exceptions in its generated policy config", () => {
        const exception = { namespace: "pets", selector: { app: "rabbitmq" }, port: 15672, reason: "management UI scraped from outside the mesh" };
        const config = parseStackConfig("dev", configValues("dev", (v) => { v["aks-istio-mesh:mesh"].mtlsExceptions = [exception]; }));
        assert.deepStrictEqual(toPolicyPackConfig(packSettings(config))["peer-authentication-strict"], { mtlsExceptions: [exception] });
    });

    it("refuses an mTLS exception the stack's policy file does not approve", async () => {
        const exception = { namespace: "pets", selector: { app: "rabbitmq" }, port: 15672, reason: "management UI scraped from outside the mesh" };
        const run = await variantRun("dev", (v) => { v["aks-istio-mesh:mesh"].mtlsExceptions = [exception]; });
        const unapproved = evaluate(objectsOf(run) as KubeObject[], { policies: policyFile("dev") });
        assert.ok(unapproved.some((v) => v.policy === "peer-authentication-strict" && v.enforcement === "mandatory"), "an unapproved exception passed");
        assert.deepStrictEqual(unapproved.filter((v) => v.enforcement === "mandatory").map((v) => `${v.policy}: ${v.message}`), [
            "pack-config-current: the pack config was generated from other settings (" + policyFile("dev")["pack-config-current"].settingsDigest
                + `) than stack dev's settings (${stamp(run)}, stamped on namespace kiali): its verdicts would use another environment or other mTLS exceptions; run npm run policy:config -- dev and pass --policy-pack-config policy-pack/config/dev.json`,
            "peer-authentication-strict: spec.portLevelMtls[15672].mode is PERMISSIVE; only STRICT or UNSET is allowed, and the pack's config approves no mTLS exception (a stack's mesh.mtlsExceptions reach the pack only through npm run policy:config)",
        ]);
        const config = parseStackConfig("dev", configValues("dev", (v) => { v["aks-istio-mesh:mesh"].mtlsExceptions = [exception]; }));
        const approved = evaluate(objectsOf(run) as KubeObject[], { policies: toPolicyPackConfig(packSettings(config)) });
        assert.deepStrictEqual(approved.filter((v) => v.enforcement === "mandatory"), []);
    });

    it("refuses a pack config made for other settings, another stack or none, in one line naming the command", async () => {
        const objects = objectsOf(await stackRun("dev")) as KubeObject[];
        const hits = (input: Obj) => evaluate(objects, input).filter((v) => v.policy === "pack-config-current");
        assert.deepStrictEqual(hits({ policies: policyFile("dev") }), []);
        for (const input of [{ policies: policyFile("prod") }, {}]) {
            const found = hits(input);
            assert.strictEqual(found.length, 1, JSON.stringify(found));
            assert.strictEqual(found[0].enforcement, "mandatory");
            assert.match(found[0].message, /run npm run policy:config -- dev and pass --policy-pack-config policy-pack\/config\/dev\.json$/);
        }
        const switched = await variantRun("dev", (v) => { v["aks-istio-mesh:environment"] = { kind: "production", requireTls: false, highAvailability: false }; });
        assert.ok(evaluate(objectsOf(switched) as KubeObject[], { policies: policyFile("dev") }).some((v) => v.policy === "pack-config-current"),
            "a stack switched to production was judged by its dev config");
    });

});

describe("the stamp through the CrossGuard adapter (what pulumi preview runs)", () => {
    it("passes the stack judged by its own generated config and refuses it judged by another stack's, on the stamped Namespace's URN", async () => {
        const resources = (await stackRun("dev")).resources.filter((r) => r.type === "kubernetes:core/v1:Namespace")
            .map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
        assert.ok(resources.length > 0);
        const own = policyFile("dev")["pack-config-current"];
        assert.deepStrictEqual(runStack("pack-config-current", resources, own), { kind: "violations", messages: [] });
        const other = runStack("pack-config-current", resources, policyFile("prod")["pack-config-current"]);
        assert.ok(other.kind === "violations" && other.messages.length === 1, JSON.stringify(other));
        assert.match(other.messages[0].message, /run npm run policy:config -- dev and pass --policy-pack-config policy-pack\/config\/dev\.json$/);
        assert.ok(resources.some((r) => r.urn === other.messages[0].urn), "reported on a Namespace of the stack");
    });
});
