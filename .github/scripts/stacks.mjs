// Lists the stacks for the workflows' matrices, from the stack files alone (adding Pulumi.<name>.yaml needs no
// workflow edit):
//
//   node .github/scripts/stacks.mjs [projectDir]
//
//   all      every Pulumi.<name>.yaml: the offline preview covers them all.
//   azure    stacks whose file sets azure-native:location: the only ones with Azure resources, so the only
//            ones previewed and deployed with an Azure identity. A stack for an existing cluster (e.g.
//            `local`) sets no Azure region and stays offline.
//   deploy   azure stacks the policy pack judges as dev (policy-pack/config/<name>.json): deployed first.
//   promote  azure stacks the pack judges as prod: deployed after every `deploy` stack succeeded.
//
// Prints the lists as JSON; under GitHub Actions also writes them to $GITHUB_OUTPUT. Exit 2 on a stack
// name or stack file that cannot be used, with one line saying which.
import { appendFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const dir = process.argv[2] ?? ".";

function fail(message) {
  console.error(message);
  process.exit(2);
}

/** True when any policy in the stack's pack config is set to the prod environment. */
function judgedProd(stack) {
  const file = join(dir, "policy-pack", "config", `${stack}.json`);
  if (!existsSync(file)) return false;
  let config;
  try {
    config = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    fail(`policy-pack/config/${stack}.json: not JSON (${err.message})`);
  }
  return Object.values(config ?? {}).some((v) => v && typeof v === "object" && v.environment === "prod");
}

const all = [];
const azure = [];
for (const file of readdirSync(dir).sort()) {
  const m = /^Pulumi\.(.+)\.ya?ml$/.exec(file);
  if (!m) continue;
  const stack = m[1];
  // Stack names reach job names, paths and environment names: keep them to what Pulumi allows.
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) fail(`${file}: stack name "${stack}" may use only letters, digits, _ . -`);
  let doc;
  try {
    doc = parse(readFileSync(join(dir, file), "utf8")) ?? {};
  } catch (err) {
    fail(`${file}: not YAML (${err.message.split("\n")[0]})`);
  }
  all.push(stack);
  if (doc.config?.["azure-native:location"] !== undefined) azure.push(stack);
}

const lists = {
  all,
  azure,
  deploy: azure.filter((s) => !judgedProd(s)),
  promote: azure.filter((s) => judgedProd(s)),
};
const lines = Object.entries(lists).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${lines.join("\n")}\n`);
process.stdout.write(`${JSON.stringify(lists)}\n`);
