/**
 * The load generator's fetch over node:http: it sends the method, headers and body as given, answers
 * status, headers, text and JSON as fetch does, reuses one connection for requests in a row, and
 * never follows a redirect (the bench reads the 3xx itself, like `redirect: 'manual'`).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeKeepAliveFetch, keepAliveFetch } from '../../../bench/keep-alive-fetch';

let server: Server;
let base: string;
const seen: { method?: string; url?: string; contentType?: string; body: string; socket: unknown }[] = [];

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({
        method: request.method,
        url: request.url,
        contentType: request.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
        socket: request.socket,
      });
      if (request.url === '/moved') {
        response.writeHead(302, { location: '/elsewhere' }).end();
        return;
      }
      response.writeHead(201, { 'content-type': 'application/json', 'x-trace': 'a' }).end(JSON.stringify({ echo: request.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  closeKeepAliveFetch();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('keepAliveFetch', () => {
  it('sends the request as given and answers like fetch, on one kept-alive connection', async () => {
    // Act
    const first = await keepAliveFetch(`${base}/v1/things?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'é' }),
    });
    const second = await keepAliveFetch(`${base}/again`);
    // Assess
    expect(first).toMatchObject({ ok: true, status: 201 });
    expect(first.headers.get('x-trace')).toBe('a');
    expect(await first.json()).toEqual({ echo: '/v1/things?x=1' });
    expect(await second.text()).toBe(JSON.stringify({ echo: '/again' }));
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/things?x=1', contentType: 'application/json', body: '{"a":"é"}' });
    expect(seen[1]).toMatchObject({ method: 'GET', url: '/again', body: '' });
    expect(seen[1]!.socket).toBe(seen[0]!.socket);
  });

  it('answers a redirect as it is, without following it', async () => {
    // Act
    const answer = await keepAliveFetch(`${base}/moved`);
    // Assess
    expect(answer).toMatchObject({ ok: false, status: 302 });
    expect(answer.headers.get('location')).toBe('/elsewhere');
    expect(seen.map((request) => request.url)).not.toContain('/elsewhere');
  });
});
