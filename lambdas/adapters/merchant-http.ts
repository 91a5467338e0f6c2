/**
 * One outbound POST to a merchant-configured URL, shared by the inventory confirmer and the
 * webhook sender: JSON body, hard timeout covering connect + headers + body, redirects never
 * followed, response body read up to a small cap. Classifies transport failures so callers can
 * map them to their own outcomes.
 */

export type MerchantPostResult =
  | { kind: 'response'; status: number; statusText: string; contentType: string; body: string; latencyMs: number; location?: string }
  | { kind: 'timeout'; latencyMs: number }
  | { kind: 'unreachable'; message: string; latencyMs: number };

const MAX_RESPONSE_BYTES = 16 * 1024;

/** POSTs `body` and never throws: every outcome is a value, with its latency. */
export async function postToMerchant(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<MerchantPostResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'Paystep/1.0', ...headers },
      redirect: 'manual',
      signal,
    });
    const text = await readCapped(response);
    const location = response.headers.get('location');
    return {
      kind: 'response',
      status: response.status,
      statusText: response.statusText,
      contentType: response.headers.get('content-type') ?? '',
      body: text,
      latencyMs: elapsed(),
      ...(location ? { location } : {}),
    };
  } catch (error) {
    if (signal.aborted) return { kind: 'timeout', latencyMs: elapsed() };
    return { kind: 'unreachable', message: describeFetchError(error), latencyMs: elapsed() };
  }
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_RESPONSE_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

/** undici wraps the real cause (ECONNREFUSED, ENOTFOUND...) in `TypeError: fetch failed`. */
function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
    return error.message;
  }
  return String(error);
}
