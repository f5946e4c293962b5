/**
 * The day unit tests judge revision end of life on: the first day of the earliest end-of-life month
 * in the table, when every row is still supported, so no verdict changes with the calendar. Tests of
 * end of life move the clock themselves (tests/policy/lifecycle.test.ts); subprocesses inherit it.
 */
import { SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";

const earliest = SUPPORTED_REVISIONS.map((r) => r.endOfLife).sort()[0];
process.env.AKS_ISTIO_MESH_TODAY ??= `${earliest}-01`;
