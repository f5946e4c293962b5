import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { run } from "../../tools/policy-check";

const ROOT = path.resolve(__dirname, "../..");
const yaml = (p: string) => path.join(__dirname, "fixtures", "yaml", p);

interface JsonReport {
    violations: { policy: string; code?: string; enforcement: string; severity: string; kind: string; namespace?: string; name?: string; message: string }[];
}

describe("policy:check (YAML front door)", () => {
    it("exits 0 on the valid mesh's manifests, read from a directory", () => {
        const r = run([yaml("good")]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /^0 violation\(s\), 0 mandatory, in 21 object\(s\) from 1 file\(s\)\n$/);
    });

    it("exits 1 on a mandatory violation and prints the documented JSON shape", () => {
        const r = run(["--json", yaml("bad/peer-authentication.yaml")]);
        assert.strictEqual(r.code, 1);
        const report = JSON.parse(r.stdout) as JsonReport;
        assert.deepStrictEqual(report.violations[0], {
            policy: "peer-authentication-strict",
            enforcement: "mandatory",
            severity: "high",
            kind: "PeerAuthentication",
            namespace: "legacy",
            name: "default",
            message: "spec.mtls.mode is PERMISSIVE; only STRICT is allowed unless an mtlsExceptions entry covers this namespace/selector",
        });
        for (const v of report.violations) {
            assert.deepStrictEqual(Object.keys(v), ["policy", "code", "enforcement", "severity", "kind", "namespace", "name", "message"].filter((k) => k in v));
        }
    });

    it("reads multi-document files (empty documents too) and List kinds, ignoring kinds no rule reads", () => {
        const r = run(["--json", yaml("bad")]);
        const report = JSON.parse(r.stdout) as JsonReport;
        assert.deepStrictEqual(report.violations.filter((v) => v.kind === "VirtualService").map((v) => v.code), ["IST0101", "IST0101"]);
        assert.ok(!report.violations.some((v) => v.kind === "Secret" || v.kind === "Widget"));
        assert.match(run([yaml("bad")]).stdout, /in 5 object\(s\) from 2 file\(s\)/);
    });

    it("exits 0 when every violation is advisory", () => {
        const r = run([yaml("advisory")]);
        assert.strictEqual(r.code, 0);
        assert.match(r.stdout, /ADVISORY  service-port-names \[IST0118\]  Service shop\/web/);
    });

    it("takes a --policy-pack-config file (levels and per-policy settings)", () => {
        const r = run(["--json", "--config", yaml("policy-pack-config.json"), yaml("bad")]);
        assert.strictEqual(r.code, 0);
        const report = JSON.parse(r.stdout) as JsonReport;
        assert.ok(report.violations.length > 0 && report.violations.every((v) => v.enforcement === "advisory"));
        assert.ok(!report.violations.some((v) => v.policy === "peer-authentication-strict"));
    });

    const unreadable: [string, string[], RegExp][] = [
        ["invalid YAML", [yaml("unreadable/invalid.yaml")], /invalid\.yaml: invalid YAML: Flow sequence .* at line 5, column 1\n$/],
        ["a document that is no object", [yaml("unreadable/scalar.yaml")], /scalar\.yaml: a document is not a Kubernetes object\n$/],
        ["a missing file", ["no-such.yaml"], /^policy:check: no-such\.yaml: no such file or directory\n$/],
        ["no input", [], /^usage: /],
        ["an unknown option", ["--jsn", yaml("good")], /unknown option --jsn/],
        ["an invalid config", ["--config", yaml("unreadable/scalar.yaml"), yaml("good")], /scalar\.yaml: invalid JSON/],
        ["a config naming no policy", ["--config", yaml("unreadable/unknown-policy.json"), yaml("good")], /is not a policy of this pack/],
    ];
    for (const [what, args, message] of unreadable) {
        it(`exits 2 with one message on ${what}`, () => {
            const r = run(args);
            assert.strictEqual(r.code, 2);
            assert.strictEqual(r.stdout, "");
            assert.match(r.stderr, message);
            assert.strictEqual(r.stderr.trim().split("\n").length <= 2, true);
        });
    }

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
