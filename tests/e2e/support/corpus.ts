/**
 * The differential corpus (tests/e2e/corpus/*.yaml): one Istio object per file, with a header saying what
 * it exercises and who judges it:
 *   # <why the object is (in)valid>
 *   # check: valid | unknown-field | schema | cel | list-type | metadata | webhook/<check function>
 *   # judge: apiserver and/or istioctl
 *   # expect: accept | reject
 *   # rule: <CEL message>          (cel cases: the rule it breaks)
 */
import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { KubeObject } from "../../../policy-pack/rules";

export const CORPUS_DIR = path.resolve(__dirname, "..", "corpus");

export type Judge = "apiserver" | "istioctl";

export interface CorpusCase {
    readonly name: string;
    readonly file: string;
    readonly why: string;
    readonly check: string;
    readonly judges: readonly Judge[];
    readonly expect: "accept" | "reject";
    readonly rule?: string;
    readonly object: KubeObject;
}

function header(text: string, key: string, file: string): string {
    const m = new RegExp(`^# ${key}: (.+)$`, "m").exec(text);
    if (!m) throw new Error(`${file}: missing "# ${key}:" header`);
    return m[1].trim();
}

export function loadCorpus(dir: string = CORPUS_DIR): CorpusCase[] {
    return fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort().map((f) => {
        const file = path.join(dir, f);
        const text = fs.readFileSync(file, "utf8");
        const expect = header(text, "expect", f);
        if (expect !== "accept" && expect !== "reject") throw new Error(`${f}: expect must be accept or reject`);
        const judges = header(text, "judge", f).split(/\s+/);
        if (judges.some((j) => j !== "apiserver" && j !== "istioctl")) throw new Error(`${f}: judge must be apiserver and/or istioctl`);
        return {
            name: f.replace(/\.yaml$/, ""),
            file,
            why: text.split("\n")[0].replace(/^# /, ""),
            check: header(text, "check", f),
            judges: judges as Judge[],
            expect,
            rule: /^# rule: (.+)$/m.exec(text)?.[1].trim(),
            object: parseDocument(text).toJS() as KubeObject,
        };
    });
}
