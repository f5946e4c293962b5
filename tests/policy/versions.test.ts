import * as assert from "assert";
import { KubeObject } from "../../policy-pack/rules";
import { brokenMesh, goodMesh } from "./fixtures/mesh";
import { verdicts } from "./helpers";

/** Rewrites the version of every object of a group (EnvoyFilter exists only as v1alpha3 and keeps it). */
function atVersion(objects: KubeObject[], group: string, version: string): KubeObject[] {
    return objects.map((o) => (String(o.apiVersion).startsWith(`${group}/`) && o.kind !== "EnvoyFilter" ? { ...o, apiVersion: `${group}/${version}` } : o));
}

describe("policy: every served Istio API version", () => {
    const served: [string, string[]][] = [
        ["networking.istio.io", ["v1beta1", "v1alpha3"]],
        ["security.istio.io", ["v1beta1"]],
    ];
    for (const [group, versions] of served) {
        for (const version of versions) {
            it(`gives the same verdicts for ${group}/${version} as for v1`, () => {
                for (const mesh of [goodMesh, brokenMesh]) {
                    const rewritten = atVersion(mesh(), group, version);
                    assert.ok(rewritten.some((o) => o.apiVersion === `${group}/${version}`));
                    assert.deepStrictEqual(verdicts(rewritten), verdicts(mesh()));
                }
            });
        }
    }
});
