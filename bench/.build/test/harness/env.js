/**
 * What the global setup (test/harness/global-setup.ts) started and pushed, for e2e tests.
 * The setup writes it as JSON to a file named by CTR_TS_TEST_ENV (and also `provide`s it).
 */
import { readFileSync } from 'node:fs';
export const TEST_ENV_VAR = 'CTR_TS_TEST_ENV';
let cached;
export function testEnv() {
    if (cached)
        return cached;
    const file = process.env[TEST_ENV_VAR];
    if (!file)
        throw new Error(`${TEST_ENV_VAR} is not set: e2e tests need the global setup (run them with vitest / npm test)`);
    cached = JSON.parse(readFileSync(file, 'utf8'));
    return cached;
}
/** The test environment when the global setup ran, else undefined (for helpers usable in unit tests). */
export function maybeTestEnv() {
    try {
        return testEnv();
    }
    catch {
        return undefined;
    }
}
