/**
 * Every DynamoDB call of the saga's AuthorizePayment and CapturePayment steps, on DynamoDB Local
 * with the production adapters (the PSP, the merchant's confirmation endpoint and the webhook
 * receiver are fakes): which item each call touches, strongly or eventually consistent, and which
 * calls run side by side. The serial latency of a checkout is mostly these round trips.
 */
import { createDocumentClient, type DynamoDBDocumentClient } from '../../lambdas/adapters/dynamo-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoCheckoutRepository } from '../../lambdas/adapters/dynamo-checkout-repository';
import { DynamoEventStore } from '../../lambdas/adapters/dynamo-event-store';
import { DynamoInstrumentRepository } from '../../lambdas/adapters/dynamo-instrument-repository';
import { DynamoMerchantRepository } from '../../lambdas/adapters/dynamo-merchant-repository';
import { DynamoRecoveryStore } from '../../lambdas/adapters/dynamo-recovery-store';
import { DynamoWebhookEndpointRepository } from '../../lambdas/adapters/dynamo-webhook-endpoints';
import { generateCheckoutId, generateMerchantId } from '../../lambdas/domain/ids';
import { DEFAULT_RETRY_SCHEDULE } from '../../lambdas/domain/webhook-schedule';
import { ConcurrentModificationError } from '../../lambdas/errors';
import { authorizePayment } from '../../lambdas/use-cases/saga/authorize-payment';
import { captureAndNotify, type CaptureAndNotifyPorts } from '../../lambdas/use-cases/saga/capture-payment';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';
import { aPayment } from '../support/payments';
import {
  aCheckout,
  aMerchant,
  fakeCipher,
  FakeAuthorizationHolds,
  FakeConfirmer,
  FakeGateway,
  FakeInstruments,
  FakeWebhookSender,
  oneConnector,
} from '../unit/fakes';

/** One DynamoDB call: command, the kind of item (its pk prefix), consistency, and how many other calls were in flight when it started or ended. */
interface Call {
  call: string;
  startedBeside: number;
  endedBeside: number;
}

let db: DynamoDbLocal;
let client: DynamoDBDocumentClient;
const log: Call[] = [];
let inFlight = 0;

function itemKind(input: Record<string, unknown>): string {
  const key = (input.Key ?? (input.Item as Record<string, unknown> | undefined)) as { pk?: string } | undefined;
  if (key?.pk !== undefined) return key.pk.split('#')[0]!;
  const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
  if (typeof values?.[':pk'] === 'string') return (values[':pk'] as string).split('#')[0]!;
  const request = Object.values((input.RequestItems ?? {}) as Record<string, unknown>)[0] as
    { Keys?: { pk: string }[] } | { PutRequest?: { Item: { pk: string } } }[] | undefined;
  if (Array.isArray(request)) return request[0]?.PutRequest?.Item.pk.split('#')[0] ?? '?';
  return request?.Keys?.[0]?.pk.split('#')[0] ?? '?';
}

function callName(command: string, input: Record<string, unknown>): string {
  const consistency = input.ConsistentRead === true ? ' strong' : '';
  // Forgetting the recovery watch: an UpdateItem of the checkout removing its gsi3 entry.
  const watch = String(input.UpdateExpression ?? '').startsWith('REMOVE gsi3pk') ? ' watch' : '';
  return `${command.replace(/Command$/, '')} ${itemKind(input)}${consistency}${watch}`;
}

/** Runs `act` and returns its DynamoDB calls in the order they started. */
async function callsOf(act: () => Promise<unknown>): Promise<Call[]> {
  log.length = 0;
  await act();
  return [...log];
}

const names = (calls: Call[]): string[] => calls.map((entry) => entry.call);

function tally(calls: Call[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { call } of calls) counts[call] = (counts[call] ?? 0) + 1;
  return counts;
}

