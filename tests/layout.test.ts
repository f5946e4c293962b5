import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../tools/offline/runtime";

/** Relative imports of a TypeScript module, resolved to files. */
function imports(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    return [...text.matchAll(/^(?:import|export)[^;]*?from "(\.[^"]+)"/gm)].flatMap((m) => {
        const base = path.resolve(path.dirname(file), m[1]);
        return [`${base}.ts`, path.join(base, "index.ts")].filter((f) => fs.existsSync(f)).slice(0, 1);
    });
}

const tsFiles = (dir: string): string[] => fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts")).map((f) => path.join(ROOT, dir, f));

describe("layout: arrows run one way", () => {
    it("components/ imports nothing from config/, and config/ nothing from components/", () => {
        const crossing = (from: string, to: string) => tsFiles(from).flatMap((f) => imports(f).filter((i) => i.startsWith(path.join(ROOT, to) + path.sep))
            .map((i) => `${path.relative(ROOT, f)} -> ${path.relative(ROOT, i)}`));
        assert.deepStrictEqual(crossing("components", "config"), []);
        assert.deepStrictEqual(crossing("config", "components"), []);
    });

    it("the program has no import cycle", () => {
        const done = new Set<string>();
        const cycles: string[] = [];
        const visit = (file: string, trail: string[]) => {
            if (trail.includes(file)) {
                cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(ROOT, f)).join(" -> "));
                return;
            }
            if (done.has(file)) {
                return;
            }
            done.add(file);
            imports(file).forEach((i) => visit(i, [...trail, file]));
        };
        visit(path.join(ROOT, "index.ts"), []);
        assert.deepStrictEqual(cycles, []);
    });
});
