/**
 * Finding an instrument by its PSP authorization, on DynamoDB Local, in both layouts: the saga's
 * instrument as written now (one plain Put, its PSP reference as its gsi2 key, no claim item) and
 * as written before (a `PSPREF#` claim item beside it, no gsi2 entry), plus instruments claimed
 * through the API (claim item, in a transaction). PSP callbacks (receivePspCallback with the
 * DynamoDB instrument repository, callback store and checkout repository) reach either.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, type DynamoDBDocumentClient, GetCommand, PutCommand } from '../../lambdas/adapters/dynamo-client';
import { startDynamoDbLocal, LOCAL_AWS, type DynamoDbLocal } from '../../local/dynamodb-local';
import { DynamoInstrumentRepository, toInstrumentItem } from '../../lambdas/adapters/dynamo-instrument-repository';
import { DynamoPspCallbackStore } from '../../lambdas/adapters/dynamo-callback-store';
import { DynamoCheckoutRepository } from '../../lambdas/adapters/dynamo-checkout-repository';
import { instrumentPspReferenceKey } from '../../lambdas/adapters/dynamo-keys';
import { sandboxCallbackReader, signPspCallback } from '../../lambdas/connectors/sandbox/callbacks';
import { instrumentIdForCheckout, newAuthorizedInstrument } from '../../lambdas/domain/instrument-ledger';
import type { FinancialInstrument } from '../../lambdas/domain/instrument-model';
import { sha256Hex } from '../../lambdas/domain/ids';
import type { EventPublisher } from '../../lambdas/ports/events';
import { receivePspCallback, type PspCallbackDependencies } from '../../lambdas/use-cases/psp-callbacks';
import { aPayment } from '../support/payments';
import { FakeResumer } from '../unit/fakes';

const SECRET = 'pspcb_integration';
const NOW = new Date();

let db: DynamoDbLocal;
let client: DynamoDBDocumentClient;
let instruments: DynamoInstrumentRepository;
let checkouts: DynamoCheckoutRepository;
let callbacks: DynamoPspCallbackStore;

beforeAll(async () => {
  db = await startDynamoDbLocal();
  client = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  instruments = new DynamoInstrumentRepository(client, db.tableName);
  checkouts = new DynamoCheckoutRepository(client, db.tableName);
  callbacks = new DynamoPspCallbackStore(client, db.tableName);
});

afterAll(async () => {
  client?.destroy();
  await db?.stop();
});

const unique = (prefix: string): string => `${prefix}${randomUUID().replace(/-/g, '').slice(0, 22)}`;

/** The saga's instrument for a captured checkout (refundable = amount), as AuthorizePayment and CapturePayment leave it. */
function sagaInstrument(checkoutId: string, pspReference: string): FinancialInstrument {
  const opened = newAuthorizedInstrument({
    id: instrumentIdForCheckout(checkoutId),
    merchantId: 'mer_pspref',
    type: 'authorized',
    status: 'active',
    amount: 5000,
    currency: 'USD',
    connector: 'sandbox',
    pspReference,
    pspPaymentReference: checkoutId,
    checkoutId,
    now: NOW,
  });
  return { ...opened, capturableAmount: 0, refundableAmount: 5000 };
}

/** A merchant's own authorization (filed under its order reference) claimed through the API, its 3000 refundable. */
function claimedInstrument(orderReference: string, pspReference: string): FinancialInstrument {
  const claimed = newAuthorizedInstrument({
    id: unique('fi_'),
    merchantId: 'mer_pspref',
    type: 'captured',
    amount: 3000,
    currency: 'USD',
    connector: 'sandbox',
    pspReference,
    pspPaymentReference: orderReference,
    now: NOW,
  });
  return { ...claimed, capturableAmount: 0, refundableAmount: 3000 }; // captured by the order already
}

