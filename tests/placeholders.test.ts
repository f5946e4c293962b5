import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { placeholderKeys } from "../config";
import { runProgram } from "../tools/offline/runtime";
import { configValues, parseStackConfig, stackRun } from "./helpers";

const PROD_PLACEHOLDERS = ["aks-istio-mesh:ingress.tls.keyVaultId", "aks-istio-mesh:mesh.certificateAuthority.keyVaultId", "aks-istio-mesh:ingress.hosts.pets", "aks-istio-mesh:ingress.hosts.bookinfo"];

describe("example values in the committed stack files", () => {
    it("are allowed offline: the prod preview renders the whole stack", async () => {
        const run = await stackRun("prod");
        assert.ok(run.resources.some((r) => r.type === "azure-native:containerservice:ManagedCluster"));
    });

    it("stop a real preview or up before any resource, with one line naming every key to set", async () => {
        await assert.rejects(runProgram({ stack: "prod", asRealEngine: true }), (e: Error) => {
            assert.ok(pulumi.RunError.isInstance(e), `expected a RunError, got ${e.name}`);
            assert.ok(e.message.startsWith(`${PROD_PLACEHOLDERS.join(", ")}: still hold the example values`), e.message);
            assert.doesNotMatch(e.message, /\n/);
            return true;
        });
    });

    it("let a real run through once the keys hold real values", async () => {
        const values = configValues("prod", (v) => {
            v["aks-istio-mesh:ingress"].hosts = { pets: "shop.contoso.com", bookinfo: "books.contoso.com" };
            v["aks-istio-mesh:ingress"].tls.keyVaultId = v["aks-istio-mesh:ingress"].tls.keyVaultId.replace(/00000000-0000-0000-0000-000000000000/, "6b0e4c1e-54a8-4a4e-9a43-2f1e0c6d7a11");
            const ca = v["aks-istio-mesh:mesh"].certificateAuthority;
            ca.keyVaultId = ca.keyVaultId.replace(/00000000-0000-0000-0000-000000000000/, "6b0e4c1e-54a8-4a4e-9a43-2f1e0c6d7a11");
        });
        assert.deepStrictEqual(placeholderKeys(parseStackConfig("prod", values)), []);
        const run = await runProgram({ stack: "prod", values, asRealEngine: true });
        assert.ok(run.resources.length > 100);
    });

    it("dev carries none: it runs as the real engine would", async () => {
        assert.deepStrictEqual(placeholderKeys(parseStackConfig("dev", configValues("dev"))), []);
    });
});
