import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { isRpcSecret, unwrapRpcSecret } from "@pulumi/pulumi/runtime/rpc";
import { parse, stringify } from "yaml";
import { checkServiceMesh, ExistingCluster, ExistingClusterArgs } from "../components/existing-cluster";
import { ConfigError } from "../policy-pack/lib/errors";
import { offlineMocks } from "../tools/offline/mocks";
import { runComponents, valueOf } from "./component-run";

const RG = "rg-platform";
const NAME = "aks-platform";
const ARM_ID = `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${NAME}`;
const ISSUER = "https://westeurope.oic.prod-aks.azure.com/t/c/";

/** The platform team's cluster as getManagedCluster returns it. */
function platformCluster(mesh: object = { mode: "Istio", istio: { revisions: ["asm-1-29", "asm-1-30"], components: { ingressGateways: [{ mode: "External", enabled: true }] } } }) {
    return {
        id: ARM_ID,
        name: NAME,
        location: "westeurope",
        aadProfile: { managed: true, enableAzureRBAC: true },
        oidcIssuerProfile: { enabled: true, issuerURL: ISSUER },
        addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, identity: { clientId: "kv-client", objectId: "kv-object" } } },
        serviceMeshProfile: mesh,
    };
}

/** Offline answers plus a lookup of the platform cluster; records every invoke. */
function mocksFor(cluster: object, calls: string[] = []): pulumi.runtime.Mocks {
    return {
        newResource: offlineMocks.newResource,
        call(args) {
            calls.push(args.token);
            if (args.token === "azure-native:containerservice:getManagedCluster") {
                assert.deepStrictEqual({ rg: args.inputs.resourceGroupName, name: args.inputs.resourceName }, { rg: RG, name: NAME });
                return cluster;
            }
            return offlineMocks.call(args);
        },
    };
}

const BASE: Pick<ExistingClusterArgs, "revisions" | "ingressGateways"> = { revisions: ["asm-1-30"], ingressGateways: { external: true, internal: false } };

