import { aPayment } from '../../support/payments';
import { describe, expect, it } from 'vitest';
import { sandboxCallbackReader, signPspCallback } from '../../../lambdas/connectors/sandbox/callbacks';
import { AuthenticationError } from '../../../lambdas/errors';
import { receivePspCallback, type PspCallbackDependencies } from '../../../lambdas/use-cases/psp-callbacks';
import { newAuthorizedInstrument } from '../../../lambdas/domain/instrument-ledger';
import type { EventPublisher } from '../../../lambdas/ports/events';
import { aCheckout, FakeCheckouts, FakeInstruments, FakePspCallbackStore, FakeResumer } from '../fakes';

const SECRET = 'pspcb_unit';
const NOW = new Date('2026-03-01T10:00:00Z');

function setup(recorded = true) {
  const callbacks = new FakePspCallbackStore();
  const resumer = new FakeResumer();
  const checkouts = new FakeCheckouts();
  const instruments = new FakeInstruments();
  const events = new RecordingPublisher();
  const deps: PspCallbackDependencies = {
    callbacks,
    resumer,
    checkouts,
    instruments,
    events,
    callbackReaders: { sandbox: sandboxCallbackReader([SECRET]) },
    now: () => NOW,
  };
  // The saga recorded authorization auth_1 for chk_cb (as AuthorizePayment does for a pending answer).
  if (recorded)
    callbacks.records.set('sandbox#chk_cb', {
      connector: 'sandbox',
      reference: 'chk_cb',
      authorizationId: 'auth_1',
      state: 'pending',
      amount: 2500,
      currency: 'USD',
      updatedAt: NOW.toISOString(),
    });
  return { deps, callbacks, resumer, checkouts, instruments, events };
}

class RecordingPublisher implements EventPublisher {
  readonly published: unknown[] = [];
  async publishEvent(event: Parameters<EventPublisher['publishEvent']>[0]) {
    this.published.push(event);
    return { eventId: `evt_${this.published.length}`, created: true, deliveries: 0 };
  }
}

function signed(callback: Record<string, unknown>) {
  const rawBody = JSON.stringify(callback);
  return {
    connector: 'sandbox',
    rawBody,
    headers: { 'psp-signature': signPspCallback(SECRET, Math.floor(NOW.getTime() / 1000), rawBody) },
  };
}

function aCallback(
  id: string,
  type: string,
  reference = 'chk_cb',
  authorizationId = 'auth_1',
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    type,
    created: NOW.toISOString(),
    data: { authorization_id: authorizationId, reference, amount: 2500, currency: 'USD', status: 'x', ...extra },
  };
}

describe('receivePspCallback', () => {
  it('resumes the saga waiting on the authorization when its final result arrives, once', async () => {
    // Prepare: the saga parked its token
    const { deps, callbacks, resumer } = setup();
    await callbacks.registerTaskToken('sandbox', 'chk_cb', 'token-1', { amount: 2500, currency: 'USD' }, NOW);
    // Act
    const first = await receivePspCallback(deps, signed(aCallback('pevt_1', 'authorization.succeeded')));
    const repeat = await receivePspCallback(deps, signed(aCallback('pevt_1', 'authorization.succeeded')));
    // Assess
    expect(first).toMatchObject({ result: 'applied', state: 'authorized' });
    expect(repeat).toMatchObject({ result: 'duplicate', state: 'authorized' });
    expect(resumer.calls).toEqual([
      { kind: 'succeed', token: 'token-1', output: { state: 'authorized', callback_id: 'pevt_1' } },
    ]);
    expect((await callbacks.getAuthorizationRecord('sandbox', 'chk_cb'))?.taskToken).toBeUndefined();
  });

  it('applies reversed callbacks as no-ops: pending after authorized, authorized after voided', async () => {
    // Prepare
    const { deps, callbacks } = setup();
    await receivePspCallback(deps, signed(aCallback('pevt_a', 'authorization.succeeded')));
    // Act
    const latePending = await receivePspCallback(deps, signed(aCallback('pevt_p', 'authorization.pending')));
    await receivePspCallback(deps, signed(aCallback('pevt_v', 'void.succeeded')));
    const lateAuthorized = await receivePspCallback(deps, signed(aCallback('pevt_a2', 'authorization.succeeded')));
    // Assess
    expect(latePending).toMatchObject({ result: 'stale', state: 'authorized' });
    expect(lateAuthorized).toMatchObject({ result: 'stale', state: 'voided' });
    expect((await callbacks.getAuthorizationRecord('sandbox', 'chk_cb'))?.state).toBe('voided');
  });

  it('redoes the effects of a callback whose first processing failed before its receipt was written', async () => {
    // Prepare: the state was advanced by pevt_1, then the handler died (no receipt, token still parked)
    const { deps, callbacks, resumer } = setup();
    await callbacks.registerTaskToken('sandbox', 'chk_cb', 'token-2', { amount: 2500, currency: 'USD' }, NOW);
    await callbacks.advanceAuthorization(
      { connector: 'sandbox', reference: 'chk_cb', state: 'authorized', amount: 2500, currency: 'USD', lastCallbackId: 'pevt_1' },
      NOW,
    );
    // Act: the PSP redelivers
    const redelivered = await receivePspCallback(deps, signed(aCallback('pevt_1', 'authorization.succeeded')));
    // Assess
    expect(redelivered.result).toBe('applied');
    expect(resumer.calls.map((call) => call.token)).toEqual(['token-2']);
  });

  it('writes a psp_callback row on the checkout timeline, once per callback id', async () => {
    // Prepare
    const { deps, checkouts } = setup(false);
    await checkouts.createCheckout(
      aCheckout({
        id: 'chk_cb',
        status: 'processing',
        payment: aPayment(
          {
            paymentToken: 'tok_1',
            connector: 'sandbox',
            pendingPspReference: 'auth_1',
            authorizedAmount: 0,
            capturedAmount: 0,
            voided: false,
          },
          { id: 'chk_cb' },
        ),
      }),
    );
    // Act
    await receivePspCallback(deps, signed(aCallback('pevt_t', 'authorization.pending')));
    // Assess
    const rows = (await checkouts.listEvents('chk_cb')).filter((event) => event.type === 'psp_callback');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.data).toMatchObject({ callback_id: 'pevt_t', callback_type: 'authorization.pending', applied: true });
  });

  it('refuses a bad signature before reading the body', async () => {
    // Prepare
    const { deps, callbacks } = setup();
    const input = {
      ...signed(aCallback('pevt_x', 'authorization.succeeded')),
      headers: { 'psp-signature': signPspCallback('wrong', Math.floor(NOW.getTime() / 1000), '{}') },
    };
    // Act / Assess
    await expect(receivePspCallback(deps, input)).rejects.toBeInstanceOf(AuthenticationError);
    expect(callbacks.receipts.size).toBe(0);
    expect(await callbacks.getAuthorizationRecord('sandbox', 'chk_cb')).toMatchObject({ state: 'pending' });
  });
});

