import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties } from "@pulumi/pulumi/runtime/rpc";
// Internal SDK entry points (present at run time, not in the typings), as tools/offline/runtime.ts uses them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { monitor: unknown } } };

/** A resource a component registered (or read), with the options the engine would see. */
export interface Registered {
    type: string;
    name: string;
    id?: string;
    read: boolean;
    provider?: string;
    dependencies: string[];
    ignoreChanges: string[];
    inputs: Record<string, any>;
}

class Recorder extends MockMonitor {
    readonly records: Registered[] = [];

    registerResource(req: any, callback: (err: any, resp: any) => void): Promise<void> {
        return super.registerResource(req, (err: any, resp: any) => {
            if (!err) {
                this.records.push({
                    type: req.getType(), name: req.getName(), read: false, provider: req.getProvider() || undefined,
                    dependencies: req.getDependenciesList(), ignoreChanges: req.getIgnorechangesList(),
                    inputs: deserializeProperties(req.getObject()),
                });
            }
            callback(err, resp);
        });
    }

    readResource(req: any, callback: (err: any, resp: any) => void): Promise<void> {
        return super.readResource(req, (err: any, resp: any) => {
            if (!err) {
                this.records.push({
                    type: req.getType(), name: req.getName(), id: req.getId(), read: true, provider: req.getProvider() || undefined,
                    dependencies: req.getDependenciesList(), ignoreChanges: [], inputs: deserializeProperties(req.getProperties()),
                });
            }
            callback(err, resp);
        });
    }
}

/** The value of an Output, as a test reads it (unknowns never occur under mocks). */
export function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve, reject) => {
        const out = pulumi.output(o) as pulumi.Output<T>;
        out.apply((v) => resolve(v));
        // An error thrown inside an apply rejects the Output's promise.
        (out as unknown as { promise(): Promise<T> }).promise().catch(reject);
    });
}

/**
 * Builds components under the SDK's mock runtime with the given provider answers and returns what
 * they registered once every registration has been sent.
 */
export async function runComponents<T>(mocks: pulumi.runtime.Mocks, build: () => T): Promise<{ value: T; resources: Registered[] }> {
    const monitor = new Recorder(mocks);
    await pulumi.runtime.setMocks(mocks, "aks-istio-mesh", "test", false);
    getStore().settings.monitor = monitor;
    const value = build();
    await waitForRPCs();
    return { value, resources: monitor.records };
}
