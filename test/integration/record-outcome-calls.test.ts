/**
 * recordOutcome's DynamoDB calls on DynamoDB Local with the production checkout repository: the
 * terminal write is made on the checkout recordOutcome read (one strong GetItem, one UpdateItem;
 * the repository does not read it again), and a checkout changed between that read and the write
 * is still refused with ConcurrentModificationError, nothing written.
 */
import { createDocumentClient, type DynamoDBDocumentClient } from '../../lambdas/adapters/dynamo-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCheckoutRepository } from '../../lambdas/adapters/dynamo-checkout-repository';
import { generateCheckoutId } from '../../lambdas/domain/ids';
import { ConcurrentModificationError } from '../../lambdas/errors';
import { recordOutcome, type RecordOutcomePorts } from '../../lambdas/use-cases/saga/record-outcome';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';
import { aPayment } from '../support/payments';
import { aCheckout, FakeInstruments } from '../unit/fakes';

let db: DynamoDbLocal;
let client: DynamoDBDocumentClient;
const calls: string[] = [];

beforeAll(async () => {
  db = await startDynamoDbLocal();
  client = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ConsistentRead?: boolean; Key?: { pk?: string } };
      const kind = input.Key?.pk?.split('#')[0] ?? '?';
      calls.push(
        `${(context.commandName ?? '?').replace(/Command$/, '')} ${kind}${input.ConsistentRead === true ? ' strong' : ''}`,
      );
      return await next(args);
    },
    { step: 'initialize', name: 'recordOutcomeCallLog' },
  );
});

afterAll(async () => {
  client?.destroy();
  await db?.stop();
});

async function processingCheckout(checkouts: DynamoCheckoutRepository): Promise<string> {
  const id = generateCheckoutId();
  await checkouts.createCheckout(
    aCheckout({ id, merchantOrderRef: `ref_${id}`, status: 'processing', payment: aPayment({ paymentToken: 'tok_1' }, { id }) }),
  );
  return id;
}

describe("recordOutcome's DynamoDB calls", () => {
  it('records failed with one strong GetItem and one UpdateItem of the checkout: the write is made on the checkout it read', async () => {
    // Prepare
    const checkouts = new DynamoCheckoutRepository(client, db.tableName);
    const deps: RecordOutcomePorts = { checkouts, instruments: new FakeInstruments() };
    const checkoutId = await processingCheckout(checkouts);
    calls.length = 0;
    // Act
    const recorded = await recordOutcome(deps, { checkoutId, outcome: { status: 'failed', reason: 'psp_error' } });
    // Assess
    expect(recorded.status).toBe('failed');
    // (the connector's CONNSTATS counter, sent beside a failed payment's write, is not this test's concern)
    expect(calls.filter((call) => call.includes('CHECKOUT'))).toEqual(['GetItem CHECKOUT strong', 'UpdateItem CHECKOUT']);
    expect(await checkouts.getCheckout(checkoutId)).toMatchObject({ status: 'failed', failureReason: 'psp_error' });
  });

  it('a checkout changed after recordOutcome read it: ConcurrentModificationError, the change kept and no terminal status', async () => {
    // Prepare: another writer moves the version right after recordOutcome's read.
    const checkouts = new DynamoCheckoutRepository(client, db.tableName);
    const checkoutId = await processingCheckout(checkouts);
    let moved = false;
    const racing = Object.assign(Object.create(checkouts) as DynamoCheckoutRepository, {
      getCheckout: async (id: string) => {
        const read = await checkouts.getCheckout(id);
        if (!moved && read !== undefined) {
          moved = true;
          await checkouts.updatePayment(
            id,
            { ...read.payment!, authorizationExpiresAt: '2030-01-01T00:00:00.000Z' },
            read.version,
          );
        }
        return read;
      },
    });
    // Act
    const recorded = recordOutcome(
      { checkouts: racing, instruments: new FakeInstruments() },
      {
        checkoutId,
        outcome: { status: 'failed', reason: 'psp_error' },
      },
    );
    // Assess
    await expect(recorded).rejects.toBeInstanceOf(ConcurrentModificationError);
    const stored = await checkouts.getCheckout(checkoutId);
    expect(stored).toMatchObject({ status: 'processing', payment: { authorizationExpiresAt: '2030-01-01T00:00:00.000Z' } });
  });
});
