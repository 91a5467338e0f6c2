/**
 * The load generator's HTTP client: the slice of `fetch` the bench's calls use (status, headers,
 * text, json; no redirects followed), over node:http with a keep-alive agent. The bench runs on the
 * same 2 cores as the stack it measures, so what its own requests cost is CPU the stack does not get:
 * undici's fetch cost the load generator about 10 ms of CPU per checkout (5 requests), node:http
 * a fraction of that. The bench still prints the load generator's CPU per checkout beside the stack's.
 */
import http from 'node:http';

export interface FetchAnswer {
  ok: boolean;
  status: number;
  headers: Headers;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<FetchAnswer>;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** `fetch` for http:// URLs on the bench's own machine. */
export const keepAliveFetch: FetchLike = (url, init = {}) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'http:') throw new Error(`keepAliveFetch speaks http only: ${url}`);
    const body = init.body;
    const request = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? 'GET',
        headers: { ...init.headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
        agent,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
          }
          resolve({
            ok: status >= 200 && status < 300,
            status,
            headers,
            text: async () => text,
            json: async () => JSON.parse(text) as unknown,
          });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });

/** Closes the kept-alive sockets (at the end of a run). */
export function closeKeepAliveFetch(): void {
  agent.destroy();
}
