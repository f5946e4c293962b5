/**
 * The fast guard for the pack's independence (tests/e2e/standalone-pack.test.ts proves it by installing a
 * copy): every module the pack loads is its own file, a Node built-in, or a dependency its own package.json
 * declares. An import from the program, the tools or a workspace-only package would work in the workspace and
 * break `pulumi policy publish`.
 */
import * as assert from "assert";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";

const PACK_DIR = path.resolve(__dirname, "../../policy-pack");

function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        if (e.name === "node_modules") return [];
        const file = path.join(dir, e.name);
        return e.isDirectory() ? sources(file) : /\.[cm]?[jt]s$/.test(e.name) && !e.name.endsWith(".d.ts") ? [file] : [];
    });
}

/** Module specifiers of static imports, re-exports, require() and import() calls. */
function specifiers(text: string): string[] {
    const found = [
        ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/gm),
        ...text.matchAll(/^\s*import\s+["']([^"']+)["']/gm),
        ...text.matchAll(/\b(?:require|import)\(\s*["']([^"']+)["']\s*\)/g),
    ];
    return found.map((m) => m[1]);
}

/** The package a bare specifier names: `@scope/name` or `name`. */
const packageOf = (spec: string): string => spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/");

describe("policy pack imports", function () {
    it("load only the pack's own files, Node built-ins and the dependencies policy-pack/package.json declares", function () {
        const manifest = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8"));
        const declared = new Set(Object.keys(manifest.dependencies ?? {}));
        const builtins = new Set(builtinModules);
        const files = sources(PACK_DIR);
        assert.ok(files.length > 5, "no pack sources found");
        const problems: string[] = [];
        for (const file of files) {
            const rel = path.relative(PACK_DIR, file);
            for (const spec of specifiers(fs.readFileSync(file, "utf8"))) {
                if (spec.startsWith(".")) {
                    const target = path.relative(PACK_DIR, path.resolve(path.dirname(file), spec));
                    if (target.startsWith("..") || path.isAbsolute(target)) problems.push(`${rel}: "${spec}" is outside policy-pack/`);
                } else if (!builtins.has(spec.replace(/^node:/, "")) && !declared.has(packageOf(spec))) {
                    problems.push(`${rel}: "${spec}" is not a dependency in policy-pack/package.json`);
                }
            }
        }
        assert.deepStrictEqual(problems, []);
    });
});
