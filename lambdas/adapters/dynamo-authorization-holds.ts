/**
 * AuthorizationHoldStore on DynamoDB: the expiry watch of manual-capture authorizations. The hold
 * item is written in the same TransactWriteItems that makes the checkout's instrument `active`
 * (the saga's hand-over to the merchant), so no held authorization is ever unwatched. Live holds
 * sit on gsi1 (sparse: `AUTHHOLD_DUE`, sorted by next due time), so the sweep queries only what
 * is due and never scans the table; stage moves and the sweep's lease are conditional writes.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from './dynamo-client';
import { ConcurrentModificationError, InstrumentMissingError } from '../errors';
import type { AuthorizationHold } from '../domain/authorization-hold';
import type { AuthorizationHoldStore } from '../ports/authorization-holds';
import { AUTHORIZATION_HOLD_DUE_GSI_PK, authorizationHoldKey, GSI1, instrumentKey } from './dynamo-keys';
import { isConditionalCheckFailure, queryItems, transactWrite, translateStoreError, withoutUndefined } from './dynamo-support';

/** The index sort key at the hold's next due time (warning while held, expiry once warned). */
function dueSortKey(
  hold: Pick<AuthorizationHold, 'instrumentId' | 'warnAt' | 'expiresAt'>,
  stage: AuthorizationHold['stage'],
): string {
  return `${stage === 'held' ? hold.warnAt : hold.expiresAt}#${hold.instrumentId}`;
}

function toHold(item: Record<string, unknown>): AuthorizationHold {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as unknown as AuthorizationHold;
}

export class DynamoAuthorizationHoldStore implements AuthorizationHoldStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async holdAuthorization(hold: AuthorizationHold, now: Date): Promise<void> {
    const result = await transactWrite(this.client, {
      TransactItems: [
        {
          Update: {
            TableName: this.tableName,
            Key: instrumentKey(hold.instrumentId),
            UpdateExpression: 'SET #status = :active, updatedAt = :now, version = version + :one',
            ConditionExpression: '#status = :pending AND checkoutId = :checkoutId',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':active': 'active',
              ':pending': 'pending',
              ':now': now.toISOString(),
              ':one': 1,
              ':checkoutId': hold.checkoutId,
            },
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: withoutUndefined({
              ...authorizationHoldKey(hold.instrumentId),
              entity: 'authorization_hold',
              gsi1pk: AUTHORIZATION_HOLD_DUE_GSI_PK,
              gsi1sk: dueSortKey(hold, hold.stage),
              ...hold,
            }),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
    });
    if (result.ok) return;
    // A re-run after the hand-over landed finds both in place: done. Anything else is refused.
    const existing = await this.getHold(hold.instrumentId);
    if (existing !== undefined && existing.checkoutId === hold.checkoutId) return;
    if (result.codes[0] === 'ConditionalCheckFailed') {
      throw new InstrumentMissingError(`Instrument ${hold.instrumentId} is no longer held by the saga of ${hold.checkoutId}`);
    }
    throw new ConcurrentModificationError('The authorization hold could not be written; retry');
  }

  async getHold(instrumentId: string): Promise<AuthorizationHold | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: authorizationHoldKey(instrumentId), ConsistentRead: true }),
      );
      return Item === undefined ? undefined : toHold(Item);
    } catch (error) {
      return translateStoreError(error);
    }
  }

  async listDueHolds(now: Date, limit: number): Promise<string[]> {
    const items = await queryItems(
      this.client,
      {
        TableName: this.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk <= :due',
        ExpressionAttributeValues: { ':pk': AUTHORIZATION_HOLD_DUE_GSI_PK, ':due': `${now.toISOString()}#\uffff` },
      },
      limit,
    );
    return items.flatMap((item) => (typeof item['instrumentId'] === 'string' ? [item['instrumentId']] : []));
  }

  async advanceHold(
    instrumentId: string,
    from: AuthorizationHold['stage'],
    to: AuthorizationHold['stage'],
    now: Date,
    outcome?: string,
  ): Promise<boolean> {
    const hold = await this.getHold(instrumentId);
    if (hold === undefined || hold.stage !== from) return false;
    const values: Record<string, unknown> = { ':from': from, ':to': to, ':now': now.toISOString() };
    let expression = 'SET #stage = :to, updatedAt = :now';
    if (to === 'done') {
      expression += ', #outcome = :outcome REMOVE gsi1pk, gsi1sk, leaseUntil, leaseOwner';
      values[':outcome'] = outcome ?? 'done';
    } else {
      expression += ', gsi1sk = :due';
      values[':due'] = dueSortKey(hold, to);
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: authorizationHoldKey(instrumentId),
          UpdateExpression: expression,
          ConditionExpression: '#stage = :from',
          ExpressionAttributeNames: { '#stage': 'stage', ...(to === 'done' ? { '#outcome': 'outcome' } : {}) },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  async claimHold(instrumentId: string, owner: string, now: Date, leaseUntil: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: authorizationHoldKey(instrumentId),
          UpdateExpression: 'SET leaseUntil = :until, leaseOwner = :owner',
          ConditionExpression:
            'attribute_exists(pk) AND #stage <> :done AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner)',
          ExpressionAttributeNames: { '#stage': 'stage' },
          ExpressionAttributeValues: {
            ':until': leaseUntil.toISOString(),
            ':owner': owner,
            ':now': now.toISOString(),
            ':done': 'done',
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      return translateStoreError(error);
    }
  }
}
