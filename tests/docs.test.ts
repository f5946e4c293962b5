import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { ROOT } from "../tools/offline/runtime";

describe("README", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

    it("shows the supported-revision table exactly as the data module holds it", () => {
        const rows = readme.split("\n").filter((l) => /^\| asm-\d+-\d+ \|/.test(l));
        const expected = SUPPORTED_REVISIONS.map((r) => `| ${r.revision} | ${r.istio} | ${r.minKubernetes}–${r.maxKubernetes} | ${r.endOfLife} |`);
        assert.deepStrictEqual(rows, expected);
    });

    it("names the two commands", () => {
        assert.match(readme, /npm ci && npm run preview:offline/);
        assert.match(readme, /^npm test/m);
    });
});
