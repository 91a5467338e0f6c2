/**
 * How every Lambda is bundled, in one object: PaystepFunction hands it to NodejsFunction (which
 * runs esbuild at synth) and the bundle report (lib/bundle-report.ts, `npm run bundle-report`,
 * test/cdk/bundle-budget.test.ts) hands the very same object to esbuild's API, so the sizes it
 * reports and budgets are the sizes that deploy.
 */
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/**
 * Newest Node.js LTS that Lambda and this aws-cdk-lib both offer. Pinned (not NODEJS_LATEST) so a
 * CDK upgrade never changes the runtime under a running payment system without a reviewed diff.
 */
export const PAYSTEP_RUNTIME = Runtime.NODEJS_24_X;

/** The esbuild settings, in esbuild's own vocabulary (the report passes them through unchanged). */
export const PAYSTEP_BUNDLING = {
  format: 'esm',
  platform: 'node',
  /** `nodejs24.x` -> `node24`: the syntax level of the runtime above. */
  target: PAYSTEP_RUNTIME.name.replace(/^nodejs(\d+)\.x$/, 'node$1'),
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // The Node.js runtime ships AWS SDK v3; bundling it would only add cold-start weight.
  external: ['@aws-sdk/*'],
  // Some bundled CommonJS dependencies call require(); ESM has none, so provide one.
  banner:
    "import { createRequire as __paystepCreateRequire } from 'node:module'; const require = __paystepCreateRequire(import.meta.url);",
} as const;

/** Largest minified bundle (the `.mjs`, source map excluded) a function may have: cold starts grow with it. */
export const BUNDLE_BUDGET_BYTES = 1024 * 1024;

/**
 * Issue 14's targets, printed by `npm run bundle-report` beside each bundle (ok/over) and read by
 * the bench: at most 150 KB minified (SDK v3 external) and at most 50 ms of module initialisation.
 */
export const BUNDLE_TARGET_BYTES = 150 * 1000;
export const INIT_TARGET_MS = 50;

/** PAYSTEP_BUNDLING as NodejsFunction's bundling options (the same values, CDK's names). */
export function toCdkBundlingOptions(settings: typeof PAYSTEP_BUNDLING = PAYSTEP_BUNDLING): BundlingOptions {
  if (settings.format !== 'esm' || !settings.sourcemap) throw new Error('PaystepFunction expects ESM bundles with source maps');
  return {
    format: OutputFormat.ESM,
    target: settings.target,
    mainFields: [...settings.mainFields],
    minify: settings.minify,
    sourceMap: settings.sourcemap,
    sourceMapMode: SourceMapMode.DEFAULT,
    sourcesContent: settings.sourcesContent,
    externalModules: [...settings.external],
    banner: settings.banner,
  };
}

/**
 * PAYSTEP_BUNDLING as esbuild API options for one entry, as NodejsFunction runs it (`--bundle`,
 * one `index.mjs` per function).
 */
export function toEsbuildOptions(
  entryPoint: string,
  outfile: string,
  settings: typeof PAYSTEP_BUNDLING = PAYSTEP_BUNDLING,
): BuildOptions {
  return {
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    write: true,
    logLevel: 'warning',
    format: settings.format,
    platform: settings.platform,
    target: settings.target,
    mainFields: [...settings.mainFields],
    minify: settings.minify,
    sourcemap: settings.sourcemap,
    sourcesContent: settings.sourcesContent,
    external: [...settings.external],
    banner: { js: settings.banner },
  };
}
