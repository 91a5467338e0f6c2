/**
 * RecoveryStore on DynamoDB: the watch list is the sparse, keys-only gsi3 (`gsi3pk` = RECOVERY,
 * `gsi3sk` = when the checkout entered processing), whose entries are attributes of the checkout
 * item itself: dynamo-checkout-repository.ts sets them in the conditional UpdateItem that enters
 * `processing`, so arming the watch costs no write request of its own. The entry stays through the
 * terminal write (then it is the outcome watch) until NotifyMerchant (or the sweep) forgets it with
 * an UpdateItem REMOVE once the result events are stored. For a terminal checkout `since` is the
 * checkout's `updatedAt` (when the result was recorded), read with one BatchGetItem per page of
 * watches together with the lease.
 *
 * The sweep's lease is two attributes of the checkout item (RECOVERY_LEASE_UNTIL / _OWNER) that no
 * checkout write names (every checkout write is an UpdateItem SET of named attributes; the only
 * PutItem is the create, conditioned on no item), so a saga write never overwrites it, and the
 * claim moves neither `version` nor `status`, so versioned writes are unaffected. The claim is a
 * conditional write (no live lease, or our own): two sweeps (overlapping schedule runs, or a run
 * that outlived its Lambda) never act on the same checkout at once; a sweep that dies only delays
 * the next one by the lease length.
 *
 * Forgetting is DynamoOutcomeWatch's (dynamo-outcome-watch.ts, all the saga bundles). Watch items of
 * the previous version (one item per checkout in the RECOVERY#PROCESSING partition) are still
 * listed after the gsi3 entries, recovered, and deleted when forgotten; they are never written any
 * more.
 */
import { UpdateCommand } from './dynamo-client';
import type { ProcessingWatch, RecoveryStore } from '../ports/recovery';
import {
  checkoutKey,
  CHECKOUT_PK_PREFIX,
  GSI3,
  PROCESSING_WATCH_PK,
  RECOVERY_LEASE_OWNER,
  RECOVERY_LEASE_UNTIL,
  RECOVERY_WATCH_GSI_PK,
} from './dynamo-keys';
import { batchGetItems } from './dynamo-batch-get';
import { DynamoOutcomeWatch, LEASE_NAMES } from './dynamo-outcome-watch';
import { isConditionalCheckFailure, queryItems, translateStoreError } from './dynamo-support';

/** A watch as listed, before the checkout's status and lease are read. */
interface ListedWatch {
  checkoutId: string;
  since: string;
  leaseUntil?: unknown;
  leaseOwner?: unknown;
}

/** Forgetting (DynamoOutcomeWatch, which the saga imports alone) plus what only the sweep uses. */
export class DynamoRecoveryStore extends DynamoOutcomeWatch implements RecoveryStore {
  /** The gsi3 entries (oldest first), then the previous version's watch items, one entry per checkout. */
  async listProcessing(limit: number): Promise<ProcessingWatch[]> {
    const entries = await queryItems(
      this.client,
      {
        TableName: this.tableName,
        IndexName: GSI3,
        KeyConditionExpression: 'gsi3pk = :pk',
        ExpressionAttributeValues: { ':pk': RECOVERY_WATCH_GSI_PK },
      },
      limit,
    );
    const listed = new Map<string, ListedWatch>();
    for (const entry of entries) {
      const checkoutId = String(entry['pk']).slice(CHECKOUT_PK_PREFIX.length);
      listed.set(checkoutId, { checkoutId, since: entry['gsi3sk'] as string });
    }
    if (listed.size < limit) {
      const legacy = await queryItems(
        this.client,
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': PROCESSING_WATCH_PK },
        },
        limit - listed.size,
      );
      for (const item of legacy) {
        const checkoutId = item['checkoutId'] as string;
        if (listed.has(checkoutId)) continue;
        listed.set(checkoutId, {
          checkoutId,
          since: item['since'] as string,
          leaseUntil: item['leaseUntil'],
          leaseOwner: item['leaseOwner'],
        });
      }
    }
    const watches = [...listed.values()];
    const checkouts = await batchGetItems(
      this.client,
      this.tableName,
      watches.map((watch) => checkoutKey(watch.checkoutId)),
      { projection: ['status', 'updatedAt', RECOVERY_LEASE_UNTIL, RECOVERY_LEASE_OWNER] },
    );
    const byPk = new Map(checkouts.map((checkout) => [checkout['pk'], checkout]));
    return watches.map((watch) => {
      const checkout = byPk.get(checkoutKey(watch.checkoutId).pk);
      const status = checkout?.['status'];
      const resultAt = status === 'succeeded' || status === 'failed' ? (checkout?.['updatedAt'] as string) : undefined;
      // The checkout's lease; for an old watch item, the lease an older sweep kept in it.
      const leaseUntil = checkout?.[RECOVERY_LEASE_UNTIL] ?? watch.leaseUntil;
      const leaseOwner = checkout?.[RECOVERY_LEASE_OWNER] ?? watch.leaseOwner;
      return {
        checkoutId: watch.checkoutId,
        since: resultAt !== undefined && resultAt > watch.since ? resultAt : watch.since,
        ...(typeof leaseUntil === 'string' ? { leaseUntil } : {}),
        ...(typeof leaseOwner === 'string' ? { leaseOwner } : {}),
      };
    });
  }

  async claimCheckout(checkoutId: string, owner: string, now: Date, leaseUntil: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: checkoutKey(checkoutId),
          UpdateExpression: 'SET #until = :until, #owner = :owner',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#until) OR #until < :now OR #owner = :owner)',
          ExpressionAttributeNames: LEASE_NAMES,
          ExpressionAttributeValues: { ':until': leaseUntil.toISOString(), ':owner': owner, ':now': now.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  async releaseCheckout(checkoutId: string, owner: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: checkoutKey(checkoutId),
          UpdateExpression: 'REMOVE #until, #owner',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: LEASE_NAMES,
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return;
      translateStoreError(error);
    }
  }
}
