/**
 * The developer CLI (`npx paystep`, bin/paystep.mjs) against the running local stack:
 * `listen --forward-to` forwards the merchant's new events, signed per Standard Webhooks with the
 * given secret (verified here with the `standardwebhooks` library), and ends with a summary line;
 * `fast-forward` makes a checkout's pending webhook retry (a 10-minute schedule here) and its
 * authorization expiry (900 s locally) due now, proved by the event log and the PSP's ledger.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../local/handlers';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { fetchLedger, tokenizeTestCard } from '../../local/sandbox-psp/client';
import { startStackProcess, type StackProcess } from './harness';

const CLI = join(REPO_ROOT, 'bin', 'paystep.mjs');

interface Received {
  headers: Record<string, string>;
  body: string;
}

interface EventView {
  id: string;
  type: string;
  data: { object?: { id?: string } };
  deliveries: { endpoint_id: string; status: string; next_attempt_at: string | null; attempts: { status: string }[] }[];
}

let stack: StackProcess;
let api: PaystepClient;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let receiverStatus = 200;
const children: ChildProcessWithoutNullStreams[] = [];

/** Runs the CLI; resolves its exit code and output. */
function runCli(args: string[]): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env }, stdio: 'pipe' });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function paidCheckout(options: { manual?: boolean } = {}): Promise<string> {
  const created = await api.call<{ id: string; client_secret: string }>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `cli_${randomBytes(6).toString('hex')}`,
      amount: 2500,
      currency: 'USD',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
      ...(options.manual === true ? { capture_method: 'manual' } : {}),
    },
  });
  expect(created.status, created.text).toBe(201);
  const token = await tokenizeTestCard(stack.pspUrl, '4242424242424242');
  expect((await api.pay(created.body.id, created.body.client_secret, token)).status).toBe(202);
  await api.waitForTerminal(created.body.id, created.body.client_secret, 60_000);
  return created.body.id;
}

async function eventsAbout(checkoutId: string): Promise<EventView[]> {
  const answer = await api.call<{ data: EventView[] }>('GET', '/v1/events?limit=100', { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body.data.filter((event) => event.data.object?.id === checkoutId);
}

beforeAll(async () => {
  // Webhook retries 10 minutes apart: only a fast-forward makes the second attempt happen in this test.
  stack = await startStackProcess({ PAYSTEP_WEBHOOK_RETRY_SCHEDULE_MS: '0,600000,600000' });
  api = new PaystepClient(stack.apiUrl);
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers as Record<string, string>, body });
      response.writeHead(receiverStatus).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (receiver !== undefined) await new Promise((resolve) => receiver.close(resolve));
  await stack?.stop();
});