/** The layout written before: the instrument item without gsi2 keys, and its claim item. */
async function writeOldLayout(instrument: FinancialInstrument): Promise<void> {
  await client.send(new PutCommand({ TableName: db.tableName, Item: toInstrumentItem(instrument) }));
  await client.send(
    new PutCommand({
      TableName: db.tableName,
      Item: {
        ...instrumentPspReferenceKey(instrument.connector, instrument.pspReference ?? ''),
        entity: 'instrument_psp_reference',
        instrumentId: instrument.id,
      },
    }),
  );
}

async function claimItem(instrument: FinancialInstrument): Promise<Record<string, unknown> | undefined> {
  const { Item } = await client.send(
    new GetCommand({
      TableName: db.tableName,
      Key: instrumentPspReferenceKey(instrument.connector, instrument.pspReference ?? ''),
      ConsistentRead: true,
    }),
  );
  return Item;
}

async function paidCheckout(checkoutId: string, instrument: FinancialInstrument): Promise<void> {
  const at = NOW.toISOString();
  await checkouts.createCheckout({
    id: checkoutId,
    merchantId: 'mer_pspref',
    merchantOrderRef: unique('ref_'),
    amount: 5000,
    currency: 'USD',
    items: [{ sku: 'A', quantity: 1 }],
    successUrl: 'https://s.example/ok',
    failureUrl: 'https://s.example/ko',
    status: 'succeeded',
    clientSecretHash: sha256Hex('cs_x'),
    createdAt: at,
    updatedAt: at,
    expiresAt: new Date(NOW.getTime() + 3_600_000).toISOString(),
    version: 1,
    payment: aPayment(
      {
        paymentToken: 'tok_1',
        connector: 'sandbox',
        pspReference: instrument.pspReference ?? '',
        authorizedAmount: 5000,
        capturedAmount: 5000,
        voided: false,
        instrumentId: instrument.id,
      },
      { id: checkoutId, amount: 5000, status: 'succeeded' },
    ),
  });
}

class RecordingPublisher implements EventPublisher {
  readonly published: Parameters<EventPublisher['publishEvent']>[0][] = [];
  async publishEvent(event: Parameters<EventPublisher['publishEvent']>[0]) {
    this.published.push(event);
    return { eventId: `evt_${this.published.length}`, created: true, deliveries: 0 };
  }
}

function callbackDeps(events: RecordingPublisher): PspCallbackDependencies {
  return {
    callbacks,
    resumer: new FakeResumer(),
    checkouts,
    instruments,
    events,
    callbackReaders: { sandbox: sandboxCallbackReader([SECRET]) },
    now: () => NOW,
  };
}

/** A signed `dispute.created` callback of 2000 about `authorizationId`, filed under `reference`. */
function dispute(reference: string, authorizationId: string) {
  const rawBody = JSON.stringify({
    id: unique('pevt_'),
    type: 'dispute.created',
    created: NOW.toISOString(),
    data: {
      authorization_id: authorizationId,
      reference,
      amount: 2000,
      currency: 'USD',
      status: 'x',
      dispute_id: unique('dp_'),
    },
  });
  return {
    connector: 'sandbox',
    rawBody,
    headers: { 'psp-signature': signPspCallback(SECRET, Math.floor(NOW.getTime() / 1000), rawBody) },
  };
}

