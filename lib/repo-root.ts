/**
 * Absolute path of the repository root, so the CDK app finds `lambdas/` and `statemachines/` the
 * same way whether it runs under `cdk synth` (tsx), vitest, or from another working directory.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
