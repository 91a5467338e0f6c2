/**
 * `npm start` as a user meets it: a child process that prints its services and `Ready`, answers
 * over HTTP with the real handlers, and on SIGTERM exits 0 leaving no DynamoDB Local JVM behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandOf, isAlive, startStackProcess, type StackProcess } from './harness';
import { freePort } from '../../local/net';

const ADMIN_TOKEN = 'adm_e2e_start_test_token';

let stack: StackProcess | undefined;

beforeAll(async () => {
  stack = await startStackProcess({ PAYSTEP_ADMIN_TOKEN: ADMIN_TOKEN });
});

afterAll(async () => {
  await stack?.stop();
});

describe('npm start (local/start.ts --in-memory)', () => {
  it('prints one line per service, the credentials and then Ready', () => {
    // Prepare
    const s = stack as StackProcess;
    const indexOf = (prefix: string): number => s.lines.findIndex((l) => l.startsWith(prefix));

    // Assess
    expect(s.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.pspUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.stripeSandboxUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.merchantUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.sfnUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.dynamoDbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.adminToken).toBe(ADMIN_TOKEN);
    expect(s.secretKey).toMatch(/^sk_test_/);
    expect(s.merchantId).toMatch(/^mer_/);
    for (const prefix of [
      'API: ',
      'Sandbox PSP: ',
      'Stripe sandbox: ',
      'Demo merchant: ',
      'Step Functions (local): ',
      'DynamoDB Local: ',
      'Admin token: ',
    ]) {
      expect(s.lines.filter((l) => l.startsWith(prefix))).toHaveLength(1);
    }
    expect(indexOf('API: ')).toBeLessThan(indexOf('Admin token: '));
    expect(indexOf('Stripe sandbox: ')).toBeLessThan(indexOf('Ready'));
    expect(s.lines.at(-1)).toBe('Ready');
    expect(s.descendantPids.some((pid) => commandOf(pid).includes('DynamoDBLocal'))).toBe(true);
  });

  it('onboards a merchant through the admin API and configured the demo merchant settings', async () => {
    // Prepare
    const s = stack as StackProcess;

    // Act
    const created = await fetch(`${s.apiUrl}/v1/merchants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'E2E shop' }),
    });
    const createdBody = (await created.json()) as Record<string, unknown>;
    const unauthorized = await fetch(`${s.apiUrl}/v1/merchants`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Nope' }),
    });
    const settings = await fetch(`${s.apiUrl}/v1/settings`, { headers: { authorization: `Bearer ${s.secretKey}` } });
    const settingsBody = (await settings.json()) as Record<string, unknown>;

    // Assess
    expect(created.status).toBe(201);
    expect(createdBody.id).toMatch(/^mer_/);
    expect(createdBody.secret_key).toMatch(/^sk_test_/);
    expect(unauthorized.status).toBe(401);
    expect(settings.status).toBe(200);
    expect(settingsBody).toMatchObject({
      inventory_confirmation_url: `${s.merchantUrl}/inventory-confirmation`,
      inventory_confirmation_enabled: true,
    });
  });

  it('answers an unknown route with the 404 error shape', async () => {
    // Act
    const res = await fetch(`${(stack as StackProcess).apiUrl}/v1/does-not-exist`);

    // Assess
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'route_not_found', message: expect.any(String), request_id: res.headers.get('apigw-requestid') },
    });
  });

  it("prints progress per service to stderr, then a banner whose curl has a fresh order ref and the t-shirt's real price", () => {
    // Prepare
    const s = stack as StackProcess;
    const progress = s
      .stderr()
      .split('\n')
      .filter((line) => /^ {2}\[\d\/9\] /.test(line));
    const curl = s.lines.find((line) => line.includes('"merchant_order_ref"')) ?? '';

    // Assess
    expect(progress.map((line) => /\[(\d)\/9\] ([^:]+):/.exec(line)?.slice(1, 3).join(' '))).toEqual([
      '1 DynamoDB Local',
      '2 Step Functions emulator',
      '3 API',
      '4 Sandbox PSP',
      '5 Stripe sandbox',
      '6 Demo merchant',
      '7 Webhook dispatcher',
      '8 Reconciliation sweep',
      '9 Demo merchant onboarded (settings, webhook endpoint)',
    ]);
    expect(progress.every((line) => / ready in \d+ ms$/.test(line))).toBe(true);
    expect(curl).toMatch(
      /"merchant_order_ref":"order-\d{8}-[0-9a-f]{6}","amount":2500,"currency":"USD","items":\[\{"sku":"tshirt","quantity":1\}\]/,
    );
    expect(s.lines.at(-2)).toMatch(/^Started in \d+\.\d s; Ctrl-C stops everything\.$/);
  });

  it('stops on SIGTERM with exit code 0 and leaves no JVM behind', async () => {
    // Prepare
    const s = stack as StackProcess;
    const jvmPids = s.descendantPids.filter((pid) => commandOf(pid).includes('DynamoDBLocal'));

    // Act
    const result = await s.stop();

    // Assess
    expect(jvmPids.length).toBeGreaterThan(0);
    expect(result).toEqual({ exitCode: 0, signal: null });
    expect(jvmPids.filter(isAlive)).toEqual([]);
    await expect(fetch(`${s.apiUrl}/v1/settings`)).rejects.toThrow();
  });

  it('ends the stopped run with a one-line summary on stderr', () => {
    // Prepare: the stack the previous test stopped
    const s = stack as StackProcess;

    // Assess
    expect(s.stderr().trim().split('\n').at(-1)).toMatch(
      /^Stopped: every service and the DynamoDB Local JVM, after \d+ (s|min \d+ s) running\.$/,
    );
  });
});

describe('npm start with a data dir', () => {
  it('keeps the demo merchant and every checkout across a restart', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'paystep-e2e-'));
    try {
      const first = await startStackProcess({ PAYSTEP_DATA_DIR: dataDir }, { inMemory: false });
      let checkoutId: string;
      try {
        const created = await fetch(`${first.apiUrl}/v1/checkouts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${first.secretKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            merchant_order_ref: 'restart-1',
            amount: 1050,
            currency: 'USD',
            items: [{ sku: 'tshirt', quantity: 1 }],
            success_url: `${first.merchantUrl}/thanks`,
            failure_url: `${first.merchantUrl}/sorry`,
          }),
        });
        expect(created.status).toBe(201);
        checkoutId = ((await created.json()) as { id: string }).id;
      } finally {
        await first.stop();
      }

      // Act
      const second = await startStackProcess({ PAYSTEP_DATA_DIR: dataDir }, { inMemory: false });
      let fetched: Response;
      try {
        fetched = await fetch(`${second.apiUrl}/v1/checkouts/${checkoutId}`, {
          headers: { authorization: `Bearer ${second.secretKey}` },
        });
        const body = (await fetched.json()) as { id: string; status: string };

        // Assess
        expect(second.merchantId).toBe(first.merchantId);
        expect(second.secretKey).toBe(first.secretKey);
        expect(fetched.status).toBe(200);
        expect(body).toMatchObject({ id: checkoutId, status: 'open' });
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('npm start when a port is taken', () => {
  it('exits 1 with a message naming the port and the variable to change', async () => {
    // Prepare
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));

    try {
      // Act
      const attempt = startStackProcess({ PAYSTEP_PORT: String(port) });

      // Assess
      await expect(attempt).rejects.toThrow(
        new RegExp(`exited \\(1\\)[\\s\\S]*port ${port} on 127\\.0\\.0\\.1 is already in use \\(set PAYSTEP_PORT`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
