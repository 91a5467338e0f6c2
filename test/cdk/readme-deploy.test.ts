/**
 * The README's "Deploying to AWS" block (between the deploy-steps markers) is what a first-time
 * user types, so it is checked against the code: every npm script exists, the steps come in a
 * working order (install, offline synth, bootstrap, dev deploy with the required PSP URL, PSP
 * configured with the callback secret and `<ApiUrl>/v1/psp/sandbox/callbacks`, smoke test,
 * teardown), every `-c` key is one the app reads, and every `<Output>` it names is an output of
 * the synthesized stacks.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSmokeArgs } from '../../bin/smoke';
import { API_ROUTES } from '../../lib/api-routes';
import { DEFAULT_SANDBOX_PSP_URL } from '../../lib/paystep-config';
import { REPO_ROOT } from '../../lib/repo-root';
import { synthPaystep } from './synth-paystep';

function deployBlock(): string[] {
  const readme = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8');
  const match = /<!-- deploy-steps:begin -->\n```sh\n([\s\S]*?)```\n<!-- deploy-steps:end -->/.exec(readme);
  if (match === null) throw new Error('README.md has no deploy-steps block');
  return match[1]!.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

function indexOfLine(lines: string[], pattern: RegExp): number {
  const index = lines.findIndex((line) => pattern.test(line));
  expect(index, `a line matching ${pattern}`).toBeGreaterThanOrEqual(0);
  return index;
}

describe('README deploy steps', () => {
  it('use only npm scripts that exist, in a working order, dev first, with the PSP configured and a teardown', () => {
    // Prepare
    const lines = deployBlock();
    const scripts = (JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    // Act
    const used = lines.flatMap((line) => [...line.matchAll(/npm run (\S+)/g)].map((m) => m[1]!));
    const order = [
      indexOfLine(lines, /^npm ci$/),
      indexOfLine(lines, /^npm run synth$/),
      indexOfLine(lines, /^npm run cdk -- bootstrap aws:\/\/<account-id>\/<region>$/),
      indexOfLine(lines, /^npm run cdk -- deploy --all -c stage=dev -c sandboxPspUrl=https:\/\/<psp-host>/),
      indexOfLine(lines, /SANDBOX_PSP_CALLBACK_SECRET=.*--secret-id <PspCallbackSecretArn>/),
      indexOfLine(lines, /^npm run sandbox-psp -- .*--callback-url <ApiUrl>\/v1\/psp\/sandbox\/callbacks$/),
      indexOfLine(lines, /PAYSTEP_ADMIN_TOKEN=.*--secret-id <AdminTokenSecretArn>/),
      indexOfLine(lines, /^npm run smoke -- <ApiUrl> --psp-url https:\/\/<psp-host>$/),
      indexOfLine(lines, /^npm run cdk -- destroy --all -c stage=dev/),
    ];
    // Assess
    expect(used.length).toBeGreaterThanOrEqual(7);
    for (const script of used) expect(Object.keys(scripts), `npm run ${script}`).toContain(script);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(lines.join('\n')).not.toMatch(/stage=prod/);
    expect(scripts.synth).toBe('tsx bin/synth.ts');
    expect(readFileSync(resolve(REPO_ROOT, 'bin/synth.ts'), 'utf8')).toContain(`SYNTH_PSP_URL = '${DEFAULT_SANDBOX_PSP_URL}'`);
  });

  it('name only -c keys the app reads, outputs the stacks have, and the real callback route', () => {
    // Prepare
    const text = deployBlock().join('\n');
    const synth = synthPaystep();
    const outputs = new Set([
      ...Object.keys(synth.statefulTemplate.toJSON().Outputs as object),
      ...Object.keys(synth.statelessTemplate.toJSON().Outputs as object),
    ]);
    // Act
    const contextKeys = [...text.matchAll(/-c (\w+)=/g)].map((m) => m[1]!);
    const placeholders = [...new Set([...text.matchAll(/<([A-Za-z]+)>/g)].map((m) => m[1]!))].filter((name) =>
      /^[A-Z]/.test(name),
    );
    // Assess
    for (const key of contextKeys)
      expect(['stage', 'sandboxPspUrl', 'publicCheckoutBaseUrl', 'natGateways', 'alarmEmail'], key).toContain(key);
    expect(placeholders.sort()).toEqual(['AdminTokenSecretArn', 'ApiUrl', 'PspCallbackSecretArn']);
    for (const name of placeholders) expect(outputs, name).toContain(name);
    expect(API_ROUTES.some((route) => route.method === 'POST' && route.path === '/v1/psp/{connector}/callbacks')).toBe(true);
  });

  it('call the smoke test with arguments it accepts', () => {
    // Prepare
    const line = deployBlock().find((candidate) => candidate.startsWith('npm run smoke -- '))!;
    const args = line
      .slice('npm run smoke -- '.length)
      .replaceAll('<ApiUrl>', 'https://abc.execute-api.eu-west-1.amazonaws.com')
      .replaceAll('<psp-host>', 'psp.example.com')
      .split(' ');
    // Act
    const options = parseSmokeArgs(args, { PAYSTEP_ADMIN_TOKEN: 'token-from-secrets-manager' });
    // Assess
    expect(options).toEqual({
      apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      pspUrl: 'https://psp.example.com',
      adminToken: 'token-from-secrets-manager',
    });
  });
});
