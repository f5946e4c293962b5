/**
 * What the program grants in Azure, for every stack a pull request previews (the stacks with an Azure
 * region, as .github/scripts/stacks.mjs lists them): Entra ID with Azure RBAC and no local accounts, so that a
 * preview identity's user credential carries no Kubernetes rights of its own; read-only roles for the
 * configured readers, scoped to the stack's resource group and cluster; and role assignments only of the
 * program's roles, only on scopes the deploy identity's RBAC administrator right covers (the stack's resource
 * group and the ingress certificate's Key Vault, docs/identities-and-ci.md).
 */
import * as assert from "assert";
import { CLUSTER_READER_ROLES, ROLES } from "../components/roles";
import { ofType, one, stackConfig, stackRun, stacksWhere, variantRun } from "./helpers";

const MC = "azure-native:containerservice:ManagedCluster";
const RG = "azure-native:resources:ResourceGroup";
const RA = "azure-native:authorization:RoleAssignment";
const CLUSTER = "aks-istio-mesh:cluster";
const READERS = ["11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-000000000000"];
const roleOf = (roleDefinitionId: unknown): string => String(roleDefinitionId).split("/").pop()!.toLowerCase();

describe("identities: what the program grants", () => {
    const azureStacks = stacksWhere((c) => c.location !== undefined && !c.cluster.existing);

    it("covers the stacks pull requests preview on Azure (dev and prod)", () => {
        for (const stack of ["dev", "prod"]) assert.ok(azureStacks.includes(stack), `${stack} is not an Azure stack`);
    });

    for (const stack of azureStacks) {
        describe(`${stack} stack`, () => {
            it("runs Entra ID with Azure RBAC and no local accounts, so no credential of the cluster is admin by itself", async () => {
                const mc = one(await stackRun(stack), MC).inputs as any;
                assert.strictEqual(mc.aadProfile?.managed, true, `${stack}: aadProfile.managed`);
                assert.strictEqual(mc.aadProfile?.enableAzureRBAC, true, `${stack}: aadProfile.enableAzureRBAC`);
                assert.strictEqual(mc.disableLocalAccounts, true, `${stack}: local accounts (a static admin credential) must be off`);
                assert.strictEqual(mc.enableRBAC, true);
            });

            it("gives each configured reader exactly Reader on the resource group and Cluster User + RBAC Reader on the cluster", async () => {
                const run = await variantRun(stack, (v) => { v[CLUSTER].aad.readerPrincipalIds = READERS; });
                const rg = one(run, RG).id;
                const cluster = one(run, MC).id;
                const granted = ofType(run, RA).filter((r) => READERS.includes(String(r.inputs.principalId)));
                const scopeOf = { resourceGroup: rg, cluster } as const;
                const expected = READERS.flatMap((p) => CLUSTER_READER_ROLES.map((g) => `${p} ${g.role} ${scopeOf[g.scope]}`)).sort();
                assert.deepStrictEqual(granted.map((r) => `${r.inputs.principalId} ${roleOf(r.inputs.roleDefinitionId)} ${r.inputs.scope}`).sort(), expected);
                for (const r of granted) assert.strictEqual(r.inputs.principalType, "ServicePrincipal");
                assert.deepStrictEqual(CLUSTER_READER_ROLES.map((g) => g.role), [ROLES.reader, ROLES.aksClusterUser, ROLES.aksRbacReader]);
            });

            it("assigns only the program's roles, and only inside the stack's resource group or the certificate's Key Vault", async () => {
                const run = await variantRun(stack, (v) => { v[CLUSTER].aad.readerPrincipalIds = READERS; });
                const rg = String(one(run, RG).id);
                const vault = stackConfig(stack).ingress.tls?.keyVaultId;
                const known = new Set<string>(Object.values(ROLES));
                const assignments = ofType(run, RA);
                assert.ok(assignments.length > 0);
                for (const r of assignments) {
                    const scope = String(r.inputs.scope);
                    assert.ok(known.has(roleOf(r.inputs.roleDefinitionId)), `${r.name}: ${roleOf(r.inputs.roleDefinitionId)} is not in components/roles.ts`);
                    assert.ok(scope === rg || scope.startsWith(`${rg}/`) || (vault !== undefined && scope === vault),
                        `${r.name}: scope ${scope} is outside ${rg}${vault ? ` and ${vault}` : ""}, where the deploy identity may not grant`);
                }
            });
        });
    }

    it("grants readers nothing on a cluster without Entra ID, where the user credential would be cluster-admin", async () => {
        const run = await variantRun("dev", (v) => { delete v[CLUSTER].aad; v[CLUSTER].disableLocalAccounts = false; });
        assert.strictEqual((one(run, MC).inputs as any).aadProfile, undefined);
        assert.ok(!ofType(run, RA).some((r) => [ROLES.aksClusterUser, ROLES.aksRbacReader].includes(roleOf(r.inputs.roleDefinitionId) as never)));
    });
});
