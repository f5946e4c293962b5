import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../tools/offline/runtime";
import { assertRefused, configValues, parseStackConfig, STACKS } from "./helpers";

/** Asserts the edit is refused with one message that names `key` and contains `says`. */
function refused(edit: (v: Record<string, any>) => void, key: string, says: RegExp): void {
    assertRefused(() => parseStackConfig("dev", configValues("dev", edit)), key, says);
}

describe("stack config", () => {
    for (const stack of STACKS) {
        it(`accepts the committed ${stack} stack`, () => {
            const cfg = parseStackConfig(stack, configValues(stack));
            assert.deepStrictEqual(cfg.mesh.revisions, ["asm-1-30"]);
            assert.strictEqual(cfg.mesh.ingressGateways.external, true);
            assert.strictEqual(cfg.location, cfg.cluster.existing?.kubeconfig ? undefined : "westeurope");
        });
    }

    it("gives dev a small cluster and prod the hardened one", () => {
        const dev = parseStackConfig("dev", configValues("dev")).cluster;
        const prod = parseStackConfig("prod", configValues("prod")).cluster;
        assert.strictEqual(dev.tier, "Free");
        assert.deepStrictEqual(dev.systemPool.zones, []);
        assert.strictEqual(dev.aad?.kubeloginMode, "azurecli", "dev is previewed on pull requests: Entra ID, as prod");
        assert.strictEqual(dev.disableLocalAccounts, true);
        assert.strictEqual(dev.protect, false);
        assert.strictEqual(prod.tier, "Standard");
        assert.deepStrictEqual(prod.systemPool.zones, ["1", "2", "3"]);
        assert.deepStrictEqual(prod.systemPool.autoscaling, { minCount: 3, maxCount: 6 });
        assert.strictEqual(prod.aad?.kubeloginMode, "azurecli");
        assert.strictEqual(prod.disableLocalAccounts, true);
        assert.strictEqual(prod.protect, true);
    });

    it("reads the environment from the stack file, and infers it for files older than the key", () => {
        const kind = (stack: string, edit: (v: Record<string, any>) => void = () => undefined) => parseStackConfig(stack, configValues(stack, edit)).environment;
        assert.deepStrictEqual(kind("dev"), { kind: "development", highAvailability: false, requireTls: false, declared: true });
        assert.deepStrictEqual(kind("prod"), { kind: "production", highAvailability: true, requireTls: true, declared: true });
        const undeclared = (v: Record<string, any>) => { delete v["aks-istio-mesh:environment"]; };
        assert.strictEqual(kind("dev", undeclared).kind, "development");
        assert.strictEqual(kind("prod", undeclared).kind, "production", "workloads.highAvailability: true marks an older file as production");
    });

    it("accepts two consecutive revisions for a canary upgrade", () => {
        const cfg = parseStackConfig("dev", configValues("dev", (v) => { v["aks-istio-mesh:mesh"].revisions = ["asm-1-29", "asm-1-30"]; }));
        assert.deepStrictEqual(cfg.mesh.revisions, ["asm-1-29", "asm-1-30"]);
    });

    const mesh = "aks-istio-mesh:mesh";
    const cluster = "aks-istio-mesh:cluster";
    it("refuses a revision that is not asm-1-NN", () =>
        refused((v) => { v[mesh].revisions = ["1.23"]; }, `${mesh}.revisions`, /"1\.23" is not a revision name.*asm-1-29, asm-1-30/));
    it("refuses an unsupported revision", () =>
        refused((v) => { v[mesh].revisions = ["asm-1-23"]; }, `${mesh}.revisions`, /not a supported revision; supported: asm-1-29, asm-1-30/));
    it("refuses three revisions", () =>
        refused((v) => { v[mesh].revisions = ["asm-1-28", "asm-1-29", "asm-1-30"]; }, `${mesh}.revisions`, /one revision, or two consecutive/));
    it("refuses no revision", () =>
        refused((v) => { v[mesh].revisions = []; }, `${mesh}.revisions`, /one revision, or two consecutive/));
    it("refuses two revisions out of order", () =>
        refused((v) => { v[mesh].revisions = ["asm-1-30", "asm-1-29"]; }, `${mesh}.revisions`, /must be consecutive and in order/));
    it("refuses a revision the Kubernetes version cannot run", () =>
        refused((v) => { v[cluster].kubernetesVersion = "1.31"; }, `${mesh}.revisions`, /"asm-1-30" is not compatible with Kubernetes 1\.31; it supports 1\.32 to 1\.36/));
    it("refuses a node count of 0", () =>
        refused((v) => { v[cluster].systemPool.count = 0; }, `${cluster}.systemPool.count`, /integer from 1 to 100; got 0/));
    it("refuses a count outside the autoscaling bounds", () =>
        refused((v) => { v[cluster].systemPool.autoscaling = { minCount: 3, maxCount: 5 }; }, `${cluster}.systemPool.count`, /between autoscaling.minCount \(3\) and maxCount \(5\)/));
    it("refuses an unknown app", () =>
        refused((v) => { v["aks-istio-mesh:apps"] = ["pets", "petstore"]; }, "aks-istio-mesh:apps[1]", /"petstore" is not a built-in app \(pets, bookinfo\)/));
    it("refuses an unknown top-level key", () =>
        refused((v) => { v["aks-istio-mesh:meshh"] = {}; }, "aks-istio-mesh:meshh", /unknown key; did you mean aks-istio-mesh:mesh\? \(allowed keys: aks-istio-mesh:cluster/));
    it("refuses an unknown nested key", () =>
        refused((v) => { v[cluster].systemPool.vmSizes = "x"; }, `${cluster}.systemPool.vmSizes`, /unknown key; did you mean vmSize\? \(allowed keys: vmSize, count, zones, autoscaling/));
    it("refuses a bad zone", () =>
        refused((v) => { v[cluster].systemPool.zones = ["4"]; }, `${cluster}.systemPool.zones[0]`, /allowed: 1, 2, 3/));
    it("refuses disabled local accounts without Entra ID", () =>
        refused((v) => { delete v[cluster].aad; }, `${cluster}.disableLocalAccounts`, /needs cluster.aad/));
    it("refuses a missing location", () =>
        refused((v) => { delete v["azure-native:location"]; }, "azure-native:location", /non-empty string/));
    it("refuses a bad tier", () =>
        refused((v) => { v[cluster].tier = "Gold"; }, `${cluster}.tier`, /allowed: Free, Standard, Premium/));
});

describe("config that is there but not where the program reads it", () => {
    it("says when the stack's config holds no project key at all (a stack file whose top-level word is not config:)", () =>
        assertRefused(() => parseStackConfig("dev", { "azure-native:location": "westeurope" }), "aks-istio-mesh:*", /holds no aks-istio-mesh key at all; is the stack file's top-level key config:/));

    it("takes a region as ARM does, by name or display name", () => {
        for (const location of ["westeurope", "West Europe", "swedencentral"]) {
            assert.strictEqual(parseStackConfig("dev", configValues("dev", (v) => { v["azure-native:location"] = location; })).location, location);
        }
    });
});

describe("the documented existing-cluster examples", () => {
    /** The YAML blocks of docs/existing-cluster.md that hold a whole `config:` map. */
    const examples = (): Record<string, any>[] => {
        const doc = fs.readFileSync(path.join(ROOT, "docs", "existing-cluster.md"), "utf8");
        return [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1])).filter((y) => y && typeof y === "object" && "config" in y).map((y) => y.config);
    };

    it("holds both forms", () => {
        const forms = examples().map((c) => Object.keys(c["aks-istio-mesh:cluster"].existing));
        assert.deepStrictEqual(forms, [["aks"], ["kubeconfig"]]);
    });

    it("accepts each as it is written (the aks form without a Kubernetes version: the cluster has its own)", () => {
        for (const values of examples()) {
            const config = parseStackConfig("shared", values);
            assert.deepStrictEqual(config.mesh.revisions, ["asm-1-30"]);
            if (config.cluster.existing?.kubeconfig) {
                assert.strictEqual(config.observability.enabled, false, "a kubeconfig cluster has no managed Prometheus");
            } else {
                assert.strictEqual(config.cluster.kubernetesVersion, undefined);
            }
        }
    });

    it("still asks a kubeconfig cluster for its version, and still refuses managed Prometheus there when asked for", () => {
        const [, kubeconfig] = examples();
        const without = structuredClone(kubeconfig);
        delete without["aks-istio-mesh:cluster"].kubernetesVersion;
        assertRefused(() => parseStackConfig("shared", without), "aks-istio-mesh:cluster.kubernetesVersion", /is required with existing\.kubeconfig/);
        assertRefused(() => parseStackConfig("shared", { ...kubeconfig, "aks-istio-mesh:observability": { enabled: true } }), "aks-istio-mesh:observability.enabled", /Azure services/);
    });
});
