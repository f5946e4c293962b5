import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { ROOT } from "../tools/offline/runtime";
import { run } from "../tools/policy-config";
import { parseStackConfig } from "./helpers";

type Config = Record<string, any>;

const CLUSTER = "aks-istio-mesh:cluster";
const MESH = "aks-istio-mesh:mesh";
const APPS = "aks-istio-mesh:apps";
const SECRETS = "aks-istio-mesh:secrets";
const ZERO = "/subscriptions/00000000-0000-0000-0000-000000000000";

/**
 * Values users have written that Azure or the API server would refuse later, or that were reported
 * badly: each is a stack file edit, the key the message must name and what it must say.
 */
const CORPUS: { what: string; edit: (c: Config) => void; key: string; says: RegExp }[] = [
    { what: "apps set with pulumi config set as text that is not YAML", edit: (c) => { c[APPS] = "[pets, bookinfo"; }, key: APPS, says: /neither JSON nor YAML/ },
    { what: "a CIDR prefix above /32", edit: (c) => { c[CLUSTER].authorizedIpRanges = ["203.0.113.0/33"]; }, key: `${CLUSTER}.authorizedIpRanges[0]`, says: /prefix length \/33 is above \/32/ },
    { what: "an octet above 255", edit: (c) => { c[CLUSTER].authorizedIpRanges = ["203.0.113.7", "10.999.0.0/16"]; }, key: `${CLUSTER}.authorizedIpRanges[1]`, says: /octet 999 is above 255/ },
    {
        what: "a resource group given as a full resource id",
        edit: (c) => { c[CLUSTER].resourceGroupName = `${ZERO}/resourceGroups/rg-mesh`; },
        key: `${CLUSTER}.resourceGroupName`, says: /looks like a resource id; give the name only \(here "rg-mesh"\)/,
    },
    {
        what: "a cluster name given as a full resource id",
        edit: (c) => { c[CLUSTER].name = `${ZERO}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-mesh`; },
        key: `${CLUSTER}.name`, says: /looks like a resource id; give the name only \(here "aks-mesh"\)/,
    },
    { what: "a resource group name Azure refuses", edit: (c) => { c[CLUSTER].resourceGroupName = "rg mesh."; }, key: `${CLUSTER}.resourceGroupName`, says: /not a resource group name Azure accepts/ },
    { what: "a zero request timeout", edit: (c) => { c[MESH].resilience = { timeout: "0s" }; }, key: `${MESH}.resilience.timeout`, says: /"0s" is too short: must be at least 1ms/ },
    { what: "a zero outlier detection interval", edit: (c) => { c[MESH].resilience = { outlierDetection: { interval: "0ms" } }; }, key: `${MESH}.resilience.outlierDetection.interval`, says: /at least 1ms/ },
    {
        what: "a zero fault delay",
        edit: (c) => { c[APPS] = ["pets", { name: "bookinfo", traffic: { ratings: { fault: { delay: { fixedDelay: "0s", percent: 100 } } } } }]; },
        key: `${APPS}[1].traffic.ratings.fault.delay.fixedDelay`, says: /at least 1ms/,
    },
    {
        what: "a rate limit refilled faster than Envoy allows",
        edit: (c) => { c[APPS] = ["pets", { name: "bookinfo", traffic: { productpage: { rateLimit: { maxTokens: 10, tokensPerFill: 10, fillInterval: "10ms" } } } }]; },
        key: `${APPS}[1].traffic.productpage.rateLimit.fillInterval`, says: /at least 50ms/,
    },
    {
        what: "an mTLS exception whose selector matches no workload of its namespace",
        edit: (c) => { c[MESH].mtlsExceptions = [{ namespace: "pets", selector: { app: "rabbit" }, reason: "typo" }]; },
        key: `${MESH}.mtlsExceptions[0].selector`, says: /\{"app":"rabbit"\} matches no workload in namespace pets; its pods carry app: .*rabbitmq/,
    },
    {
        what: "an mTLS exception for a version the service does not run",
        edit: (c) => { c[MESH].mtlsExceptions = [{ namespace: "bookinfo", selector: { app: "reviews", version: "v4" }, reason: "typo" }]; },
        key: `${MESH}.mtlsExceptions[0].selector`, says: /matches no workload in namespace bookinfo/,
    },
    { what: "a Kubernetes version no revision supports", edit: (c) => { c[CLUSTER].kubernetesVersion = "1.40"; }, key: `${CLUSTER}.kubernetesVersion`, says: /no supported Istio revision runs on Kubernetes 1\.40 \(asm-1-29: 1\.31 to 1\.36/ },
    { what: "an unquoted Kubernetes version", edit: (c) => { c[CLUSTER].kubernetesVersion = 1.3; }, key: `${CLUSTER}.kubernetesVersion`, says: /got the number 1\.3, not text: write the value in quotes \(e\.g\. "1\.34"\)/ },
    { what: "unquoted zones", edit: (c) => { c[CLUSTER].systemPool.zones = [1, 2, 3]; }, key: `${CLUSTER}.systemPool.zones[0]`, says: /got the number 1, not the text "1": quote it in the stack file; allowed: "1", "2", "3"/ },
    { what: "a quoted node count", edit: (c) => { c[CLUSTER].systemPool.count = "3"; }, key: `${CLUSTER}.systemPool.count`, says: /got the text "3": write the number without quotes/ },
    { what: "an environment kind it does not know", edit: (c) => { c["aks-istio-mesh:environment"] = { kind: "staging" }; }, key: "aks-istio-mesh:environment.kind", says: /"staging" is not allowed; allowed: production, development/ },
    {
        what: "production without TLS",
        edit: (c) => { c["aks-istio-mesh:environment"] = { kind: "production" }; c["aks-istio-mesh:workloads"] = { highAvailability: true }; c["aks-istio-mesh:ingress"].hosts.pets = "shop.contoso.com"; },
        key: "aks-istio-mesh:ingress.tls", says: /is required: the stack's environment .* requires TLS/,
    },
    {
        what: "high availability switched off against the environment",
        edit: (c) => { c["aks-istio-mesh:environment"] = { kind: "development", highAvailability: true }; c["aks-istio-mesh:workloads"] = { highAvailability: false }; },
        key: "aks-istio-mesh:workloads.highAvailability", says: /is false but aks-istio-mesh:environment\.highAvailability is true/,
    },
    {
        what: "an existing cluster with keys of a created one",
        edit: (c) => { c[CLUSTER].existing = { aks: { resourceGroupName: "rg-platform", name: "aks-shared" } }; },
        key: `${CLUSTER}.tier`, says: /describes a cluster this stack creates; with cluster.existing the cluster is not managed here: remove cluster\.tier, cluster\.systemPool/,
    },
    {
        what: "an existing cluster in both forms",
        edit: (c) => { c[CLUSTER] = { kubernetesVersion: "1.34", existing: { aks: { resourceGroupName: "rg", name: "aks" }, kubeconfig: {} } }; },
        key: `${CLUSTER}.existing`, says: /needs exactly one of aks/,
    },
    {
        what: "managed Prometheus and Grafana on a kubeconfig cluster",
        edit: (c) => { c[CLUSTER] = { kubernetesVersion: "1.34", existing: { kubeconfig: {} } }; },
        key: "aks-istio-mesh:observability.enabled", says: /Azure services and with aks-istio-mesh:cluster\.existing\.kubeconfig there is no Azure: set observability\.enabled: false/,
    },
    {
        what: "Key Vault TLS on a kubeconfig cluster",
        edit: (c) => {
            c[CLUSTER] = { kubernetesVersion: "1.34", existing: { kubeconfig: { context: "local" } } };
            c["aks-istio-mesh:observability"] = { enabled: false };
            c["aks-istio-mesh:ingress"] = { hosts: { pets: "shop.contoso.com", bookinfo: "books.contoso.com" }, tls: { keyVaultId: `${ZERO.replace(/0/g, "1")}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-mesh`, certificateName: "c" } };
        },
        key: "aks-istio-mesh:ingress.tls", says: /comes from Azure Key Vault/,
    },
    { what: "a secrets source it does not know", edit: (c) => { c[SECRETS] = { source: "vault" }; }, key: `${SECRETS}.source`, says: /"vault" is not allowed; allowed: generated, config/ },
    {
        what: "passwords from config with one missing",
        edit: (c) => { c[SECRETS] = { source: "config" }; },
        key: `${SECRETS}.values.pets.rabbitmq-credentials.password`, says: /is required with secrets\.source: config; set it with pulumi config set --secret --path 'aks-istio-mesh:secrets\.values\.pets\.rabbitmq-credentials\.password' <value>/,
    },
    { what: "a secret value for an app the stack does not run", edit: (c) => { c[SECRETS] = { values: { shop: { db: { password: "x" } } } }; }, key: `${SECRETS}.values.shop`, says: /"shop" is not an app of this stack; apps: pets, bookinfo/ },
    { what: "a secret value for a secret the app does not have", edit: (c) => { c[SECRETS] = { values: { pets: { rabbit: { password: "x" } } } }; }, key: `${SECRETS}.values.pets.rabbit`, says: /its secrets with password keys: rabbitmq/ },
    { what: "a secret value for a literal key", edit: (c) => { c[SECRETS] = { values: { pets: { "rabbitmq-credentials": { username: "x" } } } }; }, key: `${SECRETS}.values.pets.rabbitmq-credentials.username`, says: /is not a password key of secret rabbitmq-credentials; its password keys: password/ },
    {
        what: "a secret value that is not text, without echoing it",
        edit: (c) => { c[SECRETS] = { values: { pets: { "rabbitmq-credentials": { password: 12345678 } } } }; },
        key: `${SECRETS}.values.pets.rabbitmq-credentials.password`, says: /^(?!.*12345678).*must be text set with pulumi config set --secret/,
    },
    { what: "an empty secret value", edit: (c) => { c[SECRETS] = { values: { pets: { "rabbitmq-credentials": { password: "" } } } }; }, key: `${SECRETS}.values.pets.rabbitmq-credentials.password`, says: /must not be empty/ },
];

describe("bad config corpus: exit 2, one line naming the key the user must change", () => {
    let root: string;
    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "bad-config-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
        fs.mkdirSync(path.join(root, "policy-pack", "config"), { recursive: true });
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    /** The dev stack file with `edit` applied, written as the stack file `Pulumi.<stack>.yaml`. */
    function stackFile(stack: string, edit: (c: Config) => void): void {
        const file = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
        edit(file.config);
        fs.writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), stringify(file));
    }

    CORPUS.forEach(({ what, edit, key, says }, i) => {
        it(`refuses ${what}`, () => {
            stackFile(`bad${i}`, edit);
            const r = run(["--check", `bad${i}`], root);
            assert.strictEqual(r.code, 2, r.stderr || r.stdout);
            assert.ok(r.stderr.startsWith(`error: stack bad${i}: ${key}: `), `should name ${key}: ${r.stderr}`);
            assert.match(r.stderr, says);
            assert.strictEqual(r.stderr.trimEnd().split("\n").length, 1, `one line, no stack trace: ${r.stderr}`);
        });
    });

    it("reads a list set with pulumi config set as text ('[pets, bookinfo]') as the list it holds", () => {
        stackFile("text", (c) => { c[APPS] = "[pets, bookinfo]"; c[MESH] = JSON.stringify(c[MESH]); });
        const values = { ...parse(fs.readFileSync(path.join(root, "Pulumi.text.yaml"), "utf8")).config };
        assert.strictEqual(typeof values[APPS], "string", "the corpus must store the list as text");
        const config = parseStackConfig("text", values);
        assert.deepStrictEqual(config.apps.map((a) => a.spec.name), ["pets", "bookinfo"]);
        assert.deepStrictEqual(config.mesh.revisions, ["asm-1-30"]);
    });
});
