/**
 * Root hooks of the e2e tier: whatever the run started (preview processes, the local control plane, scratch
 * directories) is stopped and removed after the last test, pass or fail, and on Ctrl-C or SIGTERM.
 */
import { preparePeers, stopCluster } from "./support/peers";
import { stopAll } from "./support/processes";
import { removeRenderedStacks } from "./support/stacks";

async function cleanUp(): Promise<void> {
    await stopAll();
    await stopCluster();
    removeRenderedStacks();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
        cleanUp().finally(() => process.exit(130));
    });
}

/** Cold builds of the upstream tools take minutes each (CI allows 90 minutes for the whole tier). */
const PREPARE_TIMEOUT_MS = 90 * 60_000;

export const mochaHooks = {
    async beforeAll(this: Mocha.Context): Promise<void> {
        this.timeout(PREPARE_TIMEOUT_MS);
        await preparePeers();
    },
    async afterAll(this: Mocha.Context): Promise<void> {
        this.timeout(120_000);
        await cleanUp();
    },
};
