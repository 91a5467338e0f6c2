/**
 * PaymentGateway adapter for the sandbox PSP (connector `sandbox`): the saga's authorize,
 * capture and void steps and the financial-instrument use cases call the PSP through it.
 * It is the one place PSP answers become Paystep errors: 402 -> PaymentDeclinedError (message
 * is the decline code); 5xx, 429, refused or reset connection -> PspUnavailableError; no answer
 * within the timeout -> PspTimeoutError (both transient: every call carries an Idempotency-Key,
 * so the retry replays rather than moves money twice); any other 4xx or a redirect (never
 * followed) -> PspRejectedError. A vaulted card travels only in the authorize request body
 * (revealed by the vault for that one call, with its card-on-file facts), never in an error or log.
 */
import type * as Http from 'node:http';
import { createRequire } from 'node:module';
import { PaymentDeclinedError, PspClientError, PspRejectedError, PspTimeoutError, PspUnavailableError } from '../../errors';
import type {
  AuthorizeInput,
  AuthorizeOutput,
  CaptureInput,
  PaymentGateway,
  PaymentSource,
  PspOperationOutput,
  RefundInput,
  VoidInput,
  PspAuthorizationView,
} from '../../ports/payments';
import { toAuthentication, toAuthorizationView, toNextAction, type SandboxAuthorization } from './status';
import { DEFAULT_PSP_TIMEOUT_MS } from './timeout';

export interface SandboxPspGatewayOptions {
  baseUrl: string;
  /** Per-call timeout including reading the body; default 8000 ms. */
  timeoutMs?: number;
}

export { DEFAULT_PSP_TIMEOUT_MS } from './timeout';

interface OperationBody {
  id: string;
  amount: number;
  authorization_id: string;
  status: 'succeeded' | 'pending' | 'requires_action';
  next_action?: unknown;
  authorization?: Partial<SandboxAuthorization>;
  /** Customer-initiated card authorizations: the network's id that later merchant-initiated ones quote. */
  network_transaction_id?: string;
}

/** The sandbox PSP's wire fields for what pays: `token`, or `card` with `card_on_file`. */
function sourceFields(source: PaymentSource): Record<string, unknown> {
  if (source.type === 'token') return { token: source.token };
  const { card, cardOnFile } = source;
  const cvc = card.revealCvc();
  return {
    card: {
      number: card.revealNumber(),
      exp_month: card.expMonth,
      exp_year: card.expYear,
      ...(cvc !== undefined ? { cvc } : {}),
    },
    card_on_file: {
      initiator: cardOnFile.initiator,
      stored: cardOnFile.stored,
      ...(cardOnFile.networkTransactionId !== undefined ? { network_transaction_id: cardOnFile.networkTransactionId } : {}),
    },
  };
}

export class SandboxPspGateway implements PaymentGateway {
  readonly connector = 'sandbox';
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  /**
   * node:http or node:https by the base URL, with one keep-alive agent (the AWS client's transport,
   * aws-json-client.ts). Loaded with require() for the reason in lambdas/adapters/node-http.ts, here
   * rather than through it so the functions that load this connector lazily keep node-http.ts in
   * the chunk they read at a cold start.
   */
  private readonly transport: Pick<typeof Http, 'request' | 'Agent'>;
  private readonly agent: Http.Agent;

