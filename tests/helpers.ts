import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, ResourceRecord, runProgram, StackRun } from "../tools/offline/runtime";

export const STACKS = ["dev", "prod"] as const;

const cache = new Map<string, Promise<StackRun>>();

/** The program's run for a committed stack, shared by every test that reads it. */
export function stackRun(stack: string): Promise<StackRun> {
    if (!cache.has(stack)) {
        cache.set(stack, runProgram({ stack }));
    }
    return cache.get(stack)!;
}

/** The stack's config values with `edit` applied to a deep copy (for variants of a stack). */
export function configValues(stack: string, edit: (values: Record<string, any>) => void = () => undefined): Record<string, any> {
    const values = structuredClone(loadConfig(stack).values) as Record<string, any>;
    edit(values);
    return values;
}

/** Runs the program for a variant of a committed stack's config. */
export function variantRun(stack: string, edit: (values: Record<string, any>) => void): Promise<StackRun> {
    return runProgram({ stack, values: configValues(stack, edit) });
}

export function ofType(run: StackRun, type: string): ResourceRecord[] {
    return run.resources.filter((r) => r.type === type);
}

export function one(run: StackRun, type: string): ResourceRecord {
    const found = ofType(run, type);
    if (found.length !== 1) {
        throw new Error(`expected one ${type}, found ${found.length}`);
    }
    return found[0];
}

/** Kubernetes objects of a kind (any group/version), as the stack would apply them. */
export function kubeObjects(run: StackRun, kind: string): Record<string, any>[] {
    return run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.inputs.kind === kind && !r.read).map((r) => r.inputs as Record<string, any>);
}

/**
 * Asserts that `run` refuses the way a user must see it: a RunError (so `pulumi up` prints no stack
 * trace) whose one-line message starts with the key to change and says what is allowed.
 */
export function assertRefused(run: () => unknown, key: string, says: RegExp): void {
    assert.throws(run, (e: Error) => {
        assert.ok(pulumi.RunError.isInstance(e), `expected a RunError, got ${e.name}`);
        assert.ok(e.message.startsWith(key), `message should start with ${key}: ${e.message}`);
        assert.match(e.message, says);
        assert.doesNotMatch(e.message, /\n/, "one line");
        return true;
    });
}
