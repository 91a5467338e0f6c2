/**
 * The local API Gateway stand-in: the payload-2.0 event it builds for the route table, the way it
 * writes handler results, and the errors it raises itself (404, 413, 500), all over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { startApiHost, type ApiHost } from '../../local/http-host';
import { freePort } from '../../local/net';
import { API_ROUTES, type ApiEntry } from '../../lib/api-routes';
import type { ApiHandler } from '../../local/handlers';

interface Captured {
  event: APIGatewayProxyEventV2;
  context: { functionName: string; awsRequestId: string; remaining: number };
}

const captured: Captured[] = [];
const logLines: string[] = [];

const fakes: Record<ApiEntry, ApiHandler> = {
  // Echoes the event back, like a handler that reads everything.
  'api-checkouts': async (event: APIGatewayProxyEventV2, context: Context) => {
    captured.push({
      event,
      context: {
        functionName: context.functionName,
        awsRequestId: context.awsRequestId,
        remaining: context.getRemainingTimeInMillis(),
      },
    });
    return {
      statusCode: 201,
      headers: { 'Content-Type': 'application/json', 'X-Custom': 'a' },
      cookies: ['a=1; Path=/', 'b=2'],
      body: JSON.stringify({ ok: true }),
    };
  },
  // Returns a bare string: API Gateway treats it as a 200 JSON body.
  'api-settings': async () => '{"inferred":true}',
  // Crashes with a secret-looking message that must not reach the client.
  'api-merchants': async () => {
    throw new Error('database password is hunter2');
  },
  // Binary result and a redirect that the host must pass through, not follow.
  'api-pay': async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
    event.routeKey === 'GET /v1/checkouts/{id}/status'
      ? { statusCode: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' }, body: '' }
      : {
          statusCode: 200,
          headers: { 'content-type': 'application/octet-stream' },
          isBase64Encoded: true,
          body: Buffer.from([0, 1, 2, 255]).toString('base64'),
        },
  'api-webhook-endpoints': async () => ({ statusCode: 204 }),
  'api-events': async () => ({ statusCode: 204 }),
  'api-instruments': async () => ({ statusCode: 204 }),
  'api-newstore': async () => ({ statusCode: 204 }),
  'api-connectors': async () => ({ statusCode: 204 }),
  'web-checkout': async () => ({
    statusCode: 200,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: '<html>checkout</html>',
  }),
  'api-psp-callbacks': async () => ({ statusCode: 204 }),
  'api-openapi': async () => ({ statusCode: 204 }),
  'api-operator': async () => ({ statusCode: 204 }),
  'api-customers': async () => ({ statusCode: 204 }),
  'api-payment-methods': async () => ({ statusCode: 204 }),
};

let host: ApiHost;

beforeAll(async () => {
  host = await startApiHost({
    port: await freePort(),
    routes: API_ROUTES,
    loadHandler: async (entry) => fakes[entry],
    maxBodyBytes: 1024,
    log: (line) => logLines.push(line),
    staticHandler: (req, res) => {
      if (req.url !== '/dashboard') return false;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>page</html>');
      return true;
    },
  });
});

afterAll(async () => {
  await host?.stop();
});

/** A raw request so duplicate headers and cookies go on the wire exactly as written. */
async function rawRequest(
  method: string,
  path: string,
  headers: [string, string][],
  body?: Buffer | string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return await new Promise((resolve, reject) => {
    const url = new URL(host.url);
    const flat: string[] = [['Host', url.host] as [string, string], ...headers].flat();
    const req = request({ host: url.hostname, port: url.port, method, path, headers: flat }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('event shape (API Gateway HTTP API payload 2.0)', () => {
  it('builds routeKey, pathParameters, query, lowercased comma-joined headers, cookies and requestContext', async () => {
    // Prepare
    captured.length = 0;

    // Act
    const res = await rawRequest(
      'POST',
      '/v1/checkouts/chk_123/cancel?reason=dup&tag=a&tag=b%20c',
      [
        ['Content-Type', 'application/json'],
        ['X-Multi', 'one'],
        ['X-Multi', 'two'],
        ['Cookie', 'session=abc; theme=dark'],
        ['User-Agent', 'paystep-test/1'],
      ],
      JSON.stringify({ note: 'héllo' }),
    );

    // Assess
    expect(res.status).toBe(201);
    expect(captured).toHaveLength(1);
    const { event, context } = captured[0] as Captured;
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /v1/checkouts/{id}/cancel');
    expect(event.rawPath).toBe('/v1/checkouts/chk_123/cancel');
    expect(event.rawQueryString).toBe('reason=dup&tag=a&tag=b%20c');
    expect(event.queryStringParameters).toEqual({ reason: 'dup', tag: 'a,b c' });
    expect(event.pathParameters).toEqual({ id: 'chk_123' });
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(['session=abc', 'theme=dark']);
    expect(event.body).toBe(JSON.stringify({ note: 'héllo' }));
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext).toMatchObject({
      accountId: '000000000000',
      routeKey: 'POST /v1/checkouts/{id}/cancel',
      stage: '$default',
      http: {
        method: 'POST',
        path: '/v1/checkouts/chk_123/cancel',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'paystep-test/1',
      },
    });
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(5_000);
    expect(event.requestContext.requestId).toBe(res.headers['apigw-requestid']);
    expect(context.functionName).toBe('paystep-api-checkouts');
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.remaining).toBeGreaterThan(28_000);
    expect(context.remaining).toBeLessThanOrEqual(29_000);
  });

  it('omits query, path parameters, cookies and body when there are none, and prefers literal routes', async () => {
    // Prepare
    captured.length = 0;

    // Act
    await rawRequest('GET', '/v1/checkouts', []);

    // Assess
    const { event } = captured[0] as Captured;
    expect(event.routeKey).toBe('GET /v1/checkouts');
    expect(event.rawQueryString).toBe('');
    expect('queryStringParameters' in event).toBe(false);
    expect('pathParameters' in event).toBe(false);
    expect('cookies' in event).toBe(false);
    expect('body' in event).toBe(false);
  });

  it('base64-encodes non-text bodies (form posts included)', async () => {
    // Prepare
    captured.length = 0;

    // Act
    await rawRequest('POST', '/v1/checkouts', [['Content-Type', 'application/x-www-form-urlencoded']], 'a=1&b=2');

    // Assess
    const { event } = captured[0] as Captured;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body as string, 'base64').toString()).toBe('a=1&b=2');
  });
});