describe("ExistingCluster", () => {
    describe("an AKS cluster by resource group and name", () => {
        it("creates nothing in Azure and builds the provider from the cluster's user credentials", async () => {
            const calls: string[] = [];
            const { value: c, resources } = await runComponents(mocksFor(platformCluster(), calls), () =>
                new ExistingCluster("existing", { ...BASE, aks: { resourceGroupName: RG, name: NAME, kubeloginMode: "workloadidentity" } }));
            const kubeconfig = await valueOf(c.kubeconfig);
            assert.ok(await pulumi.isSecret(c.kubeconfig), "the kubeconfig must be secret");
            assert.deepStrictEqual(resources.filter((r) => r.type.startsWith("azure-native:")), [], "no Azure resource may be created or read");
            assert.deepStrictEqual(calls.sort(), ["azure-native:containerservice:getManagedCluster", "azure-native:containerservice:listManagedClusterUserCredentials"]);

            const provider = resources.find((r) => r.type === "pulumi:providers:kubernetes");
            assert.ok(provider, "a Kubernetes provider");
            assert.strictEqual(provider.inputs.clusterIdentifier, ARM_ID, "objects are replaced only when the cluster itself changes");
            assert.ok(isRpcSecret(provider.inputs.kubeconfig));
            assert.strictEqual(unwrapRpcSecret(provider.inputs.kubeconfig), kubeconfig);
            // An Entra ID cluster: the exec credential, turned into the configured non-interactive mode.
            assert.deepStrictEqual(parse(kubeconfig).users[0].user.exec.args.slice(0, 3), ["get-token", "--login", "workloadidentity"]);
        });

        it("exposes what AksCluster exposes, from the cluster as Azure reports it", async () => {
            const { value: c } = await runComponents(mocksFor(platformCluster()), () =>
                new ExistingCluster("existing", { ...BASE, aks: { resourceGroupName: RG, name: NAME } }));
            assert.strictEqual(await valueOf(c.clusterName), NAME);
            assert.strictEqual(await valueOf(c.clusterId!), ARM_ID);
            assert.strictEqual(await valueOf(c.resourceGroupName!), RG);
            assert.strictEqual(await valueOf(c.oidcIssuerUrl!), ISSUER);
            assert.deepStrictEqual(await valueOf(c.revisions), ["asm-1-29", "asm-1-30"]);
            assert.deepStrictEqual(await valueOf(c.keyVaultSecretsProviderIdentity!), { clientId: "kv-client", objectId: "kv-object" });
            assert.deepStrictEqual(c.ingressGateways.map((g) => g.service), ["aks-istio-ingressgateway-external"]);
            assert.deepStrictEqual(parse(await valueOf(c.kubeconfig)).users[0].user.exec.args.slice(0, 3), ["get-token", "--login", "azurecli"]);
        });

        it("refuses a cluster without a configured revision before any provider exists", async () => {
            const { value: c, resources } = await runComponents(mocksFor(platformCluster({ mode: "Istio", istio: { revisions: ["asm-1-29"] } })), () =>
                new ExistingCluster("existing", { ...BASE, aks: { resourceGroupName: RG, name: NAME } }));
            await assert.rejects(valueOf(c.kubeconfig), (e: unknown) => e instanceof ConfigError && e.path === "aks-istio-mesh:mesh.revisions" && /runs Istio revisions \[asm-1-29\], not asm-1-30/.test(e.message));
            assert.ok(!resources.some((r) => r.type === "pulumi:providers:kubernetes"), "no provider for a refused cluster");
        });
    });

    describe("the service mesh check", () => {
        const ok = { mode: "Istio", istio: { revisions: ["asm-1-29", "asm-1-30"], components: { ingressGateways: [{ mode: "External", enabled: true }, { mode: "Internal", enabled: false }] } } };
        const refusal = (profile: object | undefined, revisions: string[], gateways: { external: boolean; internal: boolean }) => {
            try {
                checkServiceMesh("rg/c", profile, revisions, gateways);
            } catch (e) {
                assert.ok(e instanceof ConfigError);
                return `${e.path} | ${e.problem}`;
            }
            return undefined;
        };

        it("accepts a cluster that runs the revisions and gateways, and more (mid-upgrade)", () => {
            assert.strictEqual(refusal(ok, ["asm-1-30"], { external: true, internal: false }), undefined);
            assert.strictEqual(refusal(ok, ["asm-1-29", "asm-1-30"], { external: false, internal: false }), undefined);
        });

        it("names the key to change for each problem", () => {
            assert.match(refusal(undefined, ["asm-1-30"], { external: true, internal: false })!, /^aks-istio-mesh:cluster\.existing\.aks \| .*does not run the Istio add-on \(serviceMeshProfile\.mode is unset\)/);
            assert.match(refusal({ mode: "Disabled" }, ["asm-1-30"], { external: true, internal: false })!, /mode is Disabled/);
            assert.match(refusal(ok, ["asm-1-31"], { external: true, internal: false })!, /^aks-istio-mesh:mesh\.revisions \| .*not asm-1-31/);
            assert.match(refusal(ok, ["asm-1-30"], { external: true, internal: true })!, /^aks-istio-mesh:mesh\.ingressGateways \| .*no enabled Internal ingress gateway/);
        });
    });

    describe("a kubeconfig", () => {
        let dir: string;
        const savedEnv = process.env.KUBECONFIG;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "existing-cluster-"));
        });
        afterEach(() => {
            fs.rmSync(dir, { recursive: true, force: true });
            if (savedEnv === undefined) {
                delete process.env.KUBECONFIG;
            } else {
                process.env.KUBECONFIG = savedEnv;
            }
        });
        const write = (file: string, doc: object) => {
            const p = path.join(dir, file);
            fs.writeFileSync(p, stringify(doc));
            return p;
        };
        const local = {
            clusters: [{ name: "local", cluster: { server: "https://127.0.0.1:6443", "certificate-authority": "pki/ca.crt" } }],
            users: [{ name: "admin", user: { "client-certificate": "pki/admin.crt", "client-key": "pki/admin.key" } }],
            contexts: [{ name: "local", context: { cluster: "local", user: "admin" } }],
            "current-context": "local",
        };
        const other = {
            clusters: [{ name: "prod", cluster: { server: "https://prod.example:443" } }, { name: "local", cluster: { server: "https://shadowed:1" } }],
            users: [{ name: "someone", user: { token: "t" } }],
            contexts: [{ name: "prod", context: { cluster: "prod", user: "someone" } }],
            "current-context": "prod",
        };
        const noAzure: pulumi.runtime.Mocks = {
            newResource: offlineMocks.newResource,
            call(args) {
                throw new Error(`kubeconfig mode must not call ${args.token}`);
            },
        };

        it("defaults to KUBECONFIG, merged like kubectl, and keeps one self-contained context", async () => {
            process.env.KUBECONFIG = [write("local.yaml", local), write("other.yaml", other)].join(path.delimiter);
            const { value: c, resources } = await runComponents(noAzure, () => new ExistingCluster("existing", { ...BASE, kubeconfig: {} }));
            const kubeconfig = parse(await valueOf(c.kubeconfig));
            assert.ok(await pulumi.isSecret(c.kubeconfig));
            assert.strictEqual(kubeconfig["current-context"], "local", "the first file's current-context wins");
            assert.deepStrictEqual(kubeconfig.clusters.map((x: any) => x.cluster.server), ["https://127.0.0.1:6443"], "the first file's entry wins; other clusters stay out");
            assert.strictEqual(kubeconfig.clusters[0].cluster["certificate-authority"], path.join(dir, "pki/ca.crt"), "file paths resolve against the kubeconfig's directory");
            assert.strictEqual(kubeconfig.users[0].user["client-key"], path.join(dir, "pki/admin.key"));
            assert.deepStrictEqual(resources.map((r) => r.type).sort(), ["aks-istio-mesh:cluster:ExistingCluster", "pulumi:providers:kubernetes"], "no Azure resource at all");
            assert.strictEqual(resources.find((r) => r.type === "pulumi:providers:kubernetes")!.inputs.clusterIdentifier, "https://127.0.0.1:6443");
            assert.strictEqual(await valueOf(c.clusterName), "local");
            assert.deepStrictEqual(await valueOf(c.revisions), ["asm-1-30"]);
            assert.deepStrictEqual([c.clusterId, c.oidcIssuerUrl, c.resourceGroupName, c.keyVaultSecretsProviderIdentity], [undefined, undefined, undefined, undefined]);
        });

        it("takes an explicit path and context", async () => {
            process.env.KUBECONFIG = path.join(dir, "absent.yaml");
            const file = write("other.yaml", other);
            const { value: c } = await runComponents(noAzure, () => new ExistingCluster("existing", { ...BASE, kubeconfig: { path: file, context: "prod" } }));
            const kubeconfig = parse(await valueOf(c.kubeconfig));
            assert.strictEqual(kubeconfig["current-context"], "prod");
            assert.deepStrictEqual(kubeconfig.users, [{ name: "someone", user: { token: "t" } }]);
            assert.strictEqual(await valueOf(c.clusterName), "prod");
        });

        it("refuses an unreadable file, an unknown context and a context without a cluster, naming the key", () => {
            const file = write("local.yaml", local);
            const build = (kubeconfig: ExistingClusterArgs["kubeconfig"]) => () => new ExistingCluster("existing", { ...BASE, kubeconfig });
            assert.throws(build({ path: path.join(dir, "nope.yaml") }), (e: unknown) => e instanceof ConfigError && e.path === "aks-istio-mesh:cluster.existing.kubeconfig" && /cannot read kubeconfig .*nope\.yaml/.test(e.message));
            assert.throws(build({ path: file, context: "prod" }), (e: unknown) => e instanceof ConfigError && e.path === "aks-istio-mesh:cluster.existing.kubeconfig.context" && /no context "prod" .*contexts: local/.test(e.message));
            const dangling = write("dangling.yaml", { ...local, contexts: [{ name: "local", context: { cluster: "gone", user: "admin" } }] });
            assert.throws(build({ path: dangling }), /refers to cluster "gone"/);
        });
    });

    it("needs exactly one of aks or kubeconfig", () => {
        assert.throws(() => new ExistingCluster("x", { ...BASE }), (e: unknown) => e instanceof ConfigError && e.path === "aks-istio-mesh:cluster.existing");
        assert.throws(() => new ExistingCluster("x", { ...BASE, aks: { resourceGroupName: RG, name: NAME }, kubeconfig: {} }), /exactly one of aks/);
    });
});
