/**
 * A small typed client for Paystep's public API as a merchant and as the buyer's browser would
 * use it. Shared by `npm run demo`, the e2e tests and the benchmarks so they all drive the stack
 * through HTTP, exactly as outside programs do.
 */

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CheckoutStatusAnswer {
  id: string;
  status: string;
  failure_reason: string | null;
  failure_message: string | null;
  redirect_url: string | null;
}

const TERMINAL = new Set(['succeeded', 'failed', 'expired', 'canceled']);

export class PaystepClient {
  constructor(readonly apiUrl: string) {}

  /** Any call: bearer token, JSON body, optional Idempotency-Key. Never throws on non-2xx. */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; idempotencyKey?: string } = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers,
      redirect: 'manual',
      ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    let body: T;
    try {
      body = (text ? JSON.parse(text) : {}) as T;
    } catch {
      body = { raw: text } as T;
    }
    return { status: response.status, headers: response.headers, body, text };
  }

  /** The buyer pays: POST /v1/checkouts/{id}/pay with the client secret. */
  async pay(checkoutId: string, clientSecret: string, paymentToken: string): Promise<ApiAnswer<CheckoutStatusAnswer>> {
    return this.call<CheckoutStatusAnswer>('POST', `/v1/checkouts/${checkoutId}/pay`, {
      token: clientSecret,
      body: { payment_token: paymentToken },
    });
  }

  async status(checkoutId: string, clientSecret: string): Promise<CheckoutStatusAnswer> {
    const answer = await this.call<CheckoutStatusAnswer>('GET', `/v1/checkouts/${checkoutId}/status`, { token: clientSecret });
    if (answer.status !== 200) throw new Error(`status poll failed: ${answer.status} ${answer.text}`);
    return answer.body;
  }

  /** Polls the pending page's endpoint until the checkout is terminal (or the deadline passes). */
  async waitForTerminal(checkoutId: string, clientSecret: string, timeoutMs = 60_000, intervalMs = 100): Promise<CheckoutStatusAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status(checkoutId, clientSecret);
      if (TERMINAL.has(status.status)) return status;
      if (Date.now() > deadline) throw new Error(`checkout ${checkoutId} still ${status.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/** Polls `read` until `done` holds; returns the last value. For eventually-consistent peers. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