interface World {
  deps: CaptureAndNotifyPorts & Parameters<typeof authorizePayment>[0];
  gateway: FakeGateway;
  confirmer: FakeConfirmer;
  sender: FakeWebhookSender;
  checkoutId: string;
  checkouts: DynamoCheckoutRepository;
}

let world: World;

async function newWorld({ confirmation }: { confirmation: boolean }): Promise<World> {
  const merchantId = generateMerchantId();
  const checkoutId = generateCheckoutId();
  const checkouts = new DynamoCheckoutRepository(client, db.tableName);
  const merchants = new DynamoMerchantRepository(client, db.tableName);
  const instruments = new DynamoInstrumentRepository(client, db.tableName);
  const webhookEndpoints = new DynamoWebhookEndpointRepository(client, db.tableName);
  const gateway = new FakeGateway();
  const confirmer = new FakeConfirmer();
  const sender = new FakeWebhookSender();
  await merchants.createMerchant(
    aMerchant({
      id: merchantId,
      merchantKey: `mk_${merchantId}`,
      secretKeyHash: `hash_${merchantId}`,
      settings: confirmation
        ? { inventoryConfirmationEnabled: true, inventoryConfirmationUrl: 'https://merchant.example/confirm' }
        : { inventoryConfirmationEnabled: false },
    }),
  );
  await checkouts.createCheckout(
    aCheckout({
      id: checkoutId,
      merchantId,
      merchantOrderRef: `ref_${checkoutId}`,
      status: 'processing',
      payment: aPayment({ paymentToken: 'tok_1', connector: 'fake' }, { id: checkoutId }),
    }),
  );
  await webhookEndpoints.createEndpoint({
    id: `we_${checkoutId}`,
    merchantId,
    url: 'https://merchant.example/webhooks',
    enabledEvents: ['*'],
    secretCiphertext: 'enc(whsec_1)',
    status: 'enabled',
    createdAt: new Date().toISOString(),
  });
  const deps = {
    checkouts,
    merchants,
    ...oneConnector(gateway),
    confirmer,
    cipher: fakeCipher,
    instruments,
    authorizationHolds: new FakeAuthorizationHolds(new FakeInstruments()), // manual capture only: not used here
    renderCheckout: (c: { id: string; status: string }) => ({ id: c.id, status: c.status }),
    events: new DynamoEventStore(client, db.tableName),
    webhookEndpoints,
    webhookSender: sender,
    schedule: DEFAULT_RETRY_SCHEDULE,
    random: () => 0.5,
    outcomeWatch: new DynamoRecoveryStore(client, db.tableName),
  } as unknown as World['deps'];
  return { deps, gateway, confirmer, sender, checkoutId, checkouts };
}

// The steps' own calls: the settings read cache (lambdas/adapters/settings-read-cache.ts, tested in
// dynamo-store and api-read-cost) is off here, so every merchant and endpoint read shows as a call
// instead of depending on how long ago the previous step read the same merchant.
vi.hoisted(() => {
  process.env['PAYSTEP_SETTINGS_CACHE_TTL_MS'] = '0';
});

beforeAll(async () => {
  db = await startDynamoDbLocal();
  client = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const entry: Call = {
        call: callName(context.commandName ?? '?', args.input as Record<string, unknown>),
        startedBeside: inFlight,
        endedBeside: 0,
      };
      log.push(entry);
      inFlight += 1;
      try {
        return await next(args);
      } finally {
        inFlight -= 1;
        entry.endedBeside = inFlight;
      }
    },
    { step: 'initialize', name: 'sagaStepCallLog' },
  );
});

afterAll(async () => {
  client?.destroy();
  await db?.stop();
});

