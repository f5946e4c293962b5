/**
 * The docs a user reads: the README stays a landing page, every relative link and anchor resolves,
 * and the tables that restate code (policies, pack settings, supported revisions) equal the code.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { revisionTable } from "../policy-pack/lib/revisions";
import { PACK_README, renderBlocks } from "../tools/policy-table";

const ROOT = path.resolve(__dirname, "..");
const README = path.join(ROOT, "README.md");

/** The Markdown files whose links must resolve. */
function docFiles(): string[] {
    const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => path.join(ROOT, "docs", f));
    return [README, PACK_README, ...docs];
}

/** Lines outside fenced code blocks, with inline code removed: links and headings there are text, not Markdown. */
function proseLines(text: string): string[] {
    let fence: string | undefined;
    const out: string[] = [];
    for (const line of text.split("\n")) {
        const m = /^\s*(```|~~~)/.exec(line);
        if (m) {
            fence = fence === undefined ? m[1] : fence === m[1] ? undefined : fence;
            continue;
        }
        if (fence === undefined && !/^( {4}|\t)/.test(line)) {
            out.push(line.replace(/`[^`]*`/g, (s) => s.replace(/[[\]()]/g, " ")));
        }
    }
    return out;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingSlugs(text: string): Set<string> {
    const seen = new Map<string, number>();
    const slugs = new Set<string>();
    let fence: string | undefined;
    for (const line of text.split("\n")) {
        const f = /^\s*(```|~~~)/.exec(line);
        if (f) {
            fence = fence === undefined ? f[1] : fence === f[1] ? undefined : fence;
            continue;
        }
        const h = fence === undefined ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line) : null;
        if (!h) {
            continue;
        }
        const plain = h[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/`/g, "");
        const base = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        slugs.add(n === 0 ? base : `${base}-${n}`);
    }
    return slugs;
}

/** Every link target in a Markdown file: inline links, images and reference definitions. */
function linkTargets(text: string): string[] {
    const targets: string[] = [];
    for (const line of proseLines(text)) {
        for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
            targets.push(m[1]);
        }
        const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
        if (ref) {
            targets.push(ref[1]);
        }
    }
    return targets;
}

/** Why a relative target does not resolve from `file`, or undefined when it does. */
function brokenLink(file: string, target: string): string | undefined {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
        return undefined;
    }
    const [rawPath, anchor] = target.split("#", 2);
    const dest = rawPath === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(rawPath));
    if (!fs.existsSync(dest)) {
        return `${path.relative(ROOT, dest)} does not exist`;
    }
    if (anchor === undefined) {
        return undefined;
    }
    if (!dest.endsWith(".md")) {
        return `#${anchor} points into ${path.relative(ROOT, dest)}, which has no headings`;
    }
    return headingSlugs(fs.readFileSync(dest, "utf8")).has(anchor) ? undefined : `${path.relative(ROOT, dest)} has no heading #${anchor}`;
}

describe("docs", () => {
    it("find a page's links and GitHub's anchors the way GitHub renders them", () => {
        const page = [
            "# Mesh traffic and security", "## The `prod` environment", "## Canary, header routes, faults, rate limit",
            "## mTLS", "## mTLS", "```", "# not a heading", "[not a link](nowhere.md)", "```",
            "See [a](docs/a.md#x), ![pic](docs/p.svg), `[code](skipped.md)` and [b](https://example.com).", "[ref]: docs/r.md",
        ].join("\n");
        assert.deepStrictEqual([...headingSlugs(page)],
            ["mesh-traffic-and-security", "the-prod-environment", "canary-header-routes-faults-rate-limit", "mtls", "mtls-1"]);
        assert.deepStrictEqual(linkTargets(page), ["docs/a.md#x", "docs/p.svg", "https://example.com", "docs/r.md"]);
    });

    for (const file of docFiles()) {
        it(`${path.relative(ROOT, file)}: every relative link and anchor resolves`, () => {
            const broken = linkTargets(fs.readFileSync(file, "utf8"))
                .map((t) => [t, brokenLink(file, t)] as const)
                .filter(([, why]) => why !== undefined)
                .map(([t, why]) => `${t}: ${why}`);
            assert.deepStrictEqual(broken, []);
        });
    }
});

describe("README", () => {
    const readme = fs.readFileSync(README, "utf8");

    it("is a landing page of at most 300 lines", () => {
        const lines = readme.split("\n").length - (readme.endsWith("\n") ? 1 : 0);
        assert.ok(lines <= 300, `README.md has ${lines} lines; move the long reading into docs/`);
    });

    it("names the two commands and the real-peer tier", () => {
        assert.match(readme, /^npm ci && npm run preview:offline/m);
        assert.match(readme, /^npm test/m);
        assert.match(readme, /^npm run test:e2e/m);
    });
});

describe("policy-pack/README.md", () => {
    it("holds the policy and settings tables exactly as the pack defines them", () => {
        const text = fs.readFileSync(PACK_README, "utf8");
        assert.ok(renderBlocks(text) === text, "policy-pack/README.md is stale: run `npm run docs:policies`");
    });

    it("shows each setting's default value", () => {
        const text = fs.readFileSync(PACK_README, "utf8");
        assert.match(text, /^\| `rootNamespace` \| `aks-istio-system` \|/m);
        assert.match(text, /^\| `environment` \| `prod` \|/m);
        assert.doesNotMatch(text, /\[native code\]/);
    });
});

describe("docs/revisions.md", () => {
    it("shows the revision table exactly as policy-pack/lib/revisions.ts holds it", () => {
        const page = fs.readFileSync(path.join(ROOT, "docs", "revisions.md"), "utf8");
        const block = /<!-- revisions:start -->\n([\s\S]*?)\n<!-- revisions:end -->/.exec(page);
        assert.ok(block, "docs/revisions.md lacks the revisions block");
        assert.strictEqual(block[1], revisionTable(), "docs/revisions.md is stale: put revisionTable()'s output between the revisions markers");
    });
});
