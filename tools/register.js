/**
 * Runs the TypeScript front doors (preview, policy check, bench) without a type-check: each .ts
 * module is transpiled once with TypeScript's transpileModule, the same transform as
 * `ts-node --transpile-only`, and the result is cached by content under node_modules/.cache.
 * Loading the compiler cost more than the whole mock run of a stack, so a warm run never loads it.
 * `npm test` type-checks everything with tsc; this hook only runs code.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const CACHE_DIR = path.join(__dirname, "..", "node_modules", ".cache", "aks-istio-mesh", "ts");
const COMPILER_OPTIONS = { module: "commonjs", target: "es2022", esModuleInterop: true, inlineSourceMap: true };
const TS_VERSION = require("typescript/package.json").version;

let ts;

function transpile(source, filename) {
    ts = ts || require("typescript");
    return ts.transpileModule(source, { compilerOptions: COMPILER_OPTIONS, fileName: filename }).outputText;
}

require.extensions[".ts"] = (module, filename) => {
    const source = fs.readFileSync(filename, "utf8");
    const key = crypto.createHash("sha256").update(`${TS_VERSION}\0${filename}\0${source}`).digest("hex");
    const cached = path.join(CACHE_DIR, `${key}.js`);
    let code;
    try {
        code = fs.readFileSync(cached, "utf8");
    } catch {
        code = transpile(source, filename);
        try {
            fs.mkdirSync(CACHE_DIR, { recursive: true });
            fs.writeFileSync(`${cached}.${process.pid}`, code);
            fs.renameSync(`${cached}.${process.pid}`, cached);
        } catch {
            // A read-only tree only costs the transpile next time.
        }
    }
    module._compile(code, filename);
};
