/** Shared setup of the reconciliation sweep's unit tests: an in-memory watch list and the sweep's ports. */
import { DEFAULT_RETRY_SCHEDULE } from '../../../lambdas/domain/webhook-schedule';
import type { ProcessingWatch, RecoveryStore } from '../../../lambdas/ports/recovery';
import type { ReconciliationDependencies } from '../../../lambdas/use-cases/reconciliation';
import {
  aMerchant,
  FakeAuthorizationHolds,
  FakeCheckouts,
  fakeCipher,
  FakeConfirmer,
  FakeEventStore,
  FakeGateway,
  FakeInstruments,
  FakeMerchants,
  FakePspCallbackStore,
  FakeResumer,
  FakeWebhookEndpoints,
  FakeWebhookSender,
  oneConnector,
} from '../fakes';

/** The recovery watch list in memory (with the leases it lists); every claim succeeds and is recorded. */
export class FakeRecovery implements RecoveryStore {
  readonly watches = new Map<string, string>();
  readonly listedLeases = new Map<string, { leaseUntil: string; leaseOwner: string }>();
  readonly claims: string[] = [];
  async listProcessing(limit: number): Promise<ProcessingWatch[]> {
    return [...this.watches]
      .slice(0, limit)
      .map(([checkoutId, since]) => ({ checkoutId, since, ...this.listedLeases.get(checkoutId) }) as ProcessingWatch);
  }
  async claimCheckout(checkoutId: string): Promise<boolean> {
    this.claims.push(checkoutId);
    return true;
  }
  async releaseCheckout(): Promise<void> {}
  async forgetCheckout(checkoutId: string): Promise<void> {
    this.watches.delete(checkoutId);
  }
}

export const SWEEP_NOW = new Date('2026-03-01T12:10:00.000Z');

/** A sweep's ports over fakes, with merchant mer_1; no saga is running and anything past 60 s is stuck. */
export async function sweepDependencies(parts: {
  checkouts: FakeCheckouts;
  gateway: FakeGateway;
  recovery: FakeRecovery;
}): Promise<ReconciliationDependencies> {
  const merchants = new FakeMerchants();
  await merchants.createMerchant(aMerchant());
  const instruments = new FakeInstruments();
  return {
    checkouts: parts.checkouts,
    merchants,
    ...oneConnector(parts.gateway),
    confirmer: new FakeConfirmer(),
    cipher: fakeCipher,
    webhookEndpoints: new FakeWebhookEndpoints(),
    webhookSender: new FakeWebhookSender(),
    renderCheckout: (c) => ({ id: c.id, status: c.status }),
    instruments,
    authorizationHolds: new FakeAuthorizationHolds(instruments),
    events: new FakeEventStore(),
    schedule: DEFAULT_RETRY_SCHEDULE,
    random: () => 0.5,
    recovery: parts.recovery,
    callbacks: new FakePspCallbackStore(),
    resumer: new FakeResumer(),
    executions: { isRunning: async () => false },
    executionArnFor: (id) => `arn:aws:states:us-east-1:0:execution:paystep-checkout:${id}`,
    stuckAfterMs: 60_000,
    leaseMs: 60_000,
    owner: 'test',
    now: () => SWEEP_NOW,
  };
}