describe('result writing', () => {
  it('writes statusCode, lowercased headers and one Set-Cookie per cookie', async () => {
    // Act
    const res = await rawRequest('POST', '/v1/checkouts', [['Content-Type', 'application/json']], '{}');

    // Assess
    expect(res.status).toBe(201);
    expect(res.headers['x-custom']).toBe('a');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
    expect(JSON.parse(res.body.toString())).toEqual({ ok: true });
  });

  it('treats a bare string result as a 200 JSON body', async () => {
    // Act
    const res = await fetch(`${host.url}/v1/settings`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ inferred: true });
  });

  it('decodes base64 results and passes redirects through without following them', async () => {
    // Act
    const binary = await rawRequest('POST', '/v1/checkouts/chk_1/pay', [['Content-Type', 'application/json']], '{}');
    const redirect = await fetch(`${host.url}/v1/checkouts/chk_1/status`, { redirect: 'manual' });

    // Assess
    expect([...binary.body]).toEqual([0, 1, 2, 255]);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('http://127.0.0.1:1/elsewhere');
  });
});

describe('errors raised by the host', () => {
  it('answers an unknown route (or wrong method) with 404 route_not_found', async () => {
    // Act
    const unknown = await fetch(`${host.url}/v1/nope`);
    const wrongMethod = await fetch(`${host.url}/v1/merchants`, { method: 'GET' });
    const trailingSlash = await fetch(`${host.url}/v1/checkouts/`, { method: 'GET' });

    // Assess
    for (const res of [unknown, wrongMethod, trailingSlash]) {
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('route_not_found');
      expect(typeof body.error.message).toBe('string');
    }
  });

  it('answers 404 without echoing the raw path, with x-content-type-options: nosniff', async () => {
    // Act
    const res = await fetch(`${host.url}/v1/%3Cscript%3Ealert(1)%3C%2Fscript%3E`);
    const text = await res.text();
    // Assess
    expect(res.status).toBe(404);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(text).not.toContain('script');
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'route_not_found' } });
  });

  it('answers a body over the limit with 413 in the error shape', async () => {
    // Act
    const res = await fetch(`${host.url}/v1/checkouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(2048),
    });

    // Assess
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('turns a handler crash into a generic 500 and logs the details server-side only', async () => {
    // Prepare
    logLines.length = 0;

    // Act
    const res = await fetch(`${host.url}/v1/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const text = await res.text();

    // Assess
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toEqual({
      error: { code: 'internal_error', message: 'Internal server error', request_id: res.headers.get('apigw-requestid') },
    });
    expect(text).not.toContain('hunter2');
    expect(logLines.some((line) => line.includes('POST /v1/merchants') && line.includes('hunter2'))).toBe(true);
  });

  it('tries the static hook before the 404', async () => {
    // Act
    const res = await fetch(`${host.url}/dashboard`);

    // Assess
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<html>page</html>');
  });
});
