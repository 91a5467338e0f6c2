/**
 * `npm run bundle-report`: bundles every deployed function as `cdk synth` would and prints each
 * bundle's size (what a cold start reads: `index.mjs` and its static chunks; every chunk's total;
 * gzip; source maps) against the budget, its module initialisation time (median
 * of several cold imports in a fresh Node process) against issue 14's targets (150 KB, 50 ms), and
 * where the bytes of each bundle over the size target go (esbuild metafile, top packages). Writes
 * the figures to .paystep/bundles/report.json. Exits 1 when a bundle is over the budget.
 *
 * Flags: --runs N (cold imports per bundle, default 5; 0 skips the init measurement). The imports run
 * under Node 24 (the Lambda runtime's major version) when tools/node24 is installed (`npm ci --prefix
 * tools/node24`, which test/cdk/bundle-budget.test.ts does on first use), else under this Node.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { BUNDLE_BUDGET_BYTES, BUNDLE_TARGET_BYTES, INIT_TARGET_MS } from '../lib/bundling';
import {
  BUNDLE_REPORT_DIR,
  formatBundleOrigins,
  formatBundleReport,
  listDeployedFunctions,
  measureBundles,
  measureInitTimes,
} from '../lib/bundle-report';
import { REPO_ROOT } from '../lib/repo-root';

const runsIndex = process.argv.indexOf('--runs');
const runs = runsIndex === -1 ? 5 : Number(process.argv[runsIndex + 1]);
if (!Number.isInteger(runs) || runs < 0) throw new Error('--runs takes a whole number');

const node24 = resolve(REPO_ROOT, 'tools', 'node24', 'node_modules', 'node', 'bin', 'node');
const nodePath = existsSync(node24) ? node24 : process.execPath;
const nodeVersion = execFileSync(nodePath, ['--version'], { encoding: 'utf8' }).trim();

const started = Date.now();
const functions = listDeployedFunctions();
const sizes = await measureBundles(functions);
const bundledSeconds = (Date.now() - started) / 1000;
const init = runs > 0 ? await measureInitTimes(functions, sizes, { runs, nodePath }) : undefined;
const targets = { bytes: BUNDLE_TARGET_BYTES, initMs: INIT_TARGET_MS };
console.log(formatBundleReport(sizes, BUNDLE_BUDGET_BYTES, init, targets));
const large = formatBundleOrigins(sizes, BUNDLE_TARGET_BYTES);
if (large !== '')
  console.log(
    `\nWhere the bytes go (esbuild metafile, top packages) in each bundle over ${BUNDLE_TARGET_BYTES / 1000} KB:\n${large}`,
  );

const over = sizes.filter((size) => size.bytes > BUNDLE_BUDGET_BYTES);
const overTarget = sizes.filter((size) => size.bytes > BUNDLE_TARGET_BYTES);
const slow = (init ?? []).filter((time) => time.medianMs > INIT_TARGET_MS);
const maxBytes = Math.max(...sizes.map((size) => size.bytes));
const maxTotalBytes = Math.max(...sizes.map((size) => size.totalBytes));
const maxInitMs = init === undefined ? undefined : Math.max(...init.map((time) => time.medianMs));
console.log(
  `\n${sizes.length} functions bundled in ${bundledSeconds.toFixed(1)} s; ${over.length} over budget. ` +
    `Targets: ${overTarget.length} over ${BUNDLE_TARGET_BYTES / 1000} KB (largest ${(maxBytes / 1024).toFixed(1)} KiB read at init, ${(maxTotalBytes / 1024).toFixed(1)} KiB with lazy chunks)` +
    (maxInitMs === undefined
      ? '; init not measured (--runs 0).'
      : `, ${slow.length} over ${INIT_TARGET_MS} ms of module initialisation (slowest ${maxInitMs.toFixed(1)} ms, median of ${runs} runs on Node ${nodeVersion}, load average ${loadavg()[0]!.toFixed(2)}).`),
);
writeFileSync(
  join(BUNDLE_REPORT_DIR, 'report.json'),
  `${JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      node: nodeVersion,
      loadAverage: loadavg(),
      runs,
      targets,
      /** Bytes read at a cold start (entry and static chunks), the figure the targets apply to. */
      maxKiB: Math.round((maxBytes / 1024) * 10) / 10,
      maxTotalKiB: Math.round((maxTotalBytes / 1024) * 10) / 10,
      maxInitMs: maxInitMs === undefined ? null : Math.round(maxInitMs * 10) / 10,
      bundles: sizes.map((size) => ({
        entryName: size.entryName,
        bytes: size.bytes,
        totalBytes: size.totalBytes,
        gzipBytes: size.gzipBytes,
        initFiles: size.initFiles,
        initMs: init?.find((time) => time.entryName === size.entryName)?.medianMs ?? null,
        initBundleMs: init?.find((time) => time.entryName === size.entryName)?.bundleMedianMs ?? null,
        initSdkMs: init?.find((time) => time.entryName === size.entryName)?.sdkMedianMs ?? null,
        topOrigins: size.origins.slice(0, 8),
        lazyChunks: size.lazyChunks.map((chunk) => ({ ...chunk, origins: chunk.origins.slice(0, 4) })),
      })),
    },
    null,
    2,
  )}\n`,
);
if (over.length > 0) process.exitCode = 1;
