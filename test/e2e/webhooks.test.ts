/**
 * Merchant webhooks end to end against `npm start` in a child process, with a compressed retry
 * schedule and the local dispatcher timer (the same handler AWS runs every minute). A receiver in
 * this test plays the merchant: 500 twice then 200 (delivered on attempt 3, same webhook-id,
 * signature verified with `standardwebhooks`); down for the whole schedule (dead-lettered, then
 * POST /v1/events/{id}/redeliver delivers once it is back); and a SIGKILL of the whole stack
 * between two attempts, restarted on the same data dir, after which the pending delivery completes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { tokenizeTestCard } from '../../local/sandbox-psp/client';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { freePort } from '../../local/net';
import { startStackProcess, type StackProcess } from './harness';

/** Five attempts 300 ms apart (jitter ±10 %): the whole schedule takes ~1.5 s. */
const FAST_SCHEDULE = { PAYSTEP_WEBHOOK_RETRY_SCHEDULE_MS: '0,300,300,300,300' };

interface Receiver {
  url: string;
  port: number;
  received: { headers: IncomingHttpHeaders; body: string }[];
  /** Statuses to answer next; 200 once empty. */
  script: number[];
  close(): Promise<void>;
}

async function startReceiver(port?: number): Promise<Receiver> {
  const listenPort = port ?? (await freePort());
  const receiver: Receiver = {
    url: `http://127.0.0.1:${listenPort}/hooks`,
    port: listenPort,
    received: [],
    script: [],
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      receiver.received.push({ headers: req.headers, body });
      res.writeHead(receiver.script.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return receiver;
}

interface EventView {
  id: string;
  type: string;
  deliveries: {
    endpoint_id: string;
    status: string;
    attempt: number;
    attempts: { number: number; status: string; http_status: number | null; latency_ms: number; error: string | null }[];
  }[];
}

/** A fresh merchant (no inventory confirmation) with one webhook endpoint. */
async function onboard(stack: StackProcess, api: PaystepClient, url: string) {
  const merchant = await api.call<{ id: string; secret_key: string }>('POST', '/v1/merchants', {
    token: stack.adminToken,
    body: { name: 'Webhook shop' },
  });
  expect(merchant.status).toBe(201);
  const key = merchant.body.secret_key;
  const endpoint = await api.call<{ id: string; secret: string }>('POST', '/v1/webhook_endpoints', {
    token: key,
    body: { url, enabled_events: ['checkout.succeeded'] },
  });
  expect(endpoint.status).toBe(201);
  return { key, endpointId: endpoint.body.id, secret: endpoint.body.secret };
}

/** Creates and pays a checkout with the approving test card; waits for `succeeded`. */
async function payCheckout(stack: StackProcess, api: PaystepClient, key: string): Promise<string> {
  const created = await api.call<{ id: string; client_secret: string }>('POST', '/v1/checkouts', {
    token: key,
    body: {
      merchant_order_ref: `order-${Date.now()}-${Math.random()}`,
      amount: 1250,
      currency: 'USD',
      items: [{ sku: 'mug', quantity: 1 }],
      success_url: 'https://shop.example/thanks',
      failure_url: 'https://shop.example/sorry',
    },
  });
  expect(created.status).toBe(201);
  const token = await tokenizeTestCard(stack.pspUrl, '4242424242424242');
  expect((await api.pay(created.body.id, created.body.client_secret, token)).status).toBe(202);
  const terminal = await api.waitForTerminal(created.body.id, created.body.client_secret, 60_000);
  expect(terminal.status).toBe('succeeded');
  return created.body.id;
}

async function resultEvent(api: PaystepClient, key: string): Promise<EventView | undefined> {
  const list = await api.call<{ data: EventView[] }>('GET', '/v1/events?type=checkout.succeeded', { token: key });
  return list.body.data?.[0];
}

describe('webhook delivery on the running stack', () => {
  let stack: StackProcess;
  let api: PaystepClient;

  beforeAll(async () => {
    stack = await startStackProcess(FAST_SCHEDULE);
    api = new PaystepClient(stack.apiUrl);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('500, 500, then 200: delivered on attempt 3 with the same webhook-id, verifiable with standardwebhooks, on the checkout timeline', async () => {
    // Prepare
    const receiver = await startReceiver();
    receiver.script = [500, 500];
    try {
      const { key, secret } = await onboard(stack, api, receiver.url);
      // Act
      const checkoutId = await payCheckout(stack, api, key);
      const event = await eventually(
        () => resultEvent(api, key),
        (e) => e?.deliveries[0]?.status === 'delivered',
        20_000,
      );
      // Assess
      const delivery = event!.deliveries[0]!;
      expect(delivery.attempt).toBe(3);
      expect(delivery.attempts.map((a) => [a.number, a.status, a.http_status])).toEqual([
        [1, 'failed', 500],
        [2, 'failed', 500],
        [3, 'succeeded', 200],
      ]);
      expect(receiver.received).toHaveLength(3);
      expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([event!.id, event!.id, event!.id]);
      for (const request of receiver.received) {
        expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({
          type: 'checkout.succeeded',
          id: event!.id,
          data: { object: { id: checkoutId, status: 'succeeded' } },
        });
      }
      const checkout = await api.call<{ events: { type: string; data: Record<string, unknown> }[] }>(
        'GET',
        `/v1/checkouts/${checkoutId}`,
        { token: key },
      );
      const rows = checkout.body.events.filter((row) => row.type.startsWith('webhook_'));
      expect(rows.map((row) => [row.type, row.data.attempt])).toEqual([
        ['webhook_failed', 1],
        ['webhook_failed', 2],
        ['webhook_delivered', 3],
      ]);
    } finally {
      await receiver.close();
    }
  });

  it('a receiver down for the whole schedule dead-letters the delivery; redeliver delivers once it is back', async () => {
    // Prepare: a port nobody listens on yet
    const port = await freePort();
    const { key, secret } = await onboard(stack, api, `http://127.0.0.1:${port}/hooks`);
    await payCheckout(stack, api, key);
    // Act
    const dead = await eventually(
      () => resultEvent(api, key),
      (e) => e?.deliveries[0]?.status === 'dead_lettered',
      20_000,
    );
    const receiver = await startReceiver(port);
    try {
      const redeliver = await api.call<EventView>('POST', `/v1/events/${dead!.id}/redeliver`, {
        token: key,
        body: {},
        idempotencyKey: `redo-${dead!.id}`,
      });
      const delivered = await eventually(
        () => resultEvent(api, key),
        (e) => e?.deliveries[0]?.status === 'delivered',
        20_000,
      );
      // Assess
      expect(dead!.deliveries[0]!.attempts).toHaveLength(5);
      expect(
        dead!.deliveries[0]!.attempts.every((a) => a.status === 'failed' && a.error !== null && a.error.includes('ECONNREFUSED')),
      ).toBe(true);
      expect(redeliver.status).toBe(202);
      expect(delivered!.deliveries[0]!.attempts.map((a) => a.number)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]!.headers['webhook-id']).toBe(dead!.id);
      expect(
        new Webhook(secret).verify(receiver.received[0]!.body, receiver.received[0]!.headers as Record<string, string>),
      ).toMatchObject({ id: dead!.id });
    } finally {
      await receiver.close();
    }
  });
});

describe('a crash between attempts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'paystep-webhook-crash-'));
  const env = { PAYSTEP_DATA_DIR: dataDir, PAYSTEP_WEBHOOK_RETRY_SCHEDULE_MS: '0,4000,300' };
  let receiver: Receiver;
  let second: StackProcess | undefined;

  beforeAll(async () => {
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await second?.stop();
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGKILL of the whole stack after a failed attempt, restart on the same data dir: the pending delivery completes', async () => {
    // Prepare
    const first = await startStackProcess(env, { inMemory: false });
    const firstApi = new PaystepClient(first.apiUrl);
    receiver.script = [500];
    const { key, secret } = await onboard(first, firstApi, receiver.url);
    await payCheckout(first, firstApi, key);
    const pending = await eventually(
      () => resultEvent(firstApi, key),
      (e) => e?.deliveries[0]?.attempt === 1,
      20_000,
    );
    // Act: kill every process of the stack at once (no shutdown hook runs), then start again
    const tree = [first.pid, ...first.descendantPids];
    for (const pid of tree) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await first.stop();
    second = await startStackProcess(env, { inMemory: false });
    const secondApi = new PaystepClient(second.apiUrl);
    const delivered = await eventually(
      () => resultEvent(secondApi, key),
      (e) => e?.deliveries[0]?.status === 'delivered',
      30_000,
    );
    // Assess
    expect(pending!.deliveries[0]).toMatchObject({ status: 'pending', attempt: 1 });
    expect(delivered!.id).toBe(pending!.id);
    expect(delivered!.deliveries[0]!.attempts.map((a) => [a.number, a.status])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([pending!.id, pending!.id]);
    expect(
      new Webhook(secret).verify(receiver.received[1]!.body, receiver.received[1]!.headers as Record<string, string>),
    ).toMatchObject({ id: pending!.id });
  });
});