describe("the saga's instrument by PSP reference", () => {
  it('is written without a claim item and found through its gsi2 entry', async () => {
    // Prepare
    const checkoutId = unique('chk_');
    const instrument = sagaInstrument(checkoutId, unique('auth_'));
    // Act
    const created = await instruments.createInstrument(instrument);
    const found = await instruments.findInstrumentIdByPspReference('sandbox', instrument.pspReference ?? '');
    const otherConnector = await instruments.findInstrumentIdByPspReference('stripe', instrument.pspReference ?? '');
    // Assess
    expect(created.kind).toBe('created');
    expect(await claimItem(instrument)).toBeUndefined();
    expect(found).toBe(instrument.id);
    expect(otherConnector).toBeUndefined();
    expect(await instruments.getInstrument(instrument.id)).toEqual(instrument); // gsi2 keys never leak into the model
  });

  it('is found through its claim item when written in the previous layout', async () => {
    // Prepare
    const instrument = sagaInstrument(unique('chk_'), unique('auth_'));
    await writeOldLayout(instrument);
    // Act
    const found = await instruments.findInstrumentIdByPspReference('sandbox', instrument.pspReference ?? '');
    // Assess
    expect(found).toBe(instrument.id);
  });

  it('answers a re-run of the creation with the stored instrument, writing nothing new', async () => {
    // Prepare
    const instrument = sagaInstrument(unique('chk_'), unique('auth_'));
    await instruments.createInstrument(instrument);
    // Act
    const again = await instruments.createInstrument({ ...instrument, amount: 1 });
    // Assess
    expect(again).toEqual({ kind: 'exists', instrument });
  });

  it('keeps an authorization a saga instrument holds, in either layout, from being claimed through the API', async () => {
    // Prepare
    const current = sagaInstrument(unique('chk_'), unique('auth_'));
    const previous = sagaInstrument(unique('chk_'), unique('auth_'));
    await instruments.createInstrument(current);
    await writeOldLayout(previous);
    // Act
    const onCurrent = await instruments.createInstrument(claimedInstrument(unique('ord_'), current.pspReference ?? ''));
    const onPrevious = await instruments.createInstrument(claimedInstrument(unique('ord_'), previous.pspReference ?? ''));
    // Assess
    expect(onCurrent).toEqual({ kind: 'psp_reference_taken', instrumentId: current.id });
    expect(onPrevious).toEqual({ kind: 'psp_reference_taken', instrumentId: previous.id });
  });
});

describe('PSP callbacks reach the instrument in either layout', () => {
  for (const layout of ['gsi2 entry (now)', 'claim item (before)'] as const) {
    it(`applies a chargeback to the saga's instrument written with a ${layout}`, async () => {
      // Prepare
      const checkoutId = unique('chk_');
      const instrument = sagaInstrument(checkoutId, unique('auth_'));
      if (layout === 'gsi2 entry (now)') await instruments.createInstrument(instrument);
      else await writeOldLayout(instrument);
      await paidCheckout(checkoutId, instrument);
      const events = new RecordingPublisher();
      // Act
      const result = await receivePspCallback(callbackDeps(events), dispute(checkoutId, instrument.pspReference ?? ''));
      // Assess
      expect(result.result).toBe('applied');
      expect((await instruments.getInstrument(instrument.id))?.refundableAmount).toBe(3000);
      expect(events.published.map((event) => event.type)).toEqual(['dispute.created']);
    });
  }

  it("applies a chargeback on a merchant's claimed authorization to its instrument, found by the authorization id", async () => {
    // Prepare
    const order = unique('ord_');
    const instrument = claimedInstrument(order, unique('auth_'));
    expect((await instruments.createInstrument(instrument)).kind).toBe('created');
    const events = new RecordingPublisher();
    // Act
    const result = await receivePspCallback(callbackDeps(events), dispute(order, instrument.pspReference ?? ''));
    // Assess
    expect(result.result).toBe('applied');
    expect((await instruments.getInstrument(instrument.id))?.refundableAmount).toBe(1000);
    expect(events.published).toEqual([
      expect.objectContaining({
        type: 'dispute.created',
        merchantId: 'mer_pspref',
        objectId: expect.stringMatching(/^dp_/),
        data: { object: expect.objectContaining({ financial_instrument_id: instrument.id }) },
      }),
    ]);
  });

  it('leaves an authorization filed under another reference unmatched, its instrument untouched', async () => {
    // Prepare: the authorization is the instrument's, but the callback names another order reference
    const instrument = claimedInstrument(unique('ord_'), unique('auth_'));
    await instruments.createInstrument(instrument);
    const events = new RecordingPublisher();
    // Act
    const result = await receivePspCallback(callbackDeps(events), dispute(unique('ord_'), instrument.pspReference ?? ''));
    // Assess
    expect(result.result).toBe('unmatched');
    expect((await instruments.getInstrument(instrument.id))?.refundableAmount).toBe(3000);
    expect(events.published).toEqual([]);
  });
});