describe("AuthorizePayment's DynamoDB calls", () => {
  beforeEach(async () => {
    world = await newWorld({ confirmation: true });
  });

  it('reads the checkout and the merchant, puts the instrument, then records the authorization on the checkout it read (no second read)', async () => {
    // Act
    const calls = await callsOf(() => authorizePayment(world.deps, { checkoutId: world.checkoutId }));
    // Assess: updatePayment writes on the step's read (conditional on its version), without reading
    // again; the connector counter goes out beside that write, not after it.
    expect(names(calls).slice(0, 3)).toEqual(['GetItem CHECKOUT strong', 'GetItem MERCHANT', 'PutItem INSTRUMENT']);
    expect(names(calls).slice(3).sort()).toEqual(['UpdateItem CHECKOUT', 'UpdateItem CONNSTATS']);
    expect(calls[4]!.startedBeside).toBe(1);
  });
});

describe("CapturePayment's DynamoDB calls", () => {
  it('with the inventory confirmed: 3 GetItems (no re-read before the decision nor the terminal write), the instrument read beside the decision write, the endpoints read beside the terminal write, the result events not read', async () => {
    // Prepare
    world = await newWorld({ confirmation: true });
    await authorizePayment(world.deps, { checkoutId: world.checkoutId });
    // Act
    const calls = await callsOf(() =>
      captureAndNotify(world.deps, {
        checkoutId: world.checkoutId,
        inventoryConfirmationRequired: true,
        stateEnteredTime: new Date().toISOString(),
      }),
    );
    // Assess
    expect(tally(calls)).toEqual({
      'GetItem CHECKOUT strong': 1, // the step's read, for both phases (the decision is written on it)
      'GetItem MERCHANT': 1,
      'GetItem INSTRUMENT strong': 1,
      'UpdateItem CHECKOUT': 2, // the decision; the capture with the terminal status
      'UpdateItem INSTRUMENT': 1,
      'Query MERCHANT': 1, // the webhook endpoints (no BatchGetItem EVENT: this run's terminal write made the events, none can be stored)
      'BatchWriteItem EVENT': 1,
      'UpdateItem CHECKOUT watch': 1,
    });
    const sequence = names(calls);
    // Never reordered: the decision before the capture's instrument write, that before the terminal
    // write, the events stored before the recovery watch is dropped.
    const decision = sequence.indexOf('UpdateItem CHECKOUT');
    const instrumentWrite = sequence.indexOf('UpdateItem INSTRUMENT');
    const terminal = sequence.lastIndexOf('UpdateItem CHECKOUT');
    expect(decision).toBeLessThan(instrumentWrite);
    expect(instrumentWrite).toBeLessThan(terminal);
    expect(terminal).toBeLessThan(sequence.indexOf('BatchWriteItem EVENT'));
    expect(sequence.indexOf('BatchWriteItem EVENT')).toBeLessThan(sequence.indexOf('UpdateItem CHECKOUT watch'));
    // Side by side: the instrument read with the decision write's read; the notify's endpoints read
    // with the terminal write, after the instrument's capture write.
    const instrumentRead = calls.find((entry) => entry.call === 'GetItem INSTRUMENT strong')!;
    expect(sequence.indexOf('GetItem INSTRUMENT strong')).toBeLessThan(decision);
    expect(instrumentRead.startedBeside + instrumentRead.endedBeside).toBeGreaterThan(0);
    expect(sequence.slice(instrumentWrite + 1, terminal + 1)).toEqual(['Query MERCHANT', 'UpdateItem CHECKOUT']);
    expect(calls[terminal]!.startedBeside).toBe(1);
    expect(world.confirmer.requests).toHaveLength(1);
    expect(world.gateway.calls.filter((call) => call.op === 'capture')).toHaveLength(1);
    expect(world.sender.sent).toHaveLength(2);
    expect((await world.checkouts.getCheckout(world.checkoutId))?.status).toBe('succeeded');
  });

  it('without confirmation: the checkout and the instrument read side by side, 2 GetItems in all, no read after the terminal write nor of the result events', async () => {
    // Prepare
    world = await newWorld({ confirmation: false });
    const authorized = await authorizePayment(world.deps, { checkoutId: world.checkoutId });
    // Act
    const calls = await callsOf(() =>
      captureAndNotify(world.deps, {
        checkoutId: world.checkoutId,
        inventoryConfirmationRequired: authorized.inventoryConfirmationRequired,
      }),
    );
    // Assess
    expect(authorized.inventoryConfirmationRequired).toBe(false);
    const sequence = names(calls);
    expect(sequence.slice(0, 2).sort()).toEqual(['GetItem CHECKOUT strong', 'GetItem INSTRUMENT strong']);
    expect(calls[1]!.startedBeside).toBe(1);
    expect(sequence.filter((call) => call.startsWith('GetItem'))).toHaveLength(2);
    expect(sequence.slice(2)).toEqual([
      'UpdateItem INSTRUMENT',
      'Query MERCHANT',
      'UpdateItem CHECKOUT',
      'BatchWriteItem EVENT',
      'UpdateItem CHECKOUT watch',
    ]);
    expect((await world.checkouts.getCheckout(world.checkoutId))?.status).toBe('succeeded');
  });

  it('a re-run on a checkout already terminal reads the stored result events and keeps their delivery state: nothing sent or written again', async () => {
    // Prepare: the first run's checkout.succeeded delivery failed (pending for the dispatcher).
    world = await newWorld({ confirmation: false });
    await authorizePayment(world.deps, { checkoutId: world.checkoutId });
    const stepInput = { checkoutId: world.checkoutId, inventoryConfirmationRequired: false };
    world.sender.answers = [true, false];
    const first = await captureAndNotify(world.deps, stepInput);
    const eventIds = first.notified.eventIds!;
    const storedBefore = await world.deps.events.getEvents(eventIds);
    const sentBefore = world.sender.sent.length;
    // Act: the Task's retry (or the sweep) on the terminal checkout
    const calls = await callsOf(() => captureAndNotify(world.deps, stepInput));
    // Assess: the events are read (this run made no terminal write), found, and neither sent nor stored again.
    expect(first.notified).toMatchObject({ delivered: 1, pending: 1 });
    expect(names(calls)).toContain('BatchGetItem EVENT');
    expect(names(calls)).not.toContain('BatchWriteItem EVENT');
    expect(names(calls).filter((call) => call === 'UpdateItem CHECKOUT')).toEqual([]);
    expect(world.sender.sent).toHaveLength(sentBefore);
    const storedAfter = await world.deps.events.getEvents(eventIds);
    expect(storedAfter).toEqual(storedBefore);
    expect(storedAfter.flatMap(({ deliveries }) => deliveries.map((delivery) => [delivery.status, delivery.attempt]))).toEqual([
      ['delivered', 1],
      ['pending', 1],
    ]);
  });

  it('a checkout written by someone else after the step read it: the terminal write loses its condition, and the re-run captures nothing twice', async () => {
    // Prepare: another writer moves the checkout's version while the PSP captures.
    world = await newWorld({ confirmation: false });
    await authorizePayment(world.deps, { checkoutId: world.checkoutId });
    const stepInput = { checkoutId: world.checkoutId, inventoryConfirmationRequired: false };
    const capture = world.gateway.capture.bind(world.gateway);
    world.gateway.capture = async (...args: Parameters<FakeGateway['capture']>) => {
      const answer = await capture(...args);
      const current = (await world.checkouts.getCheckout(world.checkoutId))!;
      await world.checkouts.updatePayment(world.checkoutId, current.payment!, current.version);
      return answer;
    };
    // Act
    const first = captureAndNotify(world.deps, stepInput);
    // Assess
    await expect(first).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect((await world.checkouts.getCheckout(world.checkoutId))?.status).toBe('processing');
    // Act: the Task's retry
    const again = await captureAndNotify(world.deps, stepInput);
    // Assess
    expect(again.status).toBe('succeeded');
    expect(again.capturedAmount).toBe(10050);
    expect(world.gateway.calls.filter((call) => call.op === 'capture')).toHaveLength(1);
    expect(world.sender.sent.map((sent) => (JSON.parse(sent.message.body) as { type: string }).type)).toEqual([
      'payment.captured',
      'checkout.succeeded',
    ]);
  });
});
