/**
 * istioctl on what the program renders: `istioctl validate` (istiod's admission checks) and
 * `istioctl analyze --use-kube=false -i aks-istio-system` (with the stack's MeshConfig) on every stack's
 * manifests.yaml, with the istioctl of each revision the stack runs. No error; warnings only where accepted.
 */
import * as assert from "assert";
import { ACCEPTED_WARNINGS } from "./accepted-findings";
import { analysisSet, meshConfigFile, revisionsOf } from "./support/context";
import { analyze, AnalyzerMessage, validate } from "./support/istioctl";
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
            it("istioctl validate reports no error", async () => {
                const s = await stack(name);
                for (const revision of revisionsOf(s.objects)) {
                    const istioctl = await istioctlFor(revision);
                    const r = validate(istioctl.path, s.manifests);
                    assert.ok(r.ok, `istioctl ${istioctl.version} (${revision}) validate ${name}:\n${r.output}`);
                }
            });

            it("istioctl analyze reports no error, and only the warnings accepted with a reason", async () => {
                const s = await stack(name);
                const accepted = ACCEPTED_WARNINGS.filter((a) => !a.stacks || a.stacks.includes(name));
                const used = new Set<number>();
                const problems: string[] = [];
                for (const revision of revisionsOf(s.objects)) {
                    const istioctl = await istioctlFor(revision);
                    for (const m of analyze(istioctl.path, analysisSet(s.objects), meshConfigFile(s.objects, revision))) {
                        if (m.level === "Info") continue;
                        const i = accepted.findIndex((a) => m.level === "Warning" && a.code === m.code && a.origin === m.origin);
                        if (i < 0) problems.push(`istioctl ${istioctl.version} (${revision}): ${line(m)}`);
                        else used.add(i);
                    }
                }
                accepted.forEach((a, i) => used.has(i) || problems.push(`accepted ${a.code} on ${a.origin} no longer occurs: drop it from tests/e2e/accepted-findings.ts`));
                assert.deepStrictEqual(problems, []);
            });
        });
    }
});
