import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../policy-pack/lib/errors";
import { SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { checkRevisions, defaultRevisions, portInUse, portsFor } from "../tools/cluster";
import { kubeconfig } from "../tools/cluster/pki";
import { ROOT } from "../tools/offline/runtime";

/** Shell scripts answering each binary's version command, so `up` gets past binary resolution. */
function fakeControlPlane(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-cp-"));
    const outputs: Record<string, string> = {
        etcd: "etcd Version: 3.6.16",
        "kube-apiserver": "Kubernetes v1.34.4",
        "kube-controller-manager": "Kubernetes v1.34.4",
        "kube-scheduler": "Kubernetes v1.34.4",
        kubectl: "Client Version: v1.34.4",
        kwok: "kwok version v0.8.0",
    };
    for (const [name, output] of Object.entries(outputs)) {
        fs.writeFileSync(path.join(dir, name), `#!/bin/sh\necho '${output}'\n`, { mode: 0o755 });
    }
    return dir;
}

function clusterLocal(args: string[], env: NodeJS.ProcessEnv) {
    return spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "tools/cluster-local.ts"), ...args], { cwd: ROOT, env, encoding: "utf8" });
}

describe("cluster:local", () => {
    it("installs revisions oldest first (the newest CRDs win) and refuses unknown or empty ones", () => {
        assert.deepEqual(checkRevisions(["asm-1-30", "asm-1-29", "asm-1-30"]), ["asm-1-29", "asm-1-30"]);
        assert.throws(() => checkRevisions(["asm-1-99"]), (e: Error) => e instanceof ConfigError && e.path === "--revisions" && /asm-1-29, asm-1-30/.test(e.message));
        assert.throws(() => checkRevisions([]), ConfigError);
    });

    it("defaults to the local stack's revisions, else the newest supported one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-stack-"));
        assert.deepEqual(defaultRevisions(dir), [SUPPORTED_REVISIONS[SUPPORTED_REVISIONS.length - 1].revision]);
        fs.writeFileSync(path.join(dir, "Pulumi.local.yaml"), "config:\n  aks-istio-mesh:mesh:\n    revisions: [asm-1-29, asm-1-30]\n");
        assert.deepEqual(defaultRevisions(dir), ["asm-1-29", "asm-1-30"]);
        fs.writeFileSync(path.join(dir, "Pulumi.local.yaml"), "config: [\n");
        assert.throws(() => defaultRevisions(dir), (e: Error) => e instanceof ConfigError && e.path.endsWith("Pulumi.local.yaml") && !e.message.includes("\n"));
    });

    it("keeps every port on distinct numbers derived from one base", () => {
        const ports = Object.values(portsFor(36000));
        assert.equal(new Set(ports).size, ports.length);
        assert.equal(portsFor(36000)["kube-apiserver"], 36443);
    });

    it("sees a port another process listens on as in use", async () => {
        const server = net.createServer().listen(0, "127.0.0.1");
        await new Promise((r) => server.once("listening", r));
        const { port } = server.address() as net.AddressInfo;
        try {
            assert.equal(await portInUse(port), true);
        } finally {
            server.close();
        }
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(await portInUse(port), false);
    });

    it("writes kubeconfigs that point at the PKI's files for the named client", () => {
        const text = kubeconfig("/state/pki", "https://127.0.0.1:36443", "admin");
        assert.match(text, /server: https:\/\/127\.0\.0\.1:36443/);
        assert.match(text, /client-certificate: \/state\/pki\/admin\.crt/);
        assert.match(text, /certificate-authority: \/state\/pki\/ca\.crt/);
    });

    it("refuses `up` in one line with exit 2 when a port is taken, starting nothing and leaving no state", async () => {
        const server = net.createServer().listen(0, "127.0.0.1");
        await new Promise((r) => server.once("listening", r));
        const apiPort = (server.address() as net.AddressInfo).port;
        const state = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cluster-")), "state");
        try {
            const r = clusterLocal(["up", "--port-base", String(apiPort - 443)], {
                PATH: `${fakeControlPlane()}${path.delimiter}${process.env.PATH}`,
                AKS_ISTIO_MESH_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), "tools-cache-")),
                AKS_ISTIO_MESH_CLUSTER_DIR: state,
            });
            assert.equal(r.status, 2, r.stderr);
            assert.equal(r.stderr.trim(), `error: port: 127.0.0.1:${apiPort} (for kube-apiserver) is in use; stop what listens there or choose other ports with --port-base`);
            assert.ok(!fs.existsSync(state), "no state directory was left");
        } finally {
            server.close();
        }
    });

    it("refuses `up` with exit 2 naming the binary and `npm run tools` when the control plane is not installed", () => {
        const r = clusterLocal(["up"], {
            PATH: path.dirname(process.execPath),
            AKS_ISTIO_MESH_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), "tools-cache-")),
            AKS_ISTIO_MESH_CLUSTER_DIR: path.join(os.tmpdir(), "cluster-never"),
        });
        assert.equal(r.status, 2, r.stderr);
        assert.equal(r.stderr.trim(), "error: etcd: 3.6.16 is not installed; run `npm run tools` first (it builds it once into the cache)");
    });

    it("rejects an unknown command or option with the usage", () => {
        const r = clusterLocal(["start"], { PATH: path.dirname(process.execPath) });
        assert.equal(r.status, 2);
        assert.match(r.stderr, /^error: start: is not a command or option; usage: up\|down\|status/);
    });
});
