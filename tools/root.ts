import * as fs from "fs";
import * as path from "path";

/**
 * The repository root (where Pulumi.yaml lives): the nearest directory above the tools that holds it,
 * so the tools find it both run from their sources (tools/) and compiled (dist/tools/).
 */
export const ROOT = ((): string => {
    for (let dir = path.resolve(__dirname, ".."); ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml above ${__dirname}`);
    }
})();

/** Where the program's modules are: the repository root from the sources, dist/ when compiled. */
export const PROGRAM_DIR = path.resolve(__dirname, "..");
