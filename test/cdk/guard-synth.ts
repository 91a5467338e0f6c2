/**
 * Child-process entry of test/cdk/control-tower-guard.test.ts: synthesizes the app with the
 * cfn-guard plugin (as bin/app.ts registers it) and prints the plugin's part of
 * validation-report.json on stdout. cfn-guard runs synchronously for ~30 s; in a child process it
 * does not block the test worker (vitest's RPC times out on a blocked worker).
 *
 * Usage: tsx test/cdk/guard-synth.ts <stage> [--with-unreviewed-key]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { CFN_GUARD_PLUGIN } from '../../lib/control-tower-guard';
import { addPaystepStacks } from '../../lib/paystep-app';
import { createTestApp } from './synth-paystep';

const [stage = 'dev', flag] = process.argv.slice(2);
const app = createTestApp({ stage });
const stacks = addPaystepStacks(app);
// The guard check: one resource nobody reviewed, which must come out as a finding.
if (flag === '--with-unreviewed-key') new kms.Key(stacks.stateless, 'UnreviewedKey', { enableKeyRotation: true });
Validations.of(app).addPlugins(new CfnGuardValidator({}));
let directory: string;
try {
  directory = app.synth().directory;
} catch {
  directory = app.outdir; // a failing validation still writes the report
}
const report = JSON.parse(readFileSync(resolve(directory, 'validation-report.json'), 'utf8')) as {
  pluginReports: { pluginName: string }[];
};
const guard = report.pluginReports.find((entry) => entry.pluginName === CFN_GUARD_PLUGIN);
if (guard === undefined) {
  console.error('the cfn-guard plugin did not report');
  process.exit(2);
}
process.stdout.write(JSON.stringify(guard));
