import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../tools/offline/runtime";
import { STACKS } from "./helpers";

function preview(args: string[], root = ROOT, env: NodeJS.ProcessEnv = process.env) {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "tools/preview.ts"), ...args], {
        cwd: root, encoding: "utf8", env,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the working tree as a fresh clone has it: no fetched bundles, no shared/ beside it. */
function freshClone(into: string): string {
    const root = path.join(into, "clone");
    const skip = new Set(["node_modules", ".git", "schemas", "out", "tests", "docs"].map((d) => path.join(ROOT, d)));
    fs.cpSync(ROOT, root, { recursive: true, filter: (src) => !skip.has(src) });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(root, "node_modules"));
    return root;
}

describe("preview:offline", () => {
    let tmp: string;
    before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), "preview-")); });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("previews a stack, prints the tree and writes its files", () => {
        const out = path.join(tmp, "dev");
        const r = preview(["--stack", "dev", "--out", out]);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /azure-native:containerservice:ManagedCluster\s+aks-aks/);
        assert.match(r.stdout, /mesh\s+Istio asm-1-30; ingress gateways: External enabled/);
        const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8"));
        for (const r of resources) {
            for (const key of ["urn", "type", "name", "dependencies", "inputs"]) {
                assert.ok(key in r, `resources.json entry ${r.name} lacks ${key}`);
            }
        }
        const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
        assert.strictEqual(report.stack, "dev");
        assert.strictEqual(report.counts.resources, resources.length);
        assert.ok(fs.existsSync(path.join(out, "manifests.yaml")));
        assert.strictEqual(fs.readFileSync(path.join(out, "mesh.svg"), "utf8"), fs.readFileSync(path.join(ROOT, "docs", "mesh-dev.svg"), "utf8"),
            "the README's picture (docs/mesh-dev.svg) is not the dev stack's current mesh.svg: copy it over");
        assert.doesNotMatch(fs.readFileSync(path.join(out, "resources.json"), "utf8"), /client-key-data/, "kubeconfig leaked");
    });

    it("refuses a bad revision with one message naming the key, exit 2, no stack trace", () => {
        const file = path.join(tmp, "bad.yaml");
        const values = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
        values.config["aks-istio-mesh:mesh"].revisions = ["1.23"];
        fs.writeFileSync(file, JSON.stringify(values));
        const r = preview(["--stack", "dev", "--config", file, "--out", path.join(tmp, "bad")]);
        assert.strictEqual(r.code, 2);
        assert.match(r.stderr, /^error: stack dev: aks-istio-mesh:mesh\.revisions: "1\.23" is not a revision name/);
        assert.doesNotMatch(r.stderr, /\n\s+at /, "stack trace printed");
        assert.ok(!fs.existsSync(path.join(tmp, "bad", "resources.json")), "half-built output written");
    });

    it("stops a new stack whose pack config was never generated, naming the command (exit 2), instead of judging it as prod", () => {
        const root = freshClone(fs.mkdtempSync(path.join(tmp, "new-stack-")));
        fs.copyFileSync(path.join(root, "Pulumi.dev.yaml"), path.join(root, "Pulumi.qa.yaml"));
        const r = preview(["--stack", "qa", "--out", path.join(tmp, "qa")], root);
        assert.strictEqual(r.code, 2, r.stdout + r.stderr);
        assert.strictEqual(r.stderr, "error: stack qa: policy-pack/config/qa.json: is missing: without it the pack judges stack qa by its defaults (as prod, no mTLS exceptions); run npm run policy:config -- qa\n");
    });

    it("stops a stack switched to production whose pack config still says dev (exit 2, one line)", () => {
        const values = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
        values.config["aks-istio-mesh:environment"] = { kind: "production", requireTls: false, highAvailability: false };
        const file = path.join(tmp, "Pulumi.dev-production.yaml");
        fs.writeFileSync(file, JSON.stringify(values));
        const r = preview(["--stack", "dev", "--config", file, "--out", path.join(tmp, "switched")]);
        assert.strictEqual(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stderr, /^error: stack dev: policy-pack\/config\/dev\.json: is stale: it was not generated from the settings .*Pulumi\.dev-production\.yaml holds now .*; run npm run policy:config -- dev\n$/);
    });

    it("refuses at config a duration the CRDs' CEL rule would refuse later, naming the key (exit 2)", () => {
        // 0.5ms is a well-formed duration, but Istio's CRDs want at least 1ms: config says so before any
        // object is rendered (the schema check's CEL finding on a rendered object is tested in schema.test.ts).
        const values = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
        values.config["aks-istio-mesh:mesh"].resilience = { retries: { perTryTimeout: "0.5ms" } };
        const file = path.join(tmp, "cel.yaml");
        fs.writeFileSync(file, JSON.stringify(values));
        const r = preview(["--stack", "dev", "--config", file, "--out", path.join(tmp, "cel")]);
        assert.strictEqual(r.code, 2, r.stderr);
        assert.match(r.stderr, /^error: stack dev: aks-istio-mesh:mesh\.resilience\.retries\.perTryTimeout: "0\.5ms" is too short: must be at least 1ms/);
        assert.ok(!fs.existsSync(path.join(tmp, "cel", "resources.json")), "half-built output written");
    });

    it("refuses a schema directory without the stack's bundles instead of skipping the check", () => {
        const r = preview(["--stack", "dev", "--schemas", tmp, "--out", path.join(tmp, "noschemas")]);
        assert.strictEqual(r.code, 2);
        assert.match(r.stderr, /^error: stack dev: --schemas: no Istio schema bundle for asm-1-30 \(looked in .*1\.30\.3\)/);
    });

    it("on a fresh clone fetches the missing bundles, and says in one line why when it cannot", async () => {
        const root = freshClone(tmp);
        // A port that was just free: nothing listens there, so the connection is refused.
        const closed = await new Promise<number>((resolve) => {
            const server = net.createServer().listen(0, "127.0.0.1", () => {
                const { port } = server.address() as net.AddressInfo;
                server.close(() => resolve(port));
            });
        });
        const env = { ...process.env, AKS_ISTIO_MESH_SCHEMAS: "", ISTIO_SOURCE_URL: `http://127.0.0.1:${closed}` };
        const r = preview(["--stack", "dev", "--out", path.join(tmp, "fresh")], root, env);
        assert.strictEqual(r.code, 2, r.stdout + r.stderr);
        const lines = r.stderr.trim().split("\n");
        assert.match(lines[0], /^Istio 1\.30\.3 \(asm-1-30\): downloading http:\/\/127\.0\.0\.1:\d+\/1\.30\.3\//);
        assert.match(lines[1], /^error: stack dev: --schemas: no Istio 1\.30\.3 CRDs for asm-1-30 and cannot download .*: connection refused; offline\? pass --schemas <dir> holding 1\.30\.3\/crd-all\.gen\.yaml$/);
        assert.strictEqual(lines.length, 2, r.stderr);
        assert.ok(!fs.existsSync(path.join(tmp, "fresh", "report.json")), "a report without the schema check was written");
    });

    it("refuses an out directory it cannot write with one line (exit 2), no stack trace", () => {
        const file = path.join(tmp, "a-file");
        fs.writeFileSync(file, "");
        const r = preview(["--stack", "dev", "--out", path.join(file, "dev")]);
        assert.strictEqual(r.code, 2, r.stderr);
        assert.match(r.stderr, /^error: stack dev: --out: .*a-file\/dev cannot be written \(ENOTDIR\)\n$/);
    });

    it("refuses an unknown stack and an unknown flag with exit 2", () => {
        const r = preview(["--stack", "staging"]);
        assert.strictEqual(r.code, 2);
        assert.ok(r.stderr.includes(`unknown stack "staging"`) && r.stderr.includes(`stacks here: ${STACKS.join(", ")}`), r.stderr);
        const f = preview(["--stak", "dev"]);
        assert.strictEqual(f.code, 2);
        assert.match(f.stderr, /--stak: is not an argument of preview:offline/);
    });
});
