/**
 * The sandbox PSP's outgoing callbacks: signed status reports POSTed to Paystep's
 * `POST /v1/psp/sandbox/callbacks` (header `psp-signature: t=<unix>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">`, the same scheme lambdas/connectors/sandbox/callbacks.ts verifies). Like a real PSP it
 * retries a callback that did not get a 2xx a few times with back-off, and it misbehaves on
 * purpose for the duplicate and out-of-order test cards (the server decides the order; this
 * module sends what it is given, once or twice).
 */
import { signPspCallback, type PspCallbackType } from '../../lambdas/connectors/sandbox/callbacks';
import { generateId } from './ledger';
import type { Timers } from './http-io';

export interface CallbackTarget {
  url: string;
  secret: string;
}

export interface SandboxCallback {
  id: string; // pevt_...
  type: PspCallbackType;
  created: string;
  sequence: number;
  data: {
    authorization_id: string;
    reference: string;
    amount: number;
    currency: string;
    status: string;
    dispute_id?: string;
    reason?: string;
  };
}

/** Attempts per callback (first try + retries), and the first back-off. */
const ATTEMPTS = 6;
const FIRST_BACKOFF_MS = 250;

/** A new callback event for `authorization` (id `pevt_...`). */
export function newCallback(type: PspCallbackType, sequence: number, data: SandboxCallback['data']): SandboxCallback {
  return { id: generateId('pevt'), type, created: new Date().toISOString(), sequence, data };
}

export class CallbackSender {
  /** Everything sent (2xx), in order, for tests: `GET /v1/callbacks`. */
  readonly sent: { id: string; type: string; sequence: number; reference: string; status: number; at: string }[] = [];

  constructor(
    private target: CallbackTarget | undefined,
    private readonly timers: Timers,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Points the PSP at Paystep once its URL is known. */
  configure(target: CallbackTarget): void {
    this.target = target;
  }

  /** Sends `callback` (`times` deliveries, each retried until 2xx); resolves when done or given up. */
  async deliver(callback: SandboxCallback, times = 1): Promise<void> {
    for (let delivery = 0; delivery < times; delivery += 1) await this.deliverOnce(callback);
  }

  private async deliverOnce(callback: SandboxCallback): Promise<void> {
    const target = this.target;
    if (target === undefined) return;
    const body = JSON.stringify(callback);
    let backoff = FIRST_BACKOFF_MS;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      let status = 0;
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'psp-signature': signPspCallback(target.secret, Math.floor(Date.now() / 1000), body),
          },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        status = response.status;
        await response.text();
      } catch {
        status = 0;
      }
      if (status >= 200 && status < 300) {
        this.sent.push({
          id: callback.id,
          type: callback.type,
          sequence: callback.sequence,
          reference: callback.data.reference,
          status,
          at: new Date().toISOString(),
        });
        return;
      }
      if (attempt === ATTEMPTS) {
        this.log(
          `Sandbox PSP: callback ${callback.id} (${callback.type}) not accepted after ${ATTEMPTS} attempts (last HTTP ${status})`,
        );
        return;
      }
      if (!(await this.timers.sleep(backoff))) return; // stopping
      backoff *= 2;
    }
  }
}
