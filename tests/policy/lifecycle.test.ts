import * as assert from "assert";
import { endOfLifeProblems, isPastEndOfLife, revisionInfo } from "../../policy-pack/lib/revisions";
import { evaluate } from "../../policy-pack/rules";
import { configValues, parseStackConfig, assertRefused } from "../helpers";
import { cluster, goodMesh, namespace } from "./fixtures/mesh";

/** Runs `body` with the end-of-life clock fixed at `day` (YYYY-MM-DD). */
function on<T>(day: string, body: () => T): T {
    const saved = process.env.AKS_ISTIO_MESH_TODAY;
    process.env.AKS_ISTIO_MESH_TODAY = day;
    try {
        return body();
    } finally {
        if (saved === undefined) {
            delete process.env.AKS_ISTIO_MESH_TODAY;
        } else {
            process.env.AKS_ISTIO_MESH_TODAY = saved;
        }
    }
}

const DAY = "2026-12-03";
const MESH = "aks-istio-mesh:mesh";
const old = (v: Record<string, any>) => { v[MESH].revisions = ["asm-1-29"]; };

describe("revision end of life", () => {
    it("counts a revision as supported through its end-of-life month", () => {
        const info = revisionInfo("asm-1-29")!;
        assert.strictEqual(isPastEndOfLife(info, new Date("2026-09-30T23:59:00Z")), false);
        assert.strictEqual(isPastEndOfLife(info, new Date("2026-10-01T00:00:00Z")), true);
        assert.deepStrictEqual(on(DAY, () => endOfLifeProblems(["asm-1-29", "asm-1-30"])),
            ["asm-1-29 reached its end of life in 2026-09 (the AKS estimate): AKS no longer supports it; upgrade to asm-1-30"]);
        assert.deepStrictEqual(on("2026-08-01", () => endOfLifeProblems(["asm-1-29"])), []);
    });

    it("refuses it for production in config, naming mesh.revisions and the date", () => on(DAY, () => {
        assertRefused(() => parseStackConfig("prod", configValues("prod", old)), `${MESH}.revisions`,
            /asm-1-29 reached its end of life in 2026-09 .*upgrade to asm-1-30 \(the stack's environment is production; a development stack is only warned\)/);
    }));

    it("warns for development, and during a production canary upgrade to a current revision", () => on(DAY, () => {
        const dev = parseStackConfig("dev", configValues("dev", old));
        assert.deepStrictEqual(dev.warnings, [`${MESH}.revisions: asm-1-29 reached its end of life in 2026-09 (the AKS estimate): AKS no longer supports it; upgrade to asm-1-30`]);
        const canary = parseStackConfig("prod", configValues("prod", (v) => { v[MESH].revisions = ["asm-1-29", "asm-1-30"]; }));
        assert.strictEqual(canary.warnings.length, 1);
        assert.deepStrictEqual(parseStackConfig("prod", configValues("prod")).warnings, []);
    }));

    it("is judged by the same date in the pack: mandatory in prod, advisory in dev, once per revision", () => on(DAY, () => {
        const objects = goodMesh();
        const mc = objects.find((o) => o.kind === "ManagedCluster")!;
        (mc as any).properties.serviceMeshProfile.istio.revisions = ["asm-1-29"];
        objects.push(namespace("legacy", { "istio.io/rev": "asm-1-29" }));
        const found = (environment: "prod" | "dev") => evaluate(objects, { environment }).filter((v) => v.policy.startsWith("revision-end-of-life"))
            .map((v) => `${v.policy} ${v.enforcement} ${v.kind}: ${v.message}`);
        const message = "asm-1-29 reached its end of life in 2026-09 (the AKS estimate): AKS no longer supports it; upgrade to asm-1-30";
        assert.deepStrictEqual(found("prod"), [`revision-end-of-life mandatory ManagedCluster: ${message}`]);
        assert.deepStrictEqual(found("dev"), [`revision-end-of-life-dev advisory ManagedCluster: ${message}`]);
    }));

    it("passes a cluster in a canary upgrade to a current revision, and flags a namespace on an old one without a cluster", () => on(DAY, () => {
        const canary = cluster();
        (canary as any).properties.serviceMeshProfile.istio.revisions = ["asm-1-29", "asm-1-30"];
        assert.deepStrictEqual(evaluate([canary]).filter((v) => v.policy === "revision-end-of-life"), []);
        const alone = evaluate([namespace("legacy", { "istio.io/rev": "asm-1-29" })]).filter((v) => v.policy === "revision-end-of-life");
        assert.deepStrictEqual(alone.map((v) => `${v.kind} ${v.name}`), ["Namespace legacy"]);
    }));
});
