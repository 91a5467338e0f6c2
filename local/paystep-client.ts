/**
 * A small typed client for Paystep's public API as a merchant and as the buyer's browser would
 * use it. Shared by `npm run demo`, the e2e tests and the benchmarks so they all drive the stack
 * through HTTP, exactly as outside programs do. `as(token)` is the typed client generated from
 * the OpenAPI document (openapi-fetch over local/generated/paystep-api.ts, see local/api-types.ts):
 * paths, parameters, bodies and answers are checked by the compiler. `call()` stays as the untyped
 * escape hatch for tests that send what the document forbids.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './generated/paystep-api';

/** The API's answer schemas by name (`ApiSchema<'Checkout'>`), generated from the document. */
export type ApiSchema<Name extends keyof components['schemas']> = components['schemas'][Name];
export type TypedApiClient = Client<paths>;

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export type CheckoutStatusAnswer = ApiSchema<'CheckoutStatus'>;

const TERMINAL = new Set(['succeeded', 'failed', 'expired', 'canceled']);

/** What `call()` needs of `fetch` (the global one by default; the bench passes a keep-alive node:http one). */
export type ApiFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; redirect: 'manual'; body?: string },
) => Promise<{ status: number; headers: Headers; text(): Promise<string> }>;

export class PaystepClient {
  constructor(
    readonly apiUrl: string,
    private readonly fetchImpl: ApiFetch = fetch,
  ) {}

  /** The generated typed client, authenticated with `token` (sk_test_, cs_ or the admin token). */
  as(token: string): TypedApiClient {
    return createClient<paths>({ baseUrl: this.apiUrl, headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
  }

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
    const response = await this.fetchImpl(`${this.apiUrl}${path}`, {
      method,
      headers,
      redirect: 'manual',
      ...(options.body !== undefined
        ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
        : {}),
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
    const { data, error, response } = await this.as(clientSecret).POST('/v1/checkouts/{id}/pay', {
      params: { path: { id: checkoutId } },
      body: { payment_token: paymentToken },
    });
    const body = (data ?? error) as CheckoutStatusAnswer;
    return { status: response.status, headers: response.headers, body, text: JSON.stringify(body) };
  }

  async status(checkoutId: string, clientSecret: string): Promise<CheckoutStatusAnswer> {
    const { data, error, response } = await this.as(clientSecret).GET('/v1/checkouts/{id}/status', {
      params: { path: { id: checkoutId } },
    });
    if (data === undefined) throw new Error(`status poll failed: ${response.status} ${JSON.stringify(error)}`);
    return data;
  }

  /** Polls the pending page's endpoint until the checkout is terminal (or the deadline passes). */
  async waitForTerminal(
    checkoutId: string,
    clientSecret: string,
    timeoutMs = 60_000,
    intervalMs = 100,
  ): Promise<CheckoutStatusAnswer> {
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
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
