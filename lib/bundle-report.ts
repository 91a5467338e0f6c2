/**
 * The bundle budget: bundles every function the CDK app deploys, with the one bundling definition
 * (lib/bundling.ts) NodejsFunction uses, and measures each bundle (raw, gzip, source map). The
 * function list comes from the app itself (every PaystepFunction in the stacks), so a new function
 * is measured without being listed anywhere. `npm run bundle-report` prints the table for the
 * README; test/cdk/bundle-budget.test.ts fails when a bundle exceeds BUNDLE_BUDGET_BYTES.
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { App } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { toEsbuildOptions } from './bundling';
import { PaystepFunction } from './constructs/paystep-function';
import { addPaystepStacks } from './paystep-app';
import { DEFAULT_SANDBOX_PSP_URL } from './paystep-config';
import { REPO_ROOT } from './repo-root';

/** Where the report writes its bundles: inside the repository, so `@aws-sdk/*` resolves from node_modules. */
export const BUNDLE_REPORT_DIR = resolve(REPO_ROOT, '.paystep', 'bundles');

export interface DeployedFunction {
  readonly entryName: string;
  /** Construct ids of the functions built from this entry (one today; several would share a bundle). */
  readonly constructIds: string[];
  /** The synthesized function, for its environment and the like. */
  readonly functions: PaystepFunction[];
}

export interface BundleSize {
  readonly entryName: string;
  readonly constructIds: string[];
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sourceMapBytes: number;
}

/**
 * The functions of the app `cdk synth` builds (cdk.json context, bundling off: this only reads
 * the construct tree), grouped by handler entry.
 */
export function listDeployedFunctions(context: Record<string, unknown> = {}): DeployedFunction[] {
  const cdkJson = JSON.parse(readFileSync(resolve(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], sandboxPspUrl: DEFAULT_SANDBOX_PSP_URL, ...context },
  });
  addPaystepStacks(app);
  const byEntry = new Map<string, PaystepFunction[]>();
  for (const construct of app.node.findAll()) {
    if (construct instanceof PaystepFunction)
      byEntry.set(construct.entryName, [...(byEntry.get(construct.entryName) ?? []), construct]);
  }
  return [...byEntry]
    .map(([entryName, functions]) => ({ entryName, functions, constructIds: functions.map((fn) => fn.node.id) }))
    .sort((a, b) => a.entryName.localeCompare(b.entryName));
}

/** Bundles one entry exactly as its function deploys and measures the result. */
export async function bundleEntry(fn: DeployedFunction, outDir: string = BUNDLE_REPORT_DIR): Promise<BundleSize> {
  const file = join(outDir, fn.entryName, 'index.mjs');
  rmSync(join(outDir, fn.entryName), { recursive: true, force: true });
  mkdirSync(join(outDir, fn.entryName), { recursive: true });
  await build(toEsbuildOptions(resolve(REPO_ROOT, 'lambdas', fn.entryName, 'handler.ts'), file));
  const code = readFileSync(file);
  return {
    entryName: fn.entryName,
    constructIds: fn.constructIds,
    file,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    sourceMapBytes: statSync(`${file}.map`).size,
  };
}

/** Every deployed function's bundle, one esbuild run at a time (CPU is shared with other work). */
export async function measureBundles(
  functions: DeployedFunction[] = listDeployedFunctions(),
  outDir: string = BUNDLE_REPORT_DIR,
): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const fn of functions) sizes.push(await bundleEntry(fn, outDir));
  return sizes;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A Markdown table (largest first) with the budget, as the README shows it. */
export function formatBundleReport(sizes: readonly BundleSize[], budgetBytes: number): string {
  const rows = [...sizes]
    .sort((a, b) => b.bytes - a.bytes)
    .map(
      (size) =>
        `| ${size.entryName} | ${kib(size.bytes)} | ${kib(size.gzipBytes)} | ${kib(size.sourceMapBytes)} | ${size.bytes <= budgetBytes ? 'ok' : 'OVER'} |`,
    );
  return [
    `| Function (lambdas/<entry>) | Bundle (minified ESM) | gzip | Source map | Budget ${kib(budgetBytes)} |`,
    '| --- | ---: | ---: | ---: | :---: |',
    ...rows,
  ].join('\n');
}
