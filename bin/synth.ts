/**
 * `npm run synth`: `cdk synth` (quiet) with progress while it bundles and synthesizes, then one
 * summary line from cdk.out/manifest.json: the stacks, their templates' sizes and the asset count.
 * Extra arguments go to cdk (e.g. `npm run synth -- -c stage=prod`). Without a
 * `-c sandboxPspUrl=...` it passes the offline placeholder SYNTH_PSP_URL (the app refuses to
 * synthesize without a PSP URL, so that `cdk deploy` never ships one that fails every payment).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../local/handlers';

/** The offline placeholder (lib/paystep-config.ts DEFAULT_SANDBOX_PSP_URL): `.invalid` never resolves. */
export const SYNTH_PSP_URL = 'https://sandbox-psp.invalid';
const cdkArgs = process.argv.slice(2);
if (!cdkArgs.some((arg) => arg.includes('sandboxPspUrl='))) cdkArgs.push('-c', `sandboxPspUrl=${SYNTH_PSP_URL}`);

const started = Date.now();
const seconds = (): string => ((Date.now() - started) / 1000).toFixed(1);
console.error(
  'synth: bundling the Lambda handlers (esbuild) and synthesizing the CDK app with cdk-nag and Control Tower (cfn-guard) checks...',
);
const child = spawn('npx', ['cdk', 'synth', '--no-notices', '-q', ...cdkArgs], {
  cwd: REPO_ROOT,
  stdio: 'inherit',
  env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_HOME: join(REPO_ROOT, '.paystep', 'cdk-home') },
});
const heartbeat = setInterval(() => console.error(`synth: still working (${seconds()} s)...`), 10_000);
const code = await new Promise<number>((resolve) =>
  child.on('exit', (exit, signal) => resolve(exit ?? (signal !== null ? 1 : 0))),
);
clearInterval(heartbeat);
if (code !== 0) {
  console.log(`synth: failed (cdk exited ${code}) after ${seconds()} s`);
  process.exit(code);
}
const out = join(REPO_ROOT, 'cdk.out');
const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
  artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
};
const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
const sizes = stacks.map(([name, a]) => {
  const file = join(out, a.properties?.templateFile ?? `${name}.template.json`);
  return `${name} ${existsSync(file) ? Math.round(statSync(file).size / 1024) : '?'} KiB`;
});
const assets = readdirSync(out).filter((entry) => entry.startsWith('asset.')).length;
console.log(`synth: ${stacks.length} stacks (${sizes.join(', ')}), ${assets} assets in cdk.out, ${seconds()} s`);
