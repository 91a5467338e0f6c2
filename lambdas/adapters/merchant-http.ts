/**
 * One outbound POST to a merchant-configured URL, shared by the inventory confirmer and the
 * webhook sender: JSON body, hard timeout covering connect + headers + body, redirects never
 * followed, response body read up to a small cap. Classifies transport failures so callers can
 * map them to their own outcomes.
 *
 * Uses node:http(s) rather than fetch so the SSRF guard (url-guard.ts) runs at connect time: the
 * custom `lookup` checks every address the host resolves to for this very connection, which
 * defeats DNS rebinding; IP-literal hosts (which skip `lookup`) are checked before connecting.
 */
import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import { http, https } from './node-http';
import { createGuardedLookup, STRICT_URL_POLICY, unsafeUrlReasonWithoutDns, type UrlPolicy } from './url-guard';

export type MerchantPostResult =
  | {
      kind: 'response';
      status: number;
      statusText: string;
      contentType: string;
      body: string;
      latencyMs: number;
      location?: string;
      retryAfter?: string;
    }
  | { kind: 'timeout'; latencyMs: number }
  | { kind: 'unreachable'; message: string; latencyMs: number }
  /** The SSRF guard refused the URL or one of its resolved addresses; nothing was sent. */
  | { kind: 'blocked'; message: string; latencyMs: number };

const MAX_RESPONSE_BYTES = 16 * 1024;

export interface MerchantPostOptions {
  /** Which URLs may be called; defaults to production rules (https, public addresses only). */
  policy?: UrlPolicy;
  /** Replaces dns.lookup under the guard (tests). */
  lookup?: LookupFunction;
}

/** POSTs `body` and never throws: every outcome is a value, with its latency. */
export async function postToMerchant(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  options: MerchantPostOptions = {},
): Promise<MerchantPostResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const policy = options.policy ?? STRICT_URL_POLICY;
  const refused = unsafeUrlReasonWithoutDns(url, policy);
  if (refused !== undefined) return { kind: 'blocked', message: `unsafe_url: the URL ${refused}`, latencyMs: elapsed() };
  const target = new URL(url);
  const send = target.protocol === 'https:' ? https.request : http.request;
  const lookup = options.lookup ?? createGuardedLookup(policy);

  return await new Promise<MerchantPostResult>((resolve) => {
    let settled = false;
    const finish = (result: MerchantPostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Paystep/1.0',
          'content-length': Buffer.byteLength(body).toString(),
          ...headers,
        },
        lookup,
        // One connection per call: no agent reuse across merchants.
        agent: false,
      },
      (response) => {
        readCapped(response).then(
          (text) => {
            const location = header(response, 'location');
            const retryAfter = header(response, 'retry-after');
            finish({
              kind: 'response',
              status: response.statusCode ?? 0,
              statusText: response.statusMessage ?? '',
              contentType: header(response, 'content-type') ?? '',
              body: text,
              latencyMs: elapsed(),
              ...(location ? { location } : {}),
              ...(retryAfter ? { retryAfter } : {}),
            });
          },
          (error: unknown) => finish({ kind: 'unreachable', message: describeError(error), latencyMs: elapsed() }),
        );
      },
    );
    const timer = setTimeout(() => {
      finish({ kind: 'timeout', latencyMs: elapsed() });
      req.destroy(new Error('timeout'));
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EUNSAFEADDRESS')
        finish({ kind: 'blocked', message: `unsafe_url: ${error.message}`, latencyMs: elapsed() });
      else finish({ kind: 'unreachable', message: describeError(error), latencyMs: elapsed() });
    });
    req.end(body);
  });
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readCapped(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.byteLength;
    if (size >= MAX_RESPONSE_BYTES) {
      response.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

/** `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1`-style text, never a stack. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