describe('receivePspCallback: callbacks about another authorization (hardening rule)', () => {
  async function victim(setupResult: ReturnType<typeof setup>) {
    const { checkouts, instruments, callbacks } = setupResult;
    callbacks.records.delete('sandbox#chk_cb');
    const instrument = newAuthorizedInstrument({
      id: 'fi_victim',
      merchantId: 'mer_1',
      type: 'captured',
      status: 'active',
      amount: 5000,
      currency: 'USD',
      connector: 'sandbox',
      pspReference: 'auth_victim',
      pspPaymentReference: 'chk_cb',
      checkoutId: 'chk_cb',
      now: NOW,
    });
    await instruments.createInstrument({ ...instrument, capturableAmount: 0, refundableAmount: 5000 });
    await checkouts.createCheckout(
      aCheckout({
        id: 'chk_cb',
        status: 'succeeded',
        amount: 5000,
        payment: aPayment(
          {
            paymentToken: 'tok_1',
            connector: 'sandbox',
            pspReference: 'auth_victim',
            authorizedAmount: 5000,
            capturedAmount: 5000,
            voided: false,
            instrumentId: 'fi_victim',
          },
          { id: 'chk_cb', amount: 5000, status: 'succeeded' },
        ),
      }),
    );
  }

  it('records a dispute about another authorization filed under the checkout id as unmatched: no balance change, no event', async () => {
    // Prepare: the attacker's own authorization auth_attacker, filed at the PSP under the victim's checkout id
    const context = setup();
    await victim(context);
    // Act
    const result = await receivePspCallback(
      context.deps,
      signed(aCallback('pevt_d1', 'dispute.created', 'chk_cb', 'auth_attacker', { amount: 4000, dispute_id: 'dp_1' })),
    );
    // Assess
    expect(result.result).toBe('unmatched');
    expect((await context.instruments.getInstrument('fi_victim'))?.refundableAmount).toBe(5000);
    expect(context.events.published).toEqual([]);
    expect(context.callbacks.receipts.get('sandbox#pevt_d1')).toMatchObject({
      unmatched: true,
      authorizationId: 'auth_attacker',
    });
    expect(await context.callbacks.getAuthorizationRecord('sandbox', 'chk_cb')).toBeUndefined();
  });

  it("still applies a dispute about the checkout's own authorization", async () => {
    // Prepare
    const context = setup();
    await victim(context);
    // Act
    const result = await receivePspCallback(
      context.deps,
      signed(aCallback('pevt_d2', 'dispute.created', 'chk_cb', 'auth_victim', { amount: 4000, dispute_id: 'dp_2' })),
    );
    // Assess
    expect(result.result).toBe('applied');
    expect((await context.instruments.getInstrument('fi_victim'))?.refundableAmount).toBe(1000);
    expect(context.events.published).toHaveLength(1);
  });

  it('never resumes the waiting saga for an authorization.* callback about another authorization id', async () => {
    // Prepare: the saga waits on auth_1 for chk_cb
    const { deps, callbacks, resumer } = setup();
    await callbacks.registerTaskToken(
      'sandbox',
      'chk_cb',
      'token-9',
      { amount: 2500, currency: 'USD', authorizationId: 'auth_1' },
      NOW,
    );
    // Act
    const result = await receivePspCallback(deps, signed(aCallback('pevt_o', 'authorization.succeeded', 'chk_cb', 'auth_other')));
    // Assess
    expect(result.result).toBe('unmatched');
    expect(resumer.calls).toEqual([]);
    expect(await callbacks.getAuthorizationRecord('sandbox', 'chk_cb')).toMatchObject({ state: 'pending', taskToken: 'token-9' });
  });
});
