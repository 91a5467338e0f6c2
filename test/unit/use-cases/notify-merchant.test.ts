/**
 * The saga's NotifyMerchant step: publishes payment.captured / payment.voided and the result
 * event (checkout.succeeded | checkout.failed with failure_reason), attempts each delivery once
 * before storing the events with those attempts (one write), never fails the step for a failed
 * delivery (the dispatcher retries), publishes nothing new when re-run, and sends again with the
 * same webhook-id when it died between sending and storing.
 */
import { aPayment } from '../../support/payments';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Checkout } from '../../../lambdas/domain/model';
import { DEFAULT_RETRY_SCHEDULE } from '../../../lambdas/domain/webhook-schedule';
import {
  checkoutEventTypes,
  checkoutWebhookRows,
  notifyMerchant,
  resultEventId,
  startNotifyReads,
  type NotifyMerchantPorts,
} from '../../../lambdas/use-cases/saga/notify-merchant';
import {
  aCheckout,
  aMerchant,
  FakeCheckouts,
  fakeCipher,
  FakeEventStore,
  FakeInstruments,
  FakeMerchants,
  FakeWebhookEndpoints,
  FakeWebhookSender,
} from '../fakes';

let checkouts: FakeCheckouts;
let events: FakeEventStore;
let endpoints: FakeWebhookEndpoints;
let sender: FakeWebhookSender;
let deps: NotifyMerchantPorts;
const input = { checkoutId: 'chk_1' };

const terminal = (overrides: Partial<Checkout>) =>
  aCheckout({
    status: 'succeeded',
    updatedAt: '2026-03-01T12:00:00.000Z',
    payment: aPayment({
      paymentToken: 'tok_1',
      connector: 'fake',
      pspReference: 'auth_1',
      authorizedAmount: 10050,
      capturedAmount: 10050,
      voided: false,
    }),
    ...overrides,
  });

