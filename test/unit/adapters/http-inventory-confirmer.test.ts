/**
 * PortOne's inventory-confirmation rules (seeds/inventory-confirmation.txt) against a real
 * loopback HTTP server: 200 confirms whatever the body; any other status rejects with the JSON
 * `reason` or the status line; redirects are not followed; timeouts, refused connections and DNS
 * failures reject with their own reason. Requests carry a Standard Webhooks signature.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { HttpInventoryConfirmer, rejectionReason } from '../../../lambdas/adapters/http-inventory-confirmer';
import { LOCAL_URL_POLICY } from '../../../lambdas/adapters/url-guard';
import type { InventoryConfirmationRequest } from '../../../lambdas/ports/inventory';
import { freePort } from '../../../local/net';

const SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
const request: InventoryConfirmationRequest = {
  merchant_key: 'mk_test',
  merchant_order_ref: 'order_ref_456',
  order_ref: 'chk_abc',
  amount: 100.5,
  amount_minor: 10050,
  currency: 'USD',
  items: [{ sku: 'sku-1', quantity: 1 }],
};

let server: Server;
let baseUrl: string;
const received: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
let redirectHits = 0;

const routes: Record<string, (res: ServerResponse) => void> = {
  '/ok-empty': (res) => res.writeHead(200).end(),
  '/ok-with-body': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"reason":"ignored"}'),
  '/rejected-json': (res) =>
    res.writeHead(409, { 'content-type': 'application/json' }).end('{"reason":"Insufficient inventory"}'),
  '/error-text': (res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('boom'),
  '/created': (res) => res.writeHead(201).end(),
  '/redirect': (res) => res.writeHead(302, { location: '/redirect-target' }).end(),
  '/redirect-target': (res) => {
    redirectHits += 1;
    res.writeHead(200).end();
  },
  '/slow': (res) => {
    setTimeout(() => res.writeHead(200).end(), 1_500);
  },
};

beforeAll(async () => {
  const port = await freePort();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      const route = routes[req.url ?? ''];
      if (route) route(res);
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('HttpInventoryConfirmer', () => {
  const confirmer = new HttpInventoryConfirmer(800, LOCAL_URL_POLICY);

  it('confirms on 200 with an empty body and sends a verifiable signed request', async () => {
    // Act
    const decision = await confirmer.confirmInventory(`${baseUrl}/ok-empty`, request, SECRET);
    // Assess
    expect(decision).toMatchObject({ outcome: 'confirmed', httpStatus: 200 });
    const sent = received.find((r) => r.path === '/ok-empty');
    expect(JSON.parse(sent!.body)).toEqual(request);
    const verified = new Webhook(SECRET).verify(sent!.body, sent!.headers as Record<string, string>);
    expect(verified).toEqual(request);
  });

  it('confirms on 200 whatever the body says', async () => {
    const decision = await confirmer.confirmInventory(`${baseUrl}/ok-with-body`, request, SECRET);
    expect(decision.outcome).toBe('confirmed');
  });

  it('rejects any other 2xx: only 200 confirms', async () => {
    const decision = await confirmer.confirmInventory(`${baseUrl}/created`, request, SECRET);
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'inventory_rejected', httpStatus: 201 });
  });

  it("rejects with the merchant's JSON reason", async () => {
    const decision = await confirmer.confirmInventory(`${baseUrl}/rejected-json`, request, SECRET);
    expect(decision).toMatchObject({
      outcome: 'rejected',
      reason: 'inventory_rejected',
      message: 'Insufficient inventory',
      httpStatus: 409,
    });
  });

  it('rejects with the status line when the body is not JSON', async () => {
    const decision = await confirmer.confirmInventory(`${baseUrl}/error-text`, request, SECRET);
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'inventory_rejected', message: '500 Internal Server Error' });
  });

  it('never follows a redirect and reports it as unreachable', async () => {
    const decision = await confirmer.confirmInventory(`${baseUrl}/redirect`, request, SECRET);
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'inventory_unreachable', httpStatus: 302 });
    expect(redirectHits).toBe(0);
  });

  it('times out after the configured limit', async () => {
    const started = Date.now();
    const decision = await confirmer.confirmInventory(`${baseUrl}/slow`, request, SECRET);
    const elapsed = Date.now() - started;
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'inventory_timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(750);
    expect(elapsed).toBeLessThan(1_400);
  });

  it('gives the merchant only the time the saga step has left when that is shorter than its own limit', async () => {
    // Act
    const started = Date.now();
    const decision = await confirmer.confirmInventory(`${baseUrl}/slow`, request, SECRET, { timeoutMs: 300 });
    const elapsed = Date.now() - started;
    // Assess
    expect(decision).toMatchObject({
      outcome: 'rejected',
      reason: 'inventory_timeout',
      message: expect.stringContaining('within 0.3 s'),
    });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(700);
  });

  it('reports a refused connection as unreachable', async () => {
    const closedPort = await freePort();
    const decision = await confirmer.confirmInventory(`http://127.0.0.1:${closedPort}/x`, request, SECRET);
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'inventory_unreachable' });
    expect(decision.outcome === 'rejected' && decision.message).toContain('ECONNREFUSED');
  });

  it('reports a DNS failure as unreachable', async () => {
    const decision = await confirmer.confirmInventory('http://merchant.invalid/confirm', request, SECRET);
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'inventory_unreachable' });
  });
});

describe('HttpInventoryConfirmer in production mode (SSRF guard)', () => {
  it('refuses a loopback URL without sending anything', async () => {
    // Prepare
    const strict = new HttpInventoryConfirmer(800);
    const before = received.length;
    // Act
    const decision = await strict.confirmInventory(`${baseUrl.replace('http:', 'https:')}/ok-empty`, request, SECRET);
    // Assess
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'inventory_unreachable' });
    expect(decision.outcome === 'rejected' && decision.message).toContain('loopback');
    expect(received.length).toBe(before);
  });

  it('refuses plain http', async () => {
    const decision = await new HttpInventoryConfirmer(800).confirmInventory('http://merchant.example/confirm', request, SECRET);
    expect(decision.outcome === 'rejected' && decision.message).toContain('must use https');
  });
});

describe('rejectionReason', () => {
  it.each([
    [400, 'Bad Request', '{"reason":"Out of stock: sku-1"}', 'Out of stock: sku-1'],
    [500, 'Internal Server Error', '<html>oops</html>', '500 Internal Server Error'],
    [422, 'Unprocessable Entity', '{"error":"no reason field"}', '422 Unprocessable Entity'],
    [503, '', '', '503'],
    [409, 'Conflict', '{"reason":"   "}', '409 Conflict'],
  ])('status %i %s with body %s -> %s', (status, statusText, body, expected) => {
    expect(rejectionReason(status, statusText, body)).toBe(expected);
  });
});

describe("HttpInventoryConfirmer with the merchant's allowed_ports", () => {
  // http and loopback allowed so the test reaches its own receiver; the port rule is production's.
  const confirmer = new HttpInventoryConfirmer(800, { allowHttp: true, allowLoopback: true, allowAnyPort: false });
  const port = (): number => Number(new URL(baseUrl).port);

  it('refuses to call a URL on a port the merchant did not allow (inventory_unreachable, nothing sent)', async () => {
    // Prepare
    const before = received.length;
    // Act
    const decision = await confirmer.confirmInventory(`${baseUrl}/ok-empty`, request, SECRET, { allowedPorts: [] });
    // Assess
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'inventory_unreachable' });
    expect(decision.outcome === 'rejected' && decision.message).toContain(`must use port 443 or 80 (not ${port()}`);
    expect(received.length).toBe(before);
  });

  it("confirms through a port in the merchant's allowed_ports", async () => {
    const decision = await confirmer.confirmInventory(`${baseUrl}/ok-empty`, request, SECRET, { allowedPorts: [port()] });
    expect(decision).toMatchObject({ outcome: 'confirmed', httpStatus: 200 });
  });
});
