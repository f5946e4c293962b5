import * as assert from "assert";
import { evaluate, KubeObject, PackConfigInput, Violation } from "../../policy-pack/rules";
import { goodMesh } from "./fixtures/mesh";

/** Violations as sorted `policy[:code]` strings: the verdict, without message wording. */
export function verdicts(objects: readonly KubeObject[], config?: PackConfigInput): string[] {
    return evaluate(objects, config).map((v) => (v.code ? `${v.policy}:${v.code}` : v.policy)).sort();
}

export interface Case {
    /** What the one changed field is. */
    readonly name: string;
    /** Mutates a fresh copy of the good mesh. */
    readonly change: (objects: KubeObject[]) => void;
    /** Every violation the change causes, as `policy[:code]`, repeated per finding. */
    readonly expect: readonly string[];
    readonly config?: PackConfigInput;
}

/** Every case `cases` defined, with its mocha test (the istioctl parity table replays them: tests/e2e/parity.ts). */
export const REGISTERED_CASES: { readonly test: Mocha.Test; readonly case: Case }[] = [];

/** One `it` per case: fresh good mesh, one change, exactly the expected verdicts (nothing collateral). */
export function cases(table: readonly Case[]): void {
    for (const c of table) {
        const test = it(c.name, () => {
            const objects = goodMesh();
            c.change(objects);
            assert.deepStrictEqual(verdicts(objects, c.config), [...c.expect].sort());
        });
        REGISTERED_CASES.push({ test, case: c });
    }
}

export function messages(objects: readonly KubeObject[], policy: string, config?: PackConfigInput): string[] {
    return evaluate(objects, config).filter((v: Violation) => v.policy === policy).map((v) => v.message);
}

export function remove(objects: KubeObject[], kind: string, name: string): void {
    const i = objects.findIndex((o) => o.kind === kind && o.metadata?.name === name);
    assert.ok(i >= 0, `fixture has no ${kind} ${name}`);
    objects.splice(i, 1);
}
