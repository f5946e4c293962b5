import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { defaultSchemaBaseDir, loadSchemaBundle, schemaDirForRevision } from "../tools/schema";
import { ROOT } from "../tools/offline/runtime";
import { SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";

/** Serves Istio's layout (`/<tag>/manifests/charts/base/files/crd-all.gen.yaml`) from local bundles, optionally tampered. */
function mirror(tamper: string | undefined): Promise<http.Server> {
    const server = http.createServer((req, res) => {
        const m = /^\/([\d.]+)\/manifests\/charts\/base\/files\/crd-all\.gen\.yaml$/.exec(req.url ?? "");
        const file = m && path.join(defaultSchemaBaseDir(), m[1], "crd-all.gen.yaml");
        if (!file || !fs.existsSync(file)) {
            res.writeHead(404).end();
            return;
        }
        const body = fs.readFileSync(file, "utf8");
        res.writeHead(200).end(m[1] === tamper ? body.replace("STRICT", "PERMISSIVE") : body);
    });
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Runs the fetch against the mirror, asynchronously: the mirror serves from this process. */
function fetchSchemas(server: http.Server, target: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const { port } = server.address() as AddressInfo;
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tools/fetch-schemas.ts")], {
        cwd: ROOT,
        env: { ...process.env, ISTIO_SOURCE_URL: `http://127.0.0.1:${port}`, AKS_ISTIO_MESH_SCHEMAS: target },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

describe("schemas:fetch", () => {
    let target: string;
    beforeEach(() => { target = fs.mkdtempSync(path.join(os.tmpdir(), "schemas-")); });
    afterEach(() => fs.rmSync(target, { recursive: true, force: true }));

    it("downloads each pinned bundle, checks its SHA-256 and leaves a loadable bundle per revision", async () => {
        const server = await mirror(undefined);
        try {
            const r = await fetchSchemas(server, target);
            assert.strictEqual(r.status, 0, r.stderr);
            for (const { revision, istioPatch } of SUPPORTED_REVISIONS) {
                assert.match(r.stdout, new RegExp(`Istio ${istioPatch} \\(${revision}\\): downloading `));
                assert.ok(loadSchemaBundle(schemaDirForRevision(revision, target)), `no bundle for ${revision}`);
            }
            const again = await fetchSchemas(server, target);
            assert.doesNotMatch(again.stdout, /downloading/, "a bundle present with its checksum was fetched again");
            assert.match(again.stdout, /\(asm-1-30\): .* matches its pinned checksum/);
        } finally {
            server.close();
        }
    });

    it("refuses a bundle whose checksum differs, with one message and exit 2", async () => {
        const server = await mirror("1.30.3");
        try {
            const r = await fetchSchemas(server, target);
            assert.strictEqual(r.status, 2);
            assert.match(r.stderr, /^error: http:\/\/127\.0\.0\.1:\d+\/1\.30\.3\/.*: SHA-256 [0-9a-f]{64} is not the pinned [0-9a-f]{64}; refusing to use it/);
            assert.ok(!fs.existsSync(path.join(target, "1.30.3")), "a tampered bundle was written");
        } finally {
            server.close();
        }
    });
});