describe('npx paystep', () => {
  it('listen forwards only new events, signed with the given secret, and ends with a summary line', async () => {
    // Prepare: one checkout before listening (not forwarded), then the CLI
    const before = await paidCheckout();
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const cli = runCli([
      'listen',
      '--forward-to',
      `${receiverUrl}/listen`,
      '--api',
      stack.apiUrl,
      '--key',
      stack.secretKey,
      '--secret',
      secret,
      '--interval',
      '200',
    ]);
    await eventually(
      async () => cli.output(),
      (text) => text.includes('\nReady\n'),
      30_000,
    );

    // Act
    const after = await paidCheckout();
    const fromCli = (): Received[] => received.filter((r) => r.headers['user-agent'] === 'paystep-listen');
    await eventually(
      async () => fromCli(),
      (list) =>
        list.some(
          (r) => (JSON.parse(r.body) as { type: string; data: { object?: { id: string } } }).type === 'checkout.succeeded',
        ),
      30_000,
    );
    cli.child.kill('SIGINT');
    const code = await cli.exited;
    const forwarded = fromCli();

    // Assess
    const verifier = new Webhook(secret);
    const bodies = forwarded.map(
      (r) => verifier.verify(r.body, r.headers) as { id: string; type: string; data: { object?: { id: string } } },
    );
    expect(bodies.map((b) => b.data.object?.id)).not.toContain(before);
    expect(bodies.filter((b) => b.data.object?.id === after).map((b) => b.type)).toContain('checkout.succeeded');
    expect(new Set(bodies.map((b) => b.id)).size).toBe(bodies.length);
    expect(forwarded.every((r) => r.headers['webhook-id'] === (JSON.parse(r.body) as { id: string }).id)).toBe(true);
    expect(() =>
      new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(forwarded[0]!.body, forwarded[0]!.headers),
    ).toThrow();
    expect(code).toBe(0);
    const lines = cli.output().trim().split('\n');
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^paystep listen: forwarded ${bodies.length} events \\(${bodies.length} delivered, 0 failed\\) in \\d+\\.\\d s$`,
      ),
    );
  });

  it('fast-forward makes a failed webhook delivery retry now instead of in 10 minutes', async () => {
    // Prepare: an endpoint that fails, so the first attempt leaves the delivery pending for 10 minutes
    const endpoint = await api.call<{ id: string }>('POST', '/v1/webhook_endpoints', {
      token: stack.secretKey,
      body: { url: `${receiverUrl}/failing` },
    });
    expect(endpoint.status, endpoint.text).toBe(201);
    receiverStatus = 503;
    const checkoutId = await paidCheckout();
    const pending = await eventually(
      async () =>
        (await eventsAbout(checkoutId))
          .find((e) => e.type === 'checkout.succeeded')
          ?.deliveries.find((d) => d.endpoint_id === endpoint.body.id),
      (delivery) => delivery?.attempts.length === 1 && delivery.status === 'pending',
      30_000,
    );
    receiverStatus = 200;

    // Act
    const cli = runCli(['fast-forward', checkoutId, '--api', stack.apiUrl, '--admin-token', stack.adminToken]);
    const code = await cli.exited;
    const delivered = await eventually(
      async () =>
        (await eventsAbout(checkoutId))
          .find((e) => e.type === 'checkout.succeeded')
          ?.deliveries.find((d) => d.endpoint_id === endpoint.body.id),
      (delivery) => delivery?.status === 'delivered',
      15_000,
    );

    // Assess
    expect(pending?.status).toBe('pending');
    expect(Date.parse(pending!.next_attempt_at!) - Date.now()).toBeGreaterThan(500_000);
    expect(code).toBe(0);
    expect(cli.output().trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^paystep fast-forward: ${checkoutId}: authorization expiry none, [1-9]\\d* webhook deliveries due now, 0 skipped$`,
      ),
    );
    expect(delivered?.status).toBe('delivered');
    expect(delivered?.attempts.map((a) => a.status)).toEqual(['failed', 'succeeded']);
    const removed = await api.call('DELETE', `/v1/webhook_endpoints/${endpoint.body.id}`, { token: stack.secretKey });
    expect(removed.status, removed.text).toBe(200);
  });

  it('fast-forward brings a held manual authorization to its warning and expiry now: the default void happens', async () => {
    // Prepare: a manual-capture checkout, authorized and held (900 s validity locally)
    const checkoutId = await paidCheckout({ manual: true });

    // Act
    const cli = runCli(['fast-forward', checkoutId, '--api', stack.apiUrl, '--admin-token', stack.adminToken]);
    const code = await cli.exited;
    const events = await eventually(
      async () => (await eventsAbout(checkoutId)).map((e) => e.type),
      (types) => types.includes('payment.voided'),
      20_000,
    );

    // Assess
    expect(code).toBe(0);
    expect(cli.output()).toContain(`paystep fast-forward: ${checkoutId}: authorization expiry due now`);
    expect(events).toEqual(expect.arrayContaining(['authorization.expiring', 'payment.voided']));
    const ledger = await fetchLedger(stack.pspUrl, checkoutId);
    expect(ledger.filter((op) => op.type === 'void' && op.status === 'succeeded').map((op) => op.amount)).toEqual([2500]);
    expect(ledger.filter((op) => op.type === 'capture')).toEqual([]);
  });

  it('fast-forward refuses a wrong admin token and an unknown checkout', async () => {
    // Act
    const wrongToken = runCli(['fast-forward', 'chk_unknown', '--api', stack.apiUrl, '--admin-token', 'adm_wrong']);
    const unknown = runCli(['fast-forward', 'chk_doesnotexist', '--api', stack.apiUrl, '--admin-token', stack.adminToken]);

    // Assess
    expect(await wrongToken.exited).toBe(1);
    expect(wrongToken.output()).toContain('HTTP 401');
    expect(await unknown.exited).toBe(1);
    expect(unknown.output()).toContain('HTTP 404');
  });
});
