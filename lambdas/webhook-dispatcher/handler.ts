/**
 * The webhook dispatcher: claims due deliveries (conditional write, lease) and attempts them. On
 * AWS an EventBridge schedule invokes it every minute and it keeps polling for
 * PAYSTEP_WEBHOOK_DISPATCH_RUN_MS (so short retries are not stretched to a minute); locally
 * local/stack.ts calls this same handler on a 250 ms timer with a single pass.
 *
 * Env (optional): PAYSTEP_WEBHOOK_DISPATCH_RUN_MS (default 0 = one pass), PAYSTEP_WEBHOOK_DISPATCH_POLL_MS (default 2000).
 */
import { runDispatcher } from '../use-cases/webhook-delivery';
import type { Context } from 'aws-lambda';
import { optionalEnv } from '../shared/env';
import { observeInvocation } from '../shared/observability';
import { webhookDependencies } from '../shared/webhook-dispatch-wiring';

const runForMs = Number(optionalEnv('PAYSTEP_WEBHOOK_DISPATCH_RUN_MS', '0'));
const pollMs = Number(optionalEnv('PAYSTEP_WEBHOOK_DISPATCH_POLL_MS', '2000'));

/** Invoked by the schedule (the event's content is not used). */
export async function handler(
  _event?: unknown,
  context?: Context,
): Promise<{ due: number; attempted: number; delivered: number; passes: number }> {
  return await observeInvocation({ context }, () => runDispatcher(webhookDependencies(), { runForMs, pollMs }));
}
