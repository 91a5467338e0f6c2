/**
 * How every Lambda is bundled, in one object: PaystepFunction deploys the output of `bundleFunction`
 * (esbuild run at synth as the asset's local bundling step) and the bundle report
 * (lib/bundle-report.ts, `npm run bundle-report`, test/cdk/bundle-budget.test.ts) hands the very
 * same options to esbuild, so the sizes it reports and budgets are the sizes that deploy.
 *
 * Code splitting (ESM, `splitting: true`): each function is one output directory, `index.mjs` (the
 * handler) plus `chunks/*.mjs`. What `index.mjs` imports statically is read at a cold start; code
 * behind an `await import()` (the Stripe connector in lambdas/connectors/registry.ts, the Powertools
 * Tracer and X-Ray SDK in lambdas/shared/observability.ts) lands in its own chunk and is read only
 * when that import runs. NodejsFunction writes a single `--outfile`, which does not allow splitting,
 * so PaystepFunction bundles with esbuild's API itself and deploys the directory with
 * `Code.fromAsset` (a local bundling step: no Docker).
 */
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Code, Runtime } from 'aws-cdk-lib/aws-lambda';
import { resolve } from 'node:path';
import { buildSync, type BuildOptions } from 'esbuild';
import { REPO_ROOT } from './repo-root';

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
  /** Source maps as files beside the code (`index.mjs.map`, `chunks/*.mjs.map`), for debugging. */
  sourcemap: true,
  sourcesContent: false,
  /** Lazily imported code in its own chunks, read only when first imported (see above). */
  splitting: true,
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  // The Node.js runtime ships AWS SDK v3; bundling it would only add cold-start weight.
  external: ['@aws-sdk/*'],
  // Some bundled CommonJS dependencies call require(); ESM has none, so provide one (in every
  // output file: each chunk is a module of its own).
  banner:
    "import { createRequire as __paystepCreateRequire } from 'node:module'; const require = __paystepCreateRequire(import.meta.url);",
} as const;

/** The handler file in a function's output directory (Lambda handler `index.handler`). */
export const BUNDLE_ENTRY_FILE = 'index.mjs';

/**
 * Largest minified code a cold start reads (the entry plus the chunks it imports statically, source
 * maps excluded): cold starts grow with it. Issue 14's 150 KB target (BUNDLE_TARGET_BYTES below)
 * since round 4, when the saga steps and the sweep stopped bundling the whole event store (then
 * largest api-newstore 148,066 B, saga-capture-payment 145,186 B; README "Bundle sizes"), so a
 * function that grows past the target fails the build.
 */
export const BUNDLE_BUDGET_BYTES = 150 * 1000;

/**
 * Issue 14's targets, printed by `npm run bundle-report` beside each bundle (ok/over) and read by
 * the bench: at most 150 KB minified (SDK v3 external) and at most 50 ms of module initialisation.
 */
export const BUNDLE_TARGET_BYTES = 150 * 1000;
export const INIT_TARGET_MS = 50;

/** Marks the (unused) Docker command of bundleFunction's asset; the entry name follows it. */
const PAYSTEP_BUNDLING_COMMAND_MARKER = 'lambdas/<entry>/handler.ts';

/** `lambdas/<entryName>/handler.ts`. */
export function handlerEntry(entryName: string): string {
  return resolve(REPO_ROOT, 'lambdas', entryName, 'handler.ts');
}

/** PAYSTEP_BUNDLING as esbuild API options for one function: `entryPoint` into `outdir`. */
export function toEsbuildOptions(
  entryPoint: string,
  outdir: string,
  settings: typeof PAYSTEP_BUNDLING = PAYSTEP_BUNDLING,
): BuildOptions & { outdir: string } {
  return {
    entryPoints: [entryPoint],
    outdir,
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
    splitting: settings.splitting,
    entryNames: settings.entryNames,
    chunkNames: settings.chunkNames,
    outExtension: { ...settings.outExtension },
    external: [...settings.external],
    banner: { js: settings.banner },
  };
}

/**
 * The deployable code of `lambdas/<entryName>/handler.ts`: esbuild (PAYSTEP_BUNDLING) writes the
 * function's directory at synth, hashed by its output. Stacks left out of bundling
 * (`aws:cdk:bundling-stacks`, as the tests and `cdk ls` do) skip esbuild entirely.
 */
export function bundleFunction(entryName: string): Code {
  return Code.fromAsset(REPO_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never used: the local step below always bundles (esbuild is a dependency of this repository).
      image: DockerImage.fromRegistry('dummy'),
      // Names the entry in the bundling options: CDK caches a staged asset by its source path and
      // (serialisable) bundling options, so without it every function would get the first bundle.
      command: ['esbuild', PAYSTEP_BUNDLING_COMMAND_MARKER, entryName],
      local: {
        tryBundle(outputDir: string): boolean {
          buildSync(toEsbuildOptions(handlerEntry(entryName), outputDir));
          return true;
        },
      },
    },
  });
}
