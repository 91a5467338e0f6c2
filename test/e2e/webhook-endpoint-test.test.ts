/**
 * POST /v1/webhook_endpoints/{id}/test against `npm start` in a child process: the signed
 * `webhook_endpoint.test` event goes through the normal delivery path (event log, dispatcher,
 * Standard Webhooks signature, retries) to that one endpoint, whatever it subscribes to, and
 * carries the endpoint's pinned API version. A receiver in this test verifies the signature with
 * the `standardwebhooks` package, as a merchant would.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { LATEST_API_VERSION } from '../../lambdas/domain/api-version';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { freePort } from '../../local/net';
import { startStackProcess, type StackProcess } from './harness';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface EventView {
  id: string;
  type: string;
  data: { object: { id: string; object: string } };
  deliveries: { endpoint_id: string; status: string; attempts: { status: string; http_status: number | null }[] }[];
}

/** One server, two paths (`/a` and `/b`), so two endpoints of one merchant can be told apart. */
async function startReceiver(): Promise<{ base: string; received: Received[]; script: number[]; close(): Promise<void> }> {
  const port = await freePort();
  const received: Received[] = [];
  const script: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(script.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    script,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('webhook endpoint test event on the running stack', () => {
  let stack: StackProcess;
  let api: PaystepClient;

  beforeAll(async () => {
    stack = await startStackProcess({ PAYSTEP_WEBHOOK_RETRY_SCHEDULE_MS: '0,300,300' });
    api = new PaystepClient(stack.apiUrl);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('delivers a signed webhook_endpoint.test event to that endpoint only, verifiable with standardwebhooks, retried like any event', async () => {
    // Prepare
    const receiver = await startReceiver();
    receiver.script.push(503);
    try {
      const merchant = await api.call<{ secret_key: string }>('POST', '/v1/merchants', {
        token: stack.adminToken,
        body: { name: 'Test-event shop' },
      });
      const key = merchant.body.secret_key;
      const tested = await api.call<{ id: string; secret: string; api_version: string }>('POST', '/v1/webhook_endpoints', {
        token: key,
        body: { url: `${receiver.base}/a`, enabled_events: ['checkout.succeeded'], api_version: LATEST_API_VERSION },
      });
      const other = await api.call<{ id: string }>('POST', '/v1/webhook_endpoints', {
        token: key,
        body: { url: `${receiver.base}/b` },
      });
      expect([tested.status, other.status, tested.body.api_version]).toEqual([201, 201, LATEST_API_VERSION]);

      // Act
      const answer = await api.call<EventView>('POST', `/v1/webhook_endpoints/${tested.body.id}/test`, { token: key, body: {} });
      const event = await eventually(
        () => api.call<EventView>('GET', `/v1/events/${answer.body.id}`, { token: key }),
        (read) => read.body.deliveries?.[0]?.status === 'delivered',
        20_000,
      );

      // Assess
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({
        type: 'webhook_endpoint.test',
        data: { object: { id: tested.body.id, object: 'webhook_endpoint' } },
      });
      expect(answer.body.deliveries.map((delivery) => [delivery.endpoint_id, delivery.status])).toEqual([
        [tested.body.id, 'pending'],
      ]);
      expect(event.body.deliveries[0]!.attempts.map((attempt) => [attempt.status, attempt.http_status])).toEqual([
        ['failed', 503],
        ['succeeded', 200],
      ]);
      expect(receiver.received.map((request) => request.path)).toEqual(['/a', '/a']);
      for (const request of receiver.received) {
        expect(request.headers['webhook-id']).toBe(answer.body.id);
        expect(request.headers['paystep-version']).toBe(LATEST_API_VERSION);
        expect(new Webhook(tested.body.secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({
          type: 'webhook_endpoint.test',
          id: answer.body.id,
          data: { object: { id: tested.body.id } },
        });
      }
      expect(() =>
        new Webhook(`whsec_${Buffer.from('another secret, 32 bytes long!!!').toString('base64')}`).verify(
          receiver.received[1]!.body,
          receiver.received[1]!.headers as Record<string, string>,
        ),
      ).toThrow();
    } finally {
      await receiver.close();
    }
  });

  it("answers 404 for another merchant's endpoint and 400 for a body field it does not take", async () => {
    // Prepare
    const owner = await api.call<{ secret_key: string }>('POST', '/v1/merchants', {
      token: stack.adminToken,
      body: { name: 'Owner' },
    });
    const stranger = await api.call<{ secret_key: string }>('POST', '/v1/merchants', {
      token: stack.adminToken,
      body: { name: 'Stranger' },
    });
    const endpoint = await api.call<{ id: string }>('POST', '/v1/webhook_endpoints', {
      token: owner.body.secret_key,
      body: { url: 'http://127.0.0.1:9/none' },
    });

    // Act
    const foreign = await api.call<{ error: { code: string; request_id: string } }>(
      'POST',
      `/v1/webhook_endpoints/${endpoint.body.id}/test`,
      { token: stranger.body.secret_key, body: {} },
    );
    const unknownField = await api.call<{ error: { code: string; param: string } }>(
      'POST',
      `/v1/webhook_endpoints/${endpoint.body.id}/test`,
      { token: owner.body.secret_key, body: { type: 'checkout.succeeded' } },
    );

    // Assess
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'resource_not_found']);
    expect(foreign.body.error.request_id).toBe(foreign.headers.get('apigw-requestid'));
    expect([unknownField.status, unknownField.body.error.code, unknownField.body.error.param]).toEqual([
      400,
      'unknown_parameter',
      'type',
    ]);
  });
});