beforeEach(async () => {
  checkouts = new FakeCheckouts();
  events = new FakeEventStore();
  endpoints = new FakeWebhookEndpoints();
  sender = new FakeWebhookSender();
  const merchants = new FakeMerchants();
  await merchants.createMerchant(aMerchant());
  deps = {
    checkouts,
    merchants,
    cipher: fakeCipher,
    instruments: new FakeInstruments(),
    webhookEndpoints: endpoints,
    webhookSender: sender,
    renderCheckout: (c) => ({ id: c.id, status: c.status, failure_reason: c.failureReason ?? null }),
    events,
    schedule: DEFAULT_RETRY_SCHEDULE,
    random: () => 0.5,
  };
  for (const [id, enabledEvents] of [
    ['we_all', ['*']],
    ['we_results', ['checkout.succeeded', 'checkout.failed']],
    ['we_refunds', ['payment.refunded']],
  ] as const) {
    await endpoints.createEndpoint({
      id,
      merchantId: 'mer_1',
      url: `https://merchant.example/${id}`,
      enabledEvents: [...enabledEvents],
      secretCiphertext: `enc(whsec_${id})`,
      status: 'enabled',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
  }
});

describe('notifyMerchant', () => {
  it('publishes payment.captured then checkout.succeeded and delivers each to its subscribers, signed with the decrypted secret', async () => {
    // Prepare
    await checkouts.createCheckout(terminal({}));
    // Act
    const result = await notifyMerchant(deps, input);
    // Assess
    expect(result).toEqual({
      eventId: resultEventId('chk_1', 'checkout.succeeded'),
      eventIds: [resultEventId('chk_1', 'payment.captured'), resultEventId('chk_1', 'checkout.succeeded')],
      delivered: 3,
      pending: 0,
    });
    expect(sender.sent.map((s) => [s.url.split('/').pop(), JSON.parse(s.message.body).type])).toEqual([
      ['we_all', 'payment.captured'],
      ['we_all', 'checkout.succeeded'],
      ['we_results', 'checkout.succeeded'],
    ]);
    expect(sender.sent[0]!.secrets).toEqual(['whsec_we_all']);
    expect(JSON.parse(sender.sent[1]!.message.body)).toMatchObject({
      id: result.eventId,
      created: 1772366400,
      data: { object: { id: 'chk_1', status: 'succeeded' } },
    });
    const rows = await checkoutWebhookRows(events, (await checkouts.getCheckout('chk_1'))!);
    expect(rows.map((row) => [row.type, row.data?.endpoint_id, row.data?.event_type])).toEqual([
      ['webhook_delivered', 'we_all', 'payment.captured'],
      ['webhook_delivered', 'we_all', 'checkout.succeeded'],
      ['webhook_delivered', 'we_results', 'checkout.succeeded'],
    ]);
    expect(checkouts.events.filter((e) => e.type === 'webhook_delivered')).toHaveLength(0);
  });

  it('reads the merchant (allowed_ports for an endpoint on another port) once for all the events of one run', async () => {
    // Prepare
    await checkouts.createCheckout(terminal({}));
    await endpoints.createEndpoint({
      id: 'we_port',
      merchantId: 'mer_1',
      url: 'https://merchant.example:8443/hooks',
      enabledEvents: ['*'],
      secretCiphertext: 'enc(whsec_we_port)',
      status: 'enabled',
      createdAt: '2026-01-02T00:00:00.000Z',
    });
    const merchantReads: string[] = [];
    const merchants = deps.merchants!;
    const counted = {
      ...deps,
      merchants: { getMerchant: (id: string) => (merchantReads.push(id), merchants.getMerchant(id)) },
    };
    // Act
    await notifyMerchant(counted, input);
    // Assess
    expect(sender.sent.filter((s) => s.url.includes(':8443')).map((s) => JSON.parse(s.message.body).type)).toEqual([
      'payment.captured',
      'checkout.succeeded',
    ]);
    expect(merchantReads).toEqual(['mer_1']);
  });

  it('stores every result event once, with its first attempts already recorded, and never enters the due index when they succeed', async () => {
    // Prepare
    await checkouts.createCheckout(terminal({}));
    // Act
    await notifyMerchant(deps, input);
    // Assess
    expect(events.createdBatches).toEqual([
      [resultEventId('chk_1', 'payment.captured'), resultEventId('chk_1', 'checkout.succeeded')],
    ]);
    const stored = await events.getEvent(resultEventId('chk_1', 'checkout.succeeded'));
    expect(stored!.event.timelineDerived).toBe(true);
    expect(stored!.deliveries.map((d) => [d.endpointId, d.status, d.attempt, d.attempts.length])).toEqual([
      ['we_all', 'delivered', 1, 1],
      ['we_results', 'delivered', 1, 1],
    ]);
    expect(await events.listDueDeliveries(new Date(Date.now() + 86_400_000), 10)).toEqual([]);
  });

  it('a crash after sending and before the attempts are stored keeps the watch, so the sweep re-run sends again with the same webhook-id', async () => {
    // Prepare
    const forgotten: string[] = [];
    const watched = { ...deps, outcomeWatch: { forgetCheckout: async (id: string) => void forgotten.push(id) } };
    await checkouts.createCheckout(terminal({}));
    events.failNextCreate = new Error('host killed before the write');
    // Act
    const crashed = await notifyMerchant(watched, input).catch((error: unknown) => error);
    const sentBefore = sender.sent.map((s) => [s.url, s.message.id]);
    const rerun = await notifyMerchant(watched, input);
    // Assess
    expect(crashed).toBeInstanceOf(Error);
    expect(sentBefore).toHaveLength(3);
    expect(sender.sent.slice(3).map((s) => [s.url, s.message.id])).toEqual(sentBefore);
    expect(rerun).toMatchObject({ delivered: 3, pending: 0 });
    expect(forgotten).toEqual(['chk_1']);
    expect(events.events.size).toBe(2);
  });

  it('uses the checkout the caller just wrote instead of reading it again', async () => {
    // Prepare: the repository does not have it, so a re-read would fail
    const loaded = terminal({});
    // Act
    const result = await notifyMerchant(deps, input, loaded);
    // Assess
    expect(result).toMatchObject({ delivered: 3, pending: 0 });
  });

  it('an endpoint that answers 410 to the first event is disabled and not sent the next one', async () => {
    // Prepare
    await checkouts.createCheckout(terminal({}));
    sender.answers = [{ ok: false, httpStatus: 410, latencyMs: 2, error: 'HTTP 410' }];
    // Act
    await notifyMerchant(deps, input);
    // Assess
    expect(sender.sent.map((s) => [s.url.split('/').pop(), JSON.parse(s.message.body).type])).toEqual([
      ['we_all', 'payment.captured'],
      ['we_results', 'checkout.succeeded'],
    ]);
    expect((await endpoints.getEndpoint('mer_1', 'we_all'))!.status).toBe('disabled');
    const result = (await events.getEvent(resultEventId('chk_1', 'checkout.succeeded')))!.deliveries;
    expect(result.find((d) => d.endpointId === 'we_all')).toMatchObject({ status: 'disabled' });
  });

  it('publishes payment.voided and checkout.failed with the failure_reason', async () => {
    // Prepare
    await checkouts.createCheckout(
      terminal({
        status: 'failed',
        failureReason: 'inventory_rejected',
        payment: aPayment({
          paymentToken: 't',
          connector: 'fake',
          pspReference: 'a',
          authorizedAmount: 10050,
          capturedAmount: 0,
          voided: true,
        }),
      }),
    );
    // Act
    await notifyMerchant(deps, input);
    // Assess
    const bodies = sender.sent.filter((s) => s.url.endsWith('we_results')).map((s) => JSON.parse(s.message.body));
    expect(bodies).toEqual([
      expect.objectContaining({
        type: 'checkout.failed',
        data: { object: { id: 'chk_1', status: 'failed', failure_reason: 'inventory_rejected' } },
      }),
    ]);
    expect(sender.sent.filter((s) => s.url.endsWith('we_all')).map((s) => JSON.parse(s.message.body).type)).toEqual([
      'payment.voided',
      'checkout.failed',
    ]);
  });

  it('does not fail the step when a delivery fails: the delivery stays pending for the dispatcher', async () => {
    // Prepare
    await checkouts.createCheckout(terminal({}));
    sender.answers = [true, false, true];
    // Act
    const result = await notifyMerchant(deps, input);
    // Assess
    expect(result).toMatchObject({ delivered: 2, pending: 1 });
    const failed = (await events.getEvent(resultEventId('chk_1', 'checkout.succeeded')))!.deliveries.find(
      (d) => d.endpointId === 'we_all',
    )!;
    expect(failed).toMatchObject({ status: 'pending', attempt: 1 });
    expect(Date.parse(failed.nextAttemptAt)).toBeGreaterThan(Date.now());
    const rows = await checkoutWebhookRows(events, (await checkouts.getCheckout('chk_1'))!);
    expect(rows.map((row) => row.type)).toContain('webhook_failed');
    expect(await events.listDueDeliveries(new Date(failed.nextAttemptAt), 10)).toEqual([
      { eventId: resultEventId('chk_1', 'checkout.succeeded'), endpointId: 'we_all' },
    ]);
  });

  it('re-run (a Step Functions retry) publishes nothing new and sends nothing twice', async () => {
    // Prepare
    await checkouts.createCheckout(terminal({}));
    await notifyMerchant(deps, input);
    // Act
    const again = await notifyMerchant(deps, input);
    // Assess
    expect(sender.sent).toHaveLength(3);
    expect(again).toMatchObject({ delivered: 3, pending: 0 });
    expect(events.events.size).toBe(2);
  });

  it('sends nothing while the checkout is not terminal', async () => {
    await checkouts.createCheckout(aCheckout({ status: 'processing' }));
    expect(await notifyMerchant(deps, input)).toEqual({ delivered: 0, skipped: 'status processing' });
    expect(sender.sent).toHaveLength(0);
  });

  it('sends payment.failed once per declined try that reopened the checkout, then the result after the last try', async () => {
    // Prepare: try 1 was declined and reopened the checkout (max_payment_attempts 3)
    const reopened = aCheckout({
      status: 'open',
      maxPaymentAttempts: 3,
      lastPaymentError: { code: 'card_declined', message: 'The payment was declined (card_declined). Try another card.' },
      payment: aPayment({ paymentToken: 'tok_1', connector: 'fake' }, { status: 'failed' }),
    });
    await checkouts.createCheckout(reopened);
    // Act
    const first = await notifyMerchant(deps, input);
    const again = await notifyMerchant(deps, input);
    // Assess
    const types = () => [...new Set(sender.sent.map((s) => JSON.parse(s.message.body).type as string))];
    expect(first.eventIds).toHaveLength(1);
    expect(again.eventIds).toEqual(first.eventIds);
    expect(types()).toEqual(['payment.failed']);
    const body = JSON.parse(sender.sent[0]!.message.body);
    expect(body.data.object).toMatchObject({ id: 'chk_1', status: 'open' });
  });

  it('sends no payment.failed for a single-try checkout that failed (Part 1)', async () => {
    // Prepare
    await checkouts.createCheckout(
      aCheckout({
        status: 'failed',
        failureReason: 'payment_declined',
        payment: aPayment({ paymentToken: 'tok_1' }, { status: 'failed' }),
      }),
    );
    // Act
    await notifyMerchant(deps, input);
    // Assess
    expect(sender.sent.map((s) => JSON.parse(s.message.body).type)).not.toContain('payment.failed');
  });

  it('derives the event types from the payment state', () => {
    expect(checkoutEventTypes(terminal({}))).toEqual(['payment.captured', 'checkout.succeeded']);
    expect(checkoutEventTypes(aCheckout({ status: 'failed' }))).toEqual(['checkout.failed']);
  });

  it('uses the reads a caller started early (startNotifyReads) for the same events and merchant, reading nothing itself', async () => {
    // Prepare
    const checkout = terminal({});
    await checkouts.createCheckout(checkout);
    const early = startNotifyReads(deps, checkout);
    let reads = 0;
    const counted = {
      ...deps,
      events: Object.assign(Object.create(events) as FakeEventStore, {
        getEvents: (...args: Parameters<FakeEventStore['getEvents']>) => ((reads += 1), events.getEvents(...args)),
      }),
      webhookEndpoints: Object.assign(Object.create(endpoints) as FakeWebhookEndpoints, {
        listEndpoints: (...args: Parameters<FakeWebhookEndpoints['listEndpoints']>) => (
          (reads += 1),
          endpoints.listEndpoints(...args)
        ),
      }),
    };
    // Act
    const result = await notifyMerchant(counted, input, checkout, undefined, early);
    // Assess
    expect(reads).toBe(0);
    expect(result.delivered).toBe(3);
  });

  it("after the caller's own terminal write (ownTerminalWrite), does not read the terminal result events, then sends and stores both", async () => {
    // Prepare
    const checkout = terminal({});
    await checkouts.createCheckout(checkout);
    const read: string[][] = [];
    const counted = {
      ...deps,
      events: Object.assign(Object.create(events) as FakeEventStore, {
        getEvents: (...args: Parameters<FakeEventStore['getEvents']>) => (read.push([...args[0]]), events.getEvents(...args)),
      }),
    };
    // Act
    const early = startNotifyReads(counted, checkout, { ownTerminalWrite: true });
    const result = await notifyMerchant(counted, input, checkout, undefined, early);
    // Assess
    expect(read).toEqual([]);
    expect(early.eventIds).toEqual([resultEventId('chk_1', 'payment.captured'), resultEventId('chk_1', 'checkout.succeeded')]);
    expect(result).toMatchObject({ delivered: 3, pending: 0, eventIds: early.eventIds });
    expect(events.events.size).toBe(2);
  });

  it("after the caller's own terminal write, still reads the payment.failed an earlier try stored, and does not send it again", async () => {
    // Prepare: try 1 was declined and reopened the checkout; its payment.failed is stored.
    const reopened = aCheckout({
      status: 'open',
      maxPaymentAttempts: 3,
      payment: aPayment({ paymentToken: 'tok_1', connector: 'fake' }, { status: 'failed' }),
    });
    await checkouts.createCheckout(reopened);
    const [failedId] = (await notifyMerchant(deps, input, reopened)).eventIds!;
    const sentBefore = sender.sent.length;
    // try 2 succeeds: the caller's terminal write makes the checkout as below.
    const succeeded = terminal({ maxPaymentAttempts: 3 });
    succeeded.payment = {
      ...succeeded.payment!,
      attempts: [...reopened.payment!.attempts, ...succeeded.payment!.attempts],
      tries: 2,
    };
    const read: string[][] = [];
    const counted = {
      ...deps,
      events: Object.assign(Object.create(events) as FakeEventStore, {
        getEvents: (...args: Parameters<FakeEventStore['getEvents']>) => (read.push([...args[0]]), events.getEvents(...args)),
      }),
    };
    // Act
    const early = startNotifyReads(counted, succeeded, { ownTerminalWrite: true });
    const result = await notifyMerchant(counted, input, succeeded, undefined, early);
    // Assess: only try 1's event is read; it is found, so only the two result events are sent.
    expect(read).toEqual([[failedId]]);
    expect(result.eventIds).toEqual([
      failedId,
      resultEventId('chk_1', 'payment.captured'),
      resultEventId('chk_1', 'checkout.succeeded'),
    ]);
    const sentTypes = sender.sent.slice(sentBefore).map((s) => JSON.parse(s.message.body).type as string);
    expect(sentTypes).not.toContain('payment.failed');
    expect(new Set(sentTypes)).toEqual(new Set(['payment.captured', 'checkout.succeeded']));
  });

  it('reads again when the early reads were for other events (the checkout written differs from the one predicted)', async () => {
    // Prepare: the succeeded checkout's events are stored; reads started for a checkout that was to fail.
    const checkout = terminal({});
    await checkouts.createCheckout(checkout);
    await notifyMerchant(deps, input);
    const sentBefore = sender.sent.length;
    const early = startNotifyReads(deps, { ...checkout, status: 'failed' });
    // Act
    const result = await notifyMerchant(deps, input, checkout, undefined, early);
    // Assess: the stored events are found (nothing sent again), not the failed checkout's missing ones.
    expect(early.eventIds).not.toEqual(result.eventIds);
    expect(sender.sent).toHaveLength(sentBefore);
    expect(result.delivered).toBe(3);
  });
});