  constructor(options: SandboxPspGatewayOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PSP_TIMEOUT_MS;
    this.transport = createRequire(import.meta.url)(
      this.baseUrl.startsWith('https:') ? 'node:https' : 'node:http',
    ) as typeof Http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 50 });
  }

  /** Authorizes the checkout amount on a token or a vaulted card; the authorization id becomes `pspReference`. */
  async authorize(input: AuthorizeInput): Promise<AuthorizeOutput> {
    const body = await this.post(
      'authorize',
      '/v1/authorizations',
      input.idempotencyKey,
      {
        ...sourceFields(input.source),
        amount: input.amount,
        currency: input.currency,
        reference: input.reference,
        ...threeDSecureFields(input),
      },
      true,
    );
    const network = typeof body.network_transaction_id === 'string' ? { networkTransactionId: body.network_transaction_id } : {};
    if (body.status === 'requires_action') {
      const nextAction = toNextAction(body.next_action);
      if (nextAction === undefined) throw new PspUnavailableError('Sandbox PSP asked for an action it did not describe');
      return { pspReference: body.authorization_id, authorizedAmount: 0, nextAction, ...network };
    }
    if (body.status === 'pending') return { pspReference: body.authorization_id, authorizedAmount: 0, pending: true, ...network };
    const threeDSecure = body.authorization?.three_d_secure;
    return {
      pspReference: body.authorization_id,
      authorizedAmount: body.amount,
      ...network,
      ...(threeDSecure ? { authentication: toAuthentication(threeDSecure) } : {}),
    };
  }

  /** Captures `amount` (partial captures allowed up to the authorized amount). */
  async capture(input: CaptureInput): Promise<PspOperationOutput> {
    const body = await this.post('capture', `${this.authorizationPath(input.pspReference)}/capture`, input.idempotencyKey, {
      amount: input.amount,
      currency: input.currency,
      reference: input.reference,
    });
    return { pspOperationId: body.id, amount: body.amount };
  }

  /** Voids the authorization, releasing whatever was not captured; `amount` is what was released. */
  async voidAuthorization(input: VoidInput): Promise<PspOperationOutput> {
    const body = await this.post('void', `${this.authorizationPath(input.pspReference)}/void`, input.idempotencyKey, {
      reference: input.reference,
    });
    return { pspOperationId: body.id, amount: body.amount };
  }

  /** Refunds up to what was captured and not yet refunded. */
  async refund(input: RefundInput): Promise<PspOperationOutput> {
    const body = await this.post('refund', `${this.authorizationPath(input.pspReference)}/refund`, input.idempotencyKey, {
      amount: input.amount,
      currency: input.currency,
      reference: input.reference,
    });
    return { pspOperationId: body.id, amount: body.amount };
  }

  /** Reads the PSP's amounts for an authorization: how a later reconciliation learns an unknown outcome. */
  async getAuthorization(pspReference: string): Promise<PspAuthorizationView> {
    const { status, body } = await this.send('get authorization', this.authorizationPath(pspReference), { method: 'GET' });
    if (status !== 200 || !isRecord(body) || typeof body['id'] !== 'string') {
      throw new PspUnavailableError('Sandbox PSP returned an unexpected authorization body');
    }
    return toAuthorizationView(body as unknown as SandboxAuthorization);
  }

  /** The authorizations the PSP filed under our reference: recovery's way to an authorization whose id was lost. */
  async findAuthorizations(reference: string): Promise<PspAuthorizationView[]> {
    const { body } = await this.send('find authorizations', `/v1/authorizations?reference=${encodeURIComponent(reference)}`, {
      method: 'GET',
    });
    if (!isRecord(body) || !Array.isArray(body['data']))
      throw new PspUnavailableError('Sandbox PSP returned an unexpected authorization list');
    return (body['data'] as SandboxAuthorization[]).map(toAuthorizationView);
  }

  private authorizationPath(pspReference: string): string {
    return `/v1/authorizations/${encodeURIComponent(pspReference)}`;
  }

  /** `allowPending`: the authorize call, where HTTP 202 `status: "pending"` means "result later by callback". */
  private async post(
    operation: string,
    path: string,
    idempotencyKey: string,
    payload: Record<string, unknown>,
    allowPending = false,
  ): Promise<OperationBody> {
    const { body } = await this.send(operation, path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(payload),
    });
    if (
      !isRecord(body) ||
      typeof body['id'] !== 'string' ||
      typeof body['amount'] !== 'number' ||
      typeof body['authorization_id'] !== 'string' ||
      !(
        body['status'] === 'succeeded' ||
        (allowPending && (body['status'] === 'pending' || body['status'] === 'requires_action'))
      )
    ) {
      // The PSP may have done it; the idempotent retry will tell.
      throw new PspUnavailableError(`Sandbox PSP returned an unexpected ${operation} body`);
    }
    return body as unknown as OperationBody;
  }

  /** One HTTP exchange with errors translated; resolves only for 2xx. */
  private async send(operation: string, path: string, init: ExchangeInit): Promise<{ status: number; body: unknown }> {
    let answer: { status: number; text: string };
    try {
      answer = await this.exchange(path, init);
    } catch (error) {
      if (isTimeout(error)) {
        throw new PspTimeoutError(`Sandbox PSP did not answer ${operation} within ${this.timeoutMs} ms`, { cause: error });
      }
      throw new PspUnavailableError(`Sandbox PSP unreachable for ${operation}: ${describeNetworkError(error)}`, { cause: error });
    }
    const { status } = answer;
    const body = parseJsonSafely(answer.text);
    if (status >= 200 && status < 300) return { status, body };
    const code = errorCode(body);
    if (status === 402) throw new PaymentDeclinedError(code ?? 'card_declined');
    if (status >= 500 || status === 429) {
      throw new PspUnavailableError(`Sandbox PSP unavailable for ${operation}: HTTP ${status}${code ? ` ${code}` : ''}`);
    }
    if (status >= 300 && status < 400) {
      throw new PspRejectedError(`Sandbox PSP answered ${operation} with a redirect (HTTP ${status}); not followed`);
    }
    throw new PspClientError(`Sandbox PSP refused ${operation}: HTTP ${status}${code ? ` ${code}` : ''}`, status);
  }

  /**
   * One request over the gateway's kept-alive connections (node:http: redirects are never followed):
   * the status and the whole body, or a rejection; a `TimeoutError` when both have not arrived within
   * the timeout (the request is then destroyed, its connection not reused).
   */
  private exchange(path: string, init: ExchangeInit): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      let timedOut: Error | undefined;
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(timedOut ?? error);
      };
      const req = this.transport.request(
        `${this.baseUrl}${path}`,
        {
          method: init.method,
          headers:
            init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
          agent: this.agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', fail);
          response.on('end', () => {
            clearTimeout(timer);
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      const timer = setTimeout(() => {
        timedOut = Object.assign(new Error(`timed out after ${this.timeoutMs} ms`), { name: 'TimeoutError' });
        req.destroy(timedOut);
      }, this.timeoutMs);
      req.on('error', fail);
      req.end(init.body);
    });
  }
}

interface ExchangeInit {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** The sandbox's wire fields for 3-D Secure: `return_url`, `off_session`, `three_ds: "required"`. */
function threeDSecureFields(input: AuthorizeInput): Record<string, unknown> {
  const request = input.threeDSecure;
  return {
    ...(request?.returnUrl !== undefined ? { return_url: request.returnUrl } : {}),
    ...(request?.offSession === true ? { off_session: true } : {}),
    ...(request?.required === true ? { three_ds: 'required' } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJsonSafely(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorCode(body: unknown): string | undefined {
  if (!isRecord(body) || !isRecord(body['error'])) return undefined;
  const code = body['error']['code'];
  return typeof code === 'string' && /^[a-z0-9_]{1,64}$/.test(code) ? code : undefined;
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof Error && (error.name === 'TimeoutError' || (error.name === 'AbortError' && /timeout/i.test(error.message)))
  );
}

/** `ECONNREFUSED`, `ECONNRESET`, ... (on the error or its cause chain); never the request body. */
function describeNetworkError(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return error instanceof Error ? error.message : 'network error';
}
