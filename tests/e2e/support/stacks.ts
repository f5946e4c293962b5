/**
 * Every stack's rendered objects, from the offline preview front door (`npm run preview:offline -- --stack <s>
 * --out <dir>`), rendered once per run into a scratch directory the root hooks remove.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { KubeObject } from "../../../policy-pack/rules";
import { ROOT, stackNames } from "../../../tools/offline/runtime";
import { track } from "./processes";

export { ROOT, stackNames };

export interface RenderedStack {
    readonly stack: string;
    /** Path of its manifests.yaml. */
    readonly manifests: string;
    readonly objects: KubeObject[];
}

export function readObjects(file: string): KubeObject[] {
    return parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS() as KubeObject).filter((o) => o !== null);
}

let rendered: Promise<RenderedStack[]> | undefined;
let outDir: string | undefined;

/** Renders every stack in one preview process (exit 0 or 1 both write manifests; 2 is bad input). */
export function renderedStacks(): Promise<RenderedStack[]> {
    if (!rendered) {
        outDir = fs.mkdtempSync(path.join(os.tmpdir(), "aks-istio-mesh-e2e-stacks-"));
        const stacks = stackNames();
        const dir = outDir;
        rendered = new Promise((resolve, reject) => {
            const args = ["--import", "tsx", "tools/preview.ts", ...stacks.flatMap((s) => ["--stack", s]), "--out", dir];
            const child = track(spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
            let output = "";
            child.stdout?.on("data", (d) => { output += d; });
            child.stderr?.on("data", (d) => { output += d; });
            child.on("error", reject);
            child.on("close", (code) => {
                if (code !== 0 && code !== 1) {
                    reject(new Error(`preview:offline exited ${code}: ${output.trim().split("\n").slice(-3).join(" ")}`));
                    return;
                }
                resolve(stacks.map((stack) => {
                    const manifests = path.join(dir, ...(stacks.length > 1 ? [stack] : []), "manifests.yaml");
                    return { stack, manifests, objects: readObjects(manifests) };
                }));
            });
        });
    }
    return rendered;
}

/** Removes the rendered stacks (root hook). */
export function removeRenderedStacks(): void {
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
    outDir = undefined;
    rendered = undefined;
}
