/**
 * `npm run smoke -- <ApiUrl> --psp-url <url>` (bin/smoke.ts), the first-deploy smoke test, run
 * against the local stack (`npm start` as a child process) the way it runs against a deployed one:
 * one payment per kind of test card, each ending as expected, including the async card whose
 * result only arrives by the PSP's signed callback.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSmokeArgs, runSmoke, SMOKE_CASES } from '../../bin/smoke';
import { REPO_ROOT } from '../../local/handlers';
import { freePort } from '../../local/net';
import { startStackProcess, type StackProcess } from './harness';

const execFileAsync = promisify(execFile);
let stack: StackProcess;

beforeAll(async () => {
  stack = await startStackProcess();
});

afterAll(async () => {
  await stack?.stop();
});

describe('npm run smoke', () => {
  it('pays once per test-card kind and reports each expected outcome, through the npm script', async () => {
    // Act
    const run = await execFileAsync('npm', ['run', '--silent', 'smoke', '--', stack.apiUrl, '--psp-url', stack.pspUrl], {
      cwd: REPO_ROOT,
      env: { ...process.env, PAYSTEP_ADMIN_TOKEN: stack.adminToken },
    });
    // Assess
    for (const smokeCase of SMOKE_CASES)
      expect(run.stdout).toMatch(new RegExp(`^ok +${smokeCase.kind} +chk_\\S+ ${smokeCase.expect.status}`, 'm'));
    expect(run.stdout).toContain(`smoke test passed: ${SMOKE_CASES.length} payments`);
    expect(SMOKE_CASES.map((smokeCase) => smokeCase.kind)).toEqual(['approve', 'decline', 'unavailable_once', 'async_callback']);
    for (const smokeCase of SMOKE_CASES) expect(run.stdout).not.toContain(smokeCase.card);
  }, 120_000);

  it('reports every payment as failed when the PSP cannot be reached', async () => {
    // Prepare
    const closedPort = await freePort();
    // Act
    const results = await runSmoke({
      apiUrl: stack.apiUrl,
      pspUrl: `http://127.0.0.1:${closedPort}`,
      adminToken: stack.adminToken,
      log: () => {},
    });
    // Assess
    expect(results.map((result) => [result.kind, result.ok])).toEqual(SMOKE_CASES.map((smokeCase) => [smokeCase.kind, false]));
  });

  it('refuses to run without an API URL, a PSP URL or the admin token', () => {
    // Act / Assess
    expect(() => parseSmokeArgs(['https://api.example.test'], { PAYSTEP_ADMIN_TOKEN: 'adm_x' })).toThrow(/--psp-url/);
    expect(() => parseSmokeArgs(['--psp-url', 'https://psp.example.test'], { PAYSTEP_ADMIN_TOKEN: 'adm_x' })).toThrow(/<ApiUrl>/);
    expect(() => parseSmokeArgs(['https://api.example.test', '--psp-url', 'https://psp.example.test'], {})).toThrow(
      /PAYSTEP_ADMIN_TOKEN/,
    );
    expect(
      parseSmokeArgs(['https://api.example.test', '--psp-url=https://psp.example.test'], { PAYSTEP_ADMIN_TOKEN: 'adm_x' }),
    ).toEqual({
      apiUrl: 'https://api.example.test',
      pspUrl: 'https://psp.example.test',
      adminToken: 'adm_x',
    });
  });
});
