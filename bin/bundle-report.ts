/**
 * `npm run bundle-report`: bundles every deployed function as `cdk synth` would and prints each
 * bundle's size (raw, gzip, source map) against the budget. Exits 1 when a bundle is over budget.
 */
import { BUNDLE_BUDGET_BYTES } from '../lib/bundling';
import { formatBundleReport, measureBundles } from '../lib/bundle-report';

const started = Date.now();
const sizes = await measureBundles();
console.log(formatBundleReport(sizes, BUNDLE_BUDGET_BYTES));
const over = sizes.filter((size) => size.bytes > BUNDLE_BUDGET_BYTES);
console.log(
  `\n${sizes.length} functions bundled in ${((Date.now() - started) / 1000).toFixed(1)} s; ${over.length} over budget.`,
);
if (over.length > 0) process.exitCode = 1;
