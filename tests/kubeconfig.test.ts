import * as assert from "assert";
import { parse, stringify } from "yaml";
import { kubeloginArgs, KubeloginMode, withKubeloginMode } from "../components/kubeconfig";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const AKS_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a";
const TENANT = "11111111-1111-1111-1111-111111111111";

/** The exec user AKS returns for an Entra ID cluster (listClusterUserCredential, format exec). */
function aksKubeconfig(extraArgs: string[] = []): string {
    return stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: "https://c.hcp.westeurope.azmk8s.io:443" } }],
        contexts: [{ name: "c", context: { cluster: "c", user: "clusterUser_rg_c" } }],
        "current-context": "c",
        users: [{
            name: "clusterUser_rg_c",
            user: {
                exec: {
                    apiVersion: "client.authentication.k8s.io/v1beta1",
                    command: "kubelogin",
                    args: ["get-token", "--environment", "AzurePublicCloud", "--server-id", SERVER_ID, "--client-id", AKS_CLIENT_ID, "--tenant-id", TENANT, "--login", "devicecode", ...extraArgs],
                    env: [{ name: "KUBELOGIN_HINT", value: "x" }],
                    installHint: "install kubelogin",
                    provideClusterInfo: false,
                },
            },
        }],
    });
}

function execOf(kubeconfig: string): Record<string, any> {
    return parse(kubeconfig).users[0].user.exec;
}

describe("kubelogin login modes (what convert-kubeconfig writes)", () => {
    const expected: Record<KubeloginMode, string[]> = {
        // The CLI session decides the tenant: a kept --tenant-id breaks `az login --identity`.
        azurecli: ["get-token", "--login", "azurecli", "--server-id", SERVER_ID],
        // A kept AKS client id would be looked up as a user-assigned identity ("Identity not found").
        msi: ["get-token", "--login", "msi", "--server-id", SERVER_ID],
        // Identity, tenant and token file come from AZURE_* variables.
        workloadidentity: ["get-token", "--login", "workloadidentity", "--server-id", SERVER_ID],
        // Client and tenant stay; AAD_SERVICE_PRINCIPAL_* / AZURE_CLIENT_* override the client.
        spn: ["get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", AKS_CLIENT_ID, "--tenant-id", TENANT, "--environment", "AzurePublicCloud"],
    };
    for (const [mode, args] of Object.entries(expected) as [KubeloginMode, string[]][]) {
        it(`${mode}: keeps exactly the arguments that mode takes`, () => {
            const exec = execOf(withKubeloginMode(aksKubeconfig(), mode));
            assert.deepStrictEqual(exec.args, args);
            assert.strictEqual(exec.command, "kubelogin");
            assert.strictEqual(exec.env, undefined, "convert-kubeconfig writes no env of the old exec block");
            assert.strictEqual(exec.installHint, "install kubelogin");
        });
    }

    it("spn keeps --legacy for AAD v1 audiences", () => {
        assert.ok(kubeloginArgs(["get-token", "--server-id", "s", "--client-id", "c", "--tenant-id", "t", "--legacy"], "spn").includes("--legacy"));
        assert.ok(!kubeloginArgs(["get-token", "--server-id", "s", "--legacy"], "azurecli").includes("--legacy"));
    });

    it("refuses a kubelogin user without --server-id, and spn without a tenant", () => {
        assert.throws(() => kubeloginArgs(["get-token", "--login", "devicecode"], "azurecli"), /--server-id/);
        assert.throws(() => kubeloginArgs(["get-token", "--server-id", "s", "--client-id", "c"], "spn"), /spn login needs --tenant-id/);
    });

    it("leaves users that do not run kubelogin alone", () => {
        const cert = stringify({ users: [{ name: "u", user: { "client-certificate-data": "QQ==", "client-key-data": "QQ==" } }, { name: "o", user: { exec: { command: "gke-gcloud-auth-plugin", args: ["--x"] } } }] });
        assert.deepStrictEqual(parse(withKubeloginMode(cert, "msi")), parse(cert));
    });
});
