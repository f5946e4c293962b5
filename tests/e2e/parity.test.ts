/**
 * Policy pack vs istioctl analyze on the pack's own fixtures: every disagreement on a code the pack claims is
 * deliberate and explained, and docs/istioctl-parity.md is exactly the table this run produces.
 */
import * as assert from "assert";
import * as fs from "fs";
import { CodeRow, DOC, FIXTURE_REVISION, parity, reasonFor, unexplained } from "./parity";
import { REASONS } from "./parity-reasons";
import { istioctlFor } from "./support/peers";

describe("e2e: policy pack vs istioctl analyze on the pack's fixtures", function () {
    let rows: CodeRow[];
    let doc: string;
    let skipped: string[];

    before(async function () {
        const istioctl = await istioctlFor(FIXTURE_REVISION);
        ({ rows, doc, skipped } = await parity(istioctl.path, istioctl.version));
    });

    it("explains every disagreement on a code the pack claims (pack-only with the AKS reason, or istioctl-only)", () => {
        assert.deepStrictEqual(unexplained(rows), []);
    });

    it("keeps no reason for a disagreement that no longer happens", () => {
        const stale = REASONS.filter((r) => !rows.some((row) => row.code === r.code
            && (r.side === "pack-only" ? row.packOnly : row.istioctlOnly).some((t) => reasonFor(r.code, r.side, t) === r.reason)));
        assert.deepStrictEqual(stale.map((r) => `${r.code} ${r.side}: ${r.reason}`), []);
    });

    it("names only analyzers istioctl really skips offline as the reason for a pack-only case", () => {
        assert.deepStrictEqual(REASONS.filter((r) => r.skipped && !skipped.includes(r.skipped)).map((r) => `${r.code}: ${r.skipped}`), []);
    });

    it("publishes the table in docs/istioctl-parity.md as generated", () => {
        const published = fs.existsSync(DOC) ? fs.readFileSync(DOC, "utf8") : "";
        assert.ok(published === doc, "docs/istioctl-parity.md is out of date: run npm run parity:istioctl -- --write");
    });
});
