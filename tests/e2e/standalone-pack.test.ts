/**
 * The policy pack on its own, as `pulumi policy publish` and an org-wide pack use it: policy-pack/ copied
 * outside the workspace, `npm install` there from the registry, then started the way the engine starts it
 * (run-policy-pack compiles it with the TypeScript it finds beside the pack). It must answer GetAnalyzerInfo
 * with every policy; a missing dependency, an import from outside policy-pack/ or a tsconfig the compiler
 * rejects makes it exit instead.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { POLICIES } from "../../policy-pack/rules";
import { PackServer, startPolicyPack } from "../policy/pack-server";

const PACK_DIR = path.resolve(__dirname, "../../policy-pack");
const WORKSPACE = path.resolve(__dirname, "../..");

/** npm as the test runner was started (npm run / npx set npm_execpath), else npm on PATH. */
function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv): ReturnType<typeof spawnSync> {
    const execPath = process.env.npm_execpath;
    return execPath && /npm-cli\.c?js$/.test(execPath)
        ? spawnSync(process.execPath, [execPath, ...args], { cwd, env, encoding: "utf8" })
        : spawnSync("npm", args, { cwd, env, encoding: "utf8" });
}

/** The environment of a fresh shell: nothing that points module loading back at the workspace. */
function isolatedEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
        if (/^(NODE_OPTIONS|NODE_PATH|TS_NODE_.*|npm_.*|INIT_CWD)$/i.test(k)) continue;
        env[k] = v;
    }
    return env;
}

describe("policy pack installed on its own, outside the workspace", function () {
    // npm install from the registry dominates; the pack's own start (ts-node type-check) takes seconds.
    this.timeout(600000);
    let dir: string | undefined;
    let server: PackServer | undefined;

    before(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-istio-mesh-pack-"));
        const rel = path.relative(WORKSPACE, dir);
        assert.ok(rel.startsWith("..") || path.isAbsolute(rel), `${dir} must lie outside ${WORKSPACE}`);
        fs.cpSync(PACK_DIR, dir, { recursive: true, filter: (src) => path.basename(src) !== "node_modules" });
        const res = npm(["install", "--no-audit", "--no-fund", "--loglevel=error"], dir, isolatedEnv());
        assert.strictEqual(res.status, 0, `npm install in the copied pack failed:\n${String(res.stderr)}`);
    });

    after(function () {
        server?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("starts with its own dependencies and serves every policy over gRPC", async function () {
        server = await startPolicyPack(dir!, isolatedEnv());
        assert.ok(server.entry.startsWith(dir! + path.sep), `run-policy-pack came from ${server.entry}, not the pack's own install`);
        assert.strictEqual(server.info.getName(), "aks-istio-mesh");
        assert.deepStrictEqual(server.info.getPoliciesList().map((p) => p.getName()), POLICIES.map((p) => p.name));
    });
});
