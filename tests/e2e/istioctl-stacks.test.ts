/**
 * istioctl on what the program renders: `istioctl validate` (istiod's admission checks) and
 * `istioctl analyze --use-kube=false -i aks-istio-system` (with the stack's MeshConfig) on every stack's
 * manifests.yaml, with the istioctl of each revision the stack runs. No error; warnings only where accepted.
 */
import * as assert from "assert";
import { AcceptedWarning, ACCEPTED_WARNINGS } from "./accepted-findings";
import { analysisSet, meshConfigFile, revisionsOf } from "./support/context";
import { analyze, AnalyzerMessage, validate, validateWarnings } from "./support/istioctl";
import { istioctlFor } from "./support/peers";
import { RenderedStack, renderedStacks, stackNames } from "./support/stacks";

async function stack(name: string): Promise<RenderedStack> {
    const found = (await renderedStacks()).find((s) => s.stack === name);
    assert.ok(found, `stack ${name} was not rendered`);
    return found;
}

function line(m: AnalyzerMessage): string {
    return `${m.level} ${m.code} ${m.origin}: ${m.message}`;
}

describe("e2e: istioctl judges every stack's rendered objects", function () {
    for (const name of stackNames()) {
        describe(`stack ${name}`, () => {
            const accepted = ACCEPTED_WARNINGS.filter((a) => !a.stacks || a.stacks.includes(name));
            const used = new Set<AcceptedWarning>();
            const acceptedFor = (from: string, origin: string) => {
                const hit = accepted.find((a) => a.from === from && a.origin === origin);
                if (hit) used.add(hit);
                return hit;
            };

            it("istioctl validate reports no error, and only the warnings accepted with a reason", async () => {
                const s = await stack(name);
                const problems: string[] = [];
                for (const revision of revisionsOf(s.objects)) {
                    const istioctl = await istioctlFor(revision);
                    const r = validate(istioctl.path, s.manifests);
                    if (!r.ok) problems.push(`istioctl ${istioctl.version} (${revision}) validate failed:\n${r.output}`);
                    else problems.push(...validateWarnings(r.output).filter((w) => !acceptedFor("validate", w.origin)).map((w) => `istioctl ${istioctl.version} validate: ${w.origin} ${w.message}`));
                }
                assert.deepStrictEqual(problems, []);
            });

            it("istioctl analyze reports no error, and only the warnings accepted with a reason", async () => {
                const s = await stack(name);
                const problems: string[] = [];
                for (const revision of revisionsOf(s.objects)) {
                    const istioctl = await istioctlFor(revision);
                    for (const m of analyze(istioctl.path, analysisSet(s.objects), meshConfigFile(s.objects, revision))) {
                        if (m.level === "Info") continue;
                        if (m.level === "Error" || !acceptedFor(m.code, m.origin)) problems.push(`istioctl ${istioctl.version} (${revision}): ${line(m)}`);
                    }
                }
                assert.deepStrictEqual(problems, []);
            });

            it("keeps no accepted warning that no longer occurs", () => {
                assert.deepStrictEqual(accepted.filter((a) => !used.has(a)).map((a) => `${a.from} on ${a.origin}: drop it from tests/e2e/accepted-findings.ts`), []);
            });
        });
    }
});
