/**
 * npm run docs:policies
 *
 * Writes the policy table and the settings table of policy-pack/README.md from the pack's own rule
 * metadata and setting definitions, between marker comments, so the docs say what the pack enforces.
 * tests/docs.test.ts fails when the file differs from what this writes.
 *
 * Exit 0: written (or already current); 2: the README or one of its markers is missing (one message).
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../policy-pack/lib/errors";
import { POLICIES, SETTINGS, SettingKey } from "../policy-pack/rules";

export const PACK_README = path.resolve(__dirname, "..", "policy-pack", "README.md");

/** How each setting can take an object out of a policy's reach; settings that only locate things exempt nothing. */
const EXEMPTING: Readonly<Record<SettingKey, boolean>> = {
    rootNamespace: false,
    systemNamespaces: true,
    allowedRevisions: false,
    revisionTags: true,
    mtlsExceptions: true,
    environment: true,
    gatewaySelectors: true,
    proxyRedirection: true,
    settingsDigest: false,
    egressGateways: true,
};

/** A table cell: pipes would split it and bare <placeholders> would vanish as HTML on GitHub. */
function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function code(text: string): string {
    return `\`${text}\``;
}

function policyTable(): string {
    const codes = new Set(POLICIES.flatMap((p) => (p.code ? p.code.split(", ") : [])));
    const rows = POLICIES.map((p) => {
        const exemptions = p.settings.filter((s) => EXEMPTING[s]).map(code).join(", ") || "—";
        const istioctl = p.code ? p.code.split(", ").join(" ") : "—";
        return `| ${code(p.name)} | ${p.enforcement} | ${p.severity} | ${p.scope} | ${istioctl} | ${cell(p.description)} | ${exemptions} |`;
    });
    return [
        `${POLICIES.length} policies; ${codes.size} istioctl analyze codes mirrored.`,
        "",
        "| policy | enforcement | severity | scope | istioctl | what it checks | exemptions |",
        "|---|---|---|---|---|---|---|",
        ...rows,
    ].join("\n");
}

function defaultText(value: unknown): string {
    if (Array.isArray(value)) {
        return value.length === 0 ? "none" : value.map((v) => code(String(v))).join(", ");
    }
    return value === "" ? "none" : code(String(value));
}

function settingsTable(): string {
    // A zod schema's `.default` is the method that sets one; parsing nothing yields the default value.
    const rows = (Object.keys(SETTINGS) as SettingKey[]).map((key) => {
        const readers = POLICIES.filter((p) => p.settings.includes(key)).length;
        return `| ${code(key)} | ${defaultText(SETTINGS[key].parse(undefined))} | ${readers} | ${cell(SETTINGS[key].description ?? "")} |`;
    });
    return ["| setting | default | policies reading it | what it is |", "|---|---|---|---|", ...rows].join("\n");
}

const BLOCKS: ReadonlyArray<{ readonly marker: string; readonly render: () => string }> = [
    { marker: "policies", render: policyTable },
    { marker: "settings", render: settingsTable },
];

/** `text` with every generated block replaced by its current content. */
export function renderBlocks(text: string, file = PACK_README): string {
    let out = text;
    for (const { marker, render } of BLOCKS) {
        const re = new RegExp(`(<!-- ${marker}:start -->\\n)[\\s\\S]*?(\\n<!-- ${marker}:end -->)`);
        if (!re.test(out)) {
            throw new ConfigError(path.relative(process.cwd(), file), `lacks the <!-- ${marker}:start --> ... <!-- ${marker}:end --> markers the table goes between`);
        }
        out = out.replace(re, (_m, start: string, end: string) => `${start}${render()}${end}`);
    }
    return out;
}

function main(): number {
    try {
        if (!fs.existsSync(PACK_README)) {
            throw new ConfigError(path.relative(process.cwd(), PACK_README), "not found");
        }
        const before = fs.readFileSync(PACK_README, "utf8");
        const after = renderBlocks(before);
        if (after !== before) {
            fs.writeFileSync(PACK_README, after);
        }
        console.log(`${path.relative(process.cwd(), PACK_README)}: ${POLICIES.length} policies, ${after === before ? "already current" : "updated"}`);
        return 0;
    } catch (e) {
        if (e instanceof ConfigError) {
            console.error(`error: ${e.message}`);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) {
    process.exitCode = main();
}
