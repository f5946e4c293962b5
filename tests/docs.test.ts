import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { POLICIES } from "../policy-pack/rules";
import { revisionTable, SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { ROOT } from "../tools/offline/runtime";

const README = path.join(ROOT, "README.md");

/** The README's policy table, from the pack's own metadata. */
export function policyTable(): string {
    const rows = POLICIES.map((p) => `| \`${p.name}\` | ${p.description.replace(/\|/g, "\\|")} | ${p.scope} | ${p.enforcement} | ${p.severity} | ${p.code ?? ""} |`);
    return ["| policy | what it checks | scope | level | severity | istioctl |", "|---|---|---|---|---|---|", ...rows].join("\n");
}

describe("README", () => {
    const readme = fs.readFileSync(README, "utf8");

    it("shows the supported-revision table exactly as the data module holds it", () => {
        const rows = readme.split("\n").filter((l) => /^\| asm-\d+-\d+ \|/.test(l));
        const expected = SUPPORTED_REVISIONS.map((r) => `| ${r.revision} | ${r.istio} | ${r.minKubernetes}–${r.maxKubernetes} | ${r.endOfLife} |`);
        assert.deepStrictEqual(rows, expected);
    });

    it("shows the policy table exactly as the pack describes its policies", () => {
        const block = /<!-- policies:start -->\n([\s\S]*?)\n<!-- policies:end -->/.exec(readme);
        assert.ok(block, "README lacks the policies block");
        assert.strictEqual(block[1], policyTable(), "README policy table is stale: put policyTable()'s output between the policies markers");
    });

    it("names the two commands", () => {
        assert.match(readme, /npm ci && npm run preview:offline/);
        assert.match(readme, /^npm test/m);
    });
});

describe("docs/revisions.md", () => {
    it("shows the revision table exactly as policy-pack/lib/revisions.ts holds it", () => {
        const page = fs.readFileSync(path.join(ROOT, "docs", "revisions.md"), "utf8");
        const block = /<!-- revisions:start -->\n([\s\S]*?)\n<!-- revisions:end -->/.exec(page);
        assert.ok(block, "docs/revisions.md lacks the revisions block");
        assert.strictEqual(block[1], revisionTable(), "docs/revisions.md is stale: put revisionTable()'s output between the revisions markers");
    });
});
