/**
 * Local only: fast-forward time for one checkout, so a developer can see what the real schedules
 * would do days later without waiting or changing the clock:
 *
 * - the authorization hold of a manual-capture checkout becomes due now (its `authorization.expiring`
 *   warning and then its expiry), and the reconciliation sweep acts on it at its next pass;
 * - every pending webhook delivery of the checkout's events becomes due now, and the dispatcher
 *   sends the next attempt at its next pass.
 *
 * Each change is a conditional write on the item as it was read (a concurrent sweep or dispatcher
 * claim wins and the item is left alone, reported as skipped). Served by the local API host as
 * `POST /local/checkouts/{id}/fast_forward` with the admin token (local/stack.ts); it is not an API
 * route, so it never exists on AWS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '../lambdas/adapters/dynamo-client';
import { authorizationHoldKey, checkoutKey } from '../lambdas/adapters/dynamo-keys';
import { isConditionalCheckFailure } from '../lambdas/adapters/dynamo-support';
import { checkoutFromItem } from '../lambdas/adapters/dynamo-checkout-repository';
import type { DynamoEventStore } from '../lambdas/adapters/dynamo-event-store';

export interface FastForwardResult {
  checkout_id: string;
  /** `due_now` when the hold was moved, `none` without a live hold, `skipped` when the sweep held it. */
  authorization_expiry: 'due_now' | 'none' | 'skipped';
  /** Pending deliveries made due now, and those left alone (claimed by the dispatcher meanwhile). */
  webhook_deliveries_due_now: number;
  webhook_deliveries_skipped: number;
}

export interface FastForwardDependencies {
  client: DynamoDBDocumentClient;
  tableName: string;
  events: Pick<DynamoEventStore, 'listEvents' | 'bringDeliveryForward'>;
}

export class CheckoutNotFound extends Error {}

/** Makes the checkout's authorization expiry and its pending webhook retries due at `now`. */
export async function fastForwardCheckout(
  deps: FastForwardDependencies,
  checkoutId: string,
  now: Date,
): Promise<FastForwardResult> {
  const nowIso = now.toISOString();
  const { Item: item } = await deps.client.send(
    new GetCommand({ TableName: deps.tableName, Key: checkoutKey(checkoutId), ConsistentRead: true }),
  );
  if (item === undefined) throw new CheckoutNotFound(checkoutId);
  const checkout = checkoutFromItem(item);
  const merchantId = checkout.merchantId;
  const instrumentId = checkout.payment?.instrumentId;

  let authorization: FastForwardResult['authorization_expiry'] = 'none';
  if (instrumentId !== undefined) {
    const { Item: hold } = await deps.client.send(
      new GetCommand({ TableName: deps.tableName, Key: authorizationHoldKey(instrumentId), ConsistentRead: true }),
    );
    // Live holds sit on the sparse due index; a done hold has left it.
    if (hold !== undefined && typeof hold.gsi1sk === 'string') {
      try {
        await deps.client.send(
          new UpdateCommand({
            TableName: deps.tableName,
            Key: authorizationHoldKey(instrumentId),
            UpdateExpression: 'SET warnAt = :now, expiresAt = :now, gsi1sk = :due',
            ConditionExpression: 'gsi1sk = :old AND stage = :stage',
            ExpressionAttributeValues: {
              ':now': nowIso,
              ':due': `${nowIso}#${instrumentId}`,
              ':old': hold.gsi1sk,
              ':stage': hold.stage,
            },
          }),
        );
        authorization = 'due_now';
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        authorization = 'skipped';
      }
    }
  }

  let due = 0;
  let skipped = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.events.listEvents(merchantId, { limit: 100, ...(cursor !== undefined ? { cursor } : {}) });
    for (const { event, deliveries } of page.events) {
      if (event.checkoutId !== checkoutId && event.objectId !== checkoutId) continue;
      for (const delivery of deliveries) {
        if (delivery.status !== 'pending' || delivery.nextAttemptAt <= nowIso) continue;
        if (await deps.events.bringDeliveryForward(delivery.eventId, delivery.endpointId, delivery.nextAttemptAt, now)) due += 1;
        else skipped += 1;
      }
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);

  return {
    checkout_id: checkoutId,
    authorization_expiry: authorization,
    webhook_deliveries_due_now: due,
    webhook_deliveries_skipped: skipped,
  };
}

const ROUTE = /^\/local\/checkouts\/(chk_[A-Za-z0-9_-]{1,64})\/fast_forward$/;

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
  });
  response.end(text);
}

function sameToken(presented: string, adminToken: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(adminToken).digest();
  return timingSafeEqual(a, b);
}

/**
 * The local API host's hook for `POST /local/checkouts/{id}/fast_forward` (admin token only).
 * `dependencies` is called per request, after the stack has set the handlers' environment.
 */
export function localAdminHook(adminToken: string, dependencies: () => Promise<FastForwardDependencies>) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const path = (request.url ?? '/').split('?')[0] ?? '';
    const match = ROUTE.exec(path);
    if (match === null && !path.startsWith('/local/')) return false;
    request.resume();
    if (match === null || request.method !== 'POST') {
      send(response, 404, { error: { code: 'route_not_found', message: `No route for ${request.method} ${path}`, param: null } });
      return true;
    }
    const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!sameToken(presented, adminToken)) {
      send(response, 401, {
        error: { code: 'unauthorized', message: 'This local endpoint needs the admin token (npm start prints it)', param: null },
      });
      return true;
    }
    try {
      send(response, 200, await fastForwardCheckout(await dependencies(), match[1]!, new Date()));
    } catch (error) {
      if (error instanceof CheckoutNotFound)
        send(response, 404, { error: { code: 'resource_missing', message: `No checkout ${match[1]}`, param: 'id' } });
      else
        send(response, 503, {
          error: { code: 'store_unavailable', message: 'The local store could not be updated; retry', param: null },
        });
    }
    return true;
  };
}
