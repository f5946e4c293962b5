// Puts each stack's `pulumi preview` output on the pull request, passing or failing: pulumi/actions
// throws on a mandatory policy violation before it comments, so the preview jobs save the output and
// this posts it. Called from actions/github-script:
//
//   const { postPreviewComments } = await import(`${process.env.GITHUB_WORKSPACE}/.github/scripts/preview-comment.mjs`);
//   await postPreviewComments({ github, context, core, dir: "previews", stacks: ["dev", "prod"] });
//
// <dir>/pulumi-preview-<stack>/ holds output.txt and exit-code, or `skipped` (as download-artifact lays them out).
// One comment per stack, edited in place on the next run. Marks the step failed when any stack's
// preview failed or left no result.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

// A comment body may hold 65536 characters; keep the end of the output, where the policy verdicts are.
const MAX_OUTPUT = 60000;

export const marker = (stack) => `<!-- pulumi-preview:${stack} -->`;

/**
 * The stack's saved result: exit code (undefined when the preview left none) and output; `skipped`
 * holds the reason when the preview did not run (no credentials in its environment).
 */
export function readResult(dir, stack) {
  const base = join(dir, `pulumi-preview-${stack}`);
  const skippedFile = join(base, "skipped");
  if (existsSync(skippedFile)) return { skipped: readFileSync(skippedFile, "utf8").trim(), exitCode: undefined, output: "" };
  const codeFile = join(base, "exit-code");
  const outFile = join(base, "output.txt");
  const text = existsSync(codeFile) ? readFileSync(codeFile, "utf8").trim() : "";
  return {
    exitCode: /^\d+$/.test(text) ? Number(text) : undefined,
    output: existsSync(outFile) ? readFileSync(outFile, "utf8") : "",
  };
}

export function commentBody(stack, { exitCode, output }) {
  const verdict = exitCode === 0 ? "✅ passed"
    : exitCode === undefined ? "⚠️ left no result (see the job log)"
    : `❌ failed (exit ${exitCode}): a mandatory policy violation or an error stops the update`;
  let text = output.replace(/\x1b\[[0-9;]*m/g, "");
  if (text.length > MAX_OUTPUT) text = `… ${text.length - MAX_OUTPUT} characters cut, the full output is in the job log\n${text.slice(-MAX_OUTPUT)}`;
  const fence = "`".repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return [marker(stack), `### Pulumi preview of \`${stack}\`: ${verdict}`, "", `${fence}text`, text.trimEnd(), fence, ""].join("\n");
}

export async function postPreviewComments({ github, context, core, dir, stacks }) {
  const { owner, repo } = context.repo;
  const issue_number = context.payload.pull_request.number;
  const existing = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
  const failed = [];
  for (const stack of stacks) {
    const result = readResult(dir, stack);
    if (result.skipped !== undefined) continue;
    if (result.exitCode !== 0) failed.push(stack);
    const body = commentBody(stack, result);
    const mine = existing.find((c) => c.user?.type === "Bot" && (c.body ?? "").startsWith(marker(stack)));
    if (mine) await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
    else await github.rest.issues.createComment({ owner, repo, issue_number, body });
  }
  if (failed.length > 0) core.setFailed(`pulumi preview failed for ${failed.join(", ")} (see the PR comments)`);
}
