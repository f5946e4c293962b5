import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SUPPORTED_REVISIONS } from "../../policy-pack/lib/revisions";
import { run } from "../../tools/policy-check";

const ROOT = path.resolve(__dirname, "../..");
const yaml = (p: string) => path.join(__dirname, "fixtures", "yaml", p);

interface JsonReport {
    violations: { policy: string; code?: string; enforcement: string; severity: string; kind: string; namespace?: string; name?: string; message: string }[];
}

describe("policy:check (YAML front door)", () => {
    it("exits 0 on the valid mesh's manifests, read from a directory", async () => {
        const r = await run([yaml("good")]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /^0 violation\(s\), 0 mandatory, in 21 object\(s\) from 1 file\(s\)\n$/);
    });

    it("exits 1 on a mandatory violation and prints the documented JSON shape", async () => {
        const r = await run(["--json", yaml("bad/peer-authentication.yaml")]);
        assert.strictEqual(r.code, 1);
        const report = JSON.parse(r.stdout) as JsonReport;
        assert.deepStrictEqual(report.violations[0], {
            policy: "peer-authentication-strict",
            enforcement: "mandatory",
            severity: "high",
            kind: "PeerAuthentication",
            namespace: "legacy",
            name: "default",
            message: "spec.mtls.mode is PERMISSIVE; only STRICT is allowed, and the pack's config approves no mTLS exception (a stack's mesh.mtlsExceptions reach the pack only through npm run policy:config)",
        });
        for (const v of report.violations) {
            assert.deepStrictEqual(Object.keys(v), ["policy", "code", "enforcement", "severity", "kind", "namespace", "name", "message"].filter((k) => k in v));
        }
    });

    it("reads multi-document files (empty documents too) and List kinds, ignoring kinds no rule reads", async () => {
        const r = await run(["--json", yaml("bad")]);
        const report = JSON.parse(r.stdout) as JsonReport;
        assert.deepStrictEqual(report.violations.filter((v) => v.kind === "VirtualService").map((v) => v.code), ["IST0101", "IST0101"]);
        assert.ok(!report.violations.some((v) => v.kind === "Secret" || v.kind === "Widget"));
        assert.match((await run([yaml("bad")])).stdout, /in 5 object\(s\) from 2 file\(s\)/);
    });

    it("exits 0 when every violation is advisory", async () => {
        const r = await run([yaml("advisory")]);
        assert.strictEqual(r.code, 0);
        assert.match(r.stdout, /ADVISORY  service-port-names \[IST0118\]  Service shop\/web/);
    });

    it("takes a --policy-pack-config file (levels and per-policy settings)", async () => {
        const r = await run(["--json", "--config", yaml("policy-pack-config.json"), yaml("bad")]);
        assert.strictEqual(r.code, 0);
        const report = JSON.parse(r.stdout) as JsonReport;
        assert.ok(report.violations.length > 0 && report.violations.every((v) => v.enforcement === "advisory"));
        assert.ok(!report.violations.some((v) => v.policy === "peer-authentication-strict"));
    });

    it("runs the schema check too: a CRD violation is a mandatory istio-schema finding, in text and JSON, exit 1", async () => {
        const file = yaml("schema/virtual-service.yaml");
        const r = await run(["--json", file]);
        assert.strictEqual(r.code, 1, r.stderr);
        const report = JSON.parse(r.stdout) as JsonReport;
        assert.deepStrictEqual(report.violations.filter((v) => v.policy === "istio-schema"), [{
            policy: "istio-schema",
            enforcement: "mandatory",
            severity: "high",
            kind: "VirtualService",
            namespace: "shop",
            name: "api",
            message: '/spec/http/0/rout: unknown field "rout" (unknown-field; the API server would refuse it)',
        }]);
        assert.ok(report.violations.some((v) => v.policy === "virtual-service-route-action"), "the route left without a destination is the webhook rule's finding");
        const text = await run([file]);
        assert.strictEqual(text.code, 1);
        assert.match(text.stdout, /^MANDATORY istio-schema  VirtualService shop\/api\n {10}\/spec\/http\/0\/rout: unknown field "rout"/m);
    });

    it("checks against the revision it is given, or the one the manifests name", async () => {
        const file = yaml("schema/virtual-service.yaml");
        for (const { revision } of SUPPORTED_REVISIONS) {
            const r = JSON.parse((await run(["--json", "--revision", revision, file])).stdout) as JsonReport;
            assert.strictEqual(r.violations.filter((v) => v.policy === "istio-schema").length, 1, revision);
        }
        assert.strictEqual((await run([yaml("good")])).code, 0, "the good mesh (asm-1-30) passes the schema check");
    });

    const unreadable: [string, string[], RegExp][] = [
        ["invalid YAML", [yaml("unreadable/invalid.yaml")], /invalid\.yaml: invalid YAML: Flow sequence .* at line 5, column 1\n$/],
        ["a document that is no object", [yaml("unreadable/scalar.yaml")], /scalar\.yaml: a document is not a Kubernetes object\n$/],
        ["a missing file", ["no-such.yaml"], /^policy:check: no-such\.yaml: no such file or directory\n$/],
        ["no input", [], /^usage: /],
        ["an unknown option", ["--jsn", yaml("good")], /unknown option --jsn/],
        ["an invalid config", ["--config", yaml("unreadable/scalar.yaml"), yaml("good")], /scalar\.yaml: invalid JSON/],
        ["a config naming no policy", ["--config", yaml("unreadable/unknown-policy.json"), yaml("good")], /unknown-policy\.json: [a-z-]+: is not a policy of this pack/],
        ["a revision the table does not hold", ["--revision", "asm-1-22", yaml("good")], /^policy:check: --revision: "asm-1-22" is not in the revision table; supported: asm-/],
        ["a schema directory without the bundle", ["--schemas", __dirname, yaml("good")], /^policy:check: --schemas: no Istio schema bundle for asm-1-30/],
    ];
    for (const [what, args, message] of unreadable) {
        it(`exits 2 with one message on ${what}`, async () => {
            const r = await run(args);
            assert.strictEqual(r.code, 2);
            assert.strictEqual(r.stdout, "");
            assert.match(r.stderr, message);
            assert.strictEqual(r.stderr.trim().split("\n").length, 1);
        });
    }

    it("exits 2 with one message on a broken link inside a directory", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-check-"));
        try {
            fs.symlinkSync(path.join(dir, "gone.yaml"), path.join(dir, "broken.yaml"));
            const r = await run([dir]);
            assert.strictEqual(r.code, 2);
            assert.strictEqual(r.stderr, `policy:check: ${path.join(dir, "broken.yaml")}: no such file or directory\n`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("sets the process exit code and prints no stack trace when run as a command", function () {
        this.timeout(30000);
        const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "tools/policy-check.ts", ...args], { cwd: ROOT, encoding: "utf8" });
        const bad = cli("--json", yaml("bad"));
        assert.strictEqual(bad.status, 1, bad.stderr);
        assert.ok((JSON.parse(bad.stdout) as JsonReport).violations.length > 0);
        const broken = cli(yaml("unreadable"));
        assert.strictEqual(broken.status, 2);
        assert.doesNotMatch(broken.stderr, /\n\s+at /);
    });
});
