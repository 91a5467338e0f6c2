import { describe, expect, it } from 'vitest';
import { signPspCallback } from '../../../lambdas/domain/psp-outcome';
import { AuthenticationError } from '../../../lambdas/errors';
import { receivePspCallback, type PspCallbackDependencies } from '../../../lambdas/use-cases/psp-callbacks';
import { aCheckout, FakeCheckouts, FakePspCallbackStore, FakeResumer } from '../fakes';

const SECRET = 'pspcb_unit';
const NOW = new Date('2026-03-01T10:00:00Z');

function setup() {
  const callbacks = new FakePspCallbackStore();
  const resumer = new FakeResumer();
  const checkouts = new FakeCheckouts();
  const deps: PspCallbackDependencies = { callbacks, resumer, checkouts, secrets: { sandbox: [SECRET] }, now: () => NOW };
  return { deps, callbacks, resumer, checkouts };
}

function signed(callback: Record<string, unknown>) {
  const rawBody = JSON.stringify(callback);
  return { connector: 'sandbox', rawBody, headers: { 'psp-signature': signPspCallback(SECRET, Math.floor(NOW.getTime() / 1000), rawBody) } };
}

function aCallback(id: string, type: string, reference = 'chk_cb') {
  return { id, type, created: NOW.toISOString(), data: { authorization_id: 'auth_1', reference, amount: 2500, currency: 'USD', status: 'x' } };
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
    expect(resumer.calls).toEqual([{ kind: 'succeed', token: 'token-1', output: { state: 'authorized', callback_id: 'pevt_1' } }]);
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
    await callbacks.advanceAuthorization({ connector: 'sandbox', reference: 'chk_cb', state: 'authorized', amount: 2500, currency: 'USD', lastCallbackId: 'pevt_1' }, NOW);
    // Act: the PSP redelivers
    const redelivered = await receivePspCallback(deps, signed(aCallback('pevt_1', 'authorization.succeeded')));
    // Assess
    expect(redelivered.result).toBe('applied');
    expect(resumer.calls.map((call) => call.token)).toEqual(['token-2']);
  });

  it('writes a psp_callback row on the checkout timeline, once per callback id', async () => {
    // Prepare
    const { deps, checkouts } = setup();
    await checkouts.createCheckout(aCheckout({ id: 'chk_cb', status: 'processing' }));
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
    const input = { ...signed(aCallback('pevt_x', 'authorization.succeeded')), headers: { 'psp-signature': signPspCallback('wrong', Math.floor(NOW.getTime() / 1000), '{}') } };
    // Act / Assess
    await expect(receivePspCallback(deps, input)).rejects.toBeInstanceOf(AuthenticationError);
    expect(callbacks.records.size).toBe(0);
  });
});
