/**
 * The authorization-hold store for the saga steps (saga-wiring.ts), its adapter imported on first
 * use as a chunk of its own (lib/bundling.ts), not at the cold start: CapturePayment writes a hold
 * only for a manual-capture checkout (holdForManualCapture), and the other steps that take every
 * port (the sweep's re-driven steps) only for such a checkout too. Same instance as hold-wiring.ts.
 */
import type { AuthorizationHoldStore } from '../ports/authorization-holds';
import { importOnce } from './import-once';

/** The store, imported once; a failed import is retried on the next call. */
const load = importOnce(async (): Promise<AuthorizationHoldStore> => (await import('./hold-wiring')).authorizationHoldStore);

export const authorizationHolds: AuthorizationHoldStore = {
  holdAuthorization: async (hold, now) => (await load()).holdAuthorization(hold, now),
  getHold: async (instrumentId) => (await load()).getHold(instrumentId),
  listDueHolds: async (now, limit) => (await load()).listDueHolds(now, limit),
  advanceHold: async (instrumentId, from, to, now, outcome) => (await load()).advanceHold(instrumentId, from, to, now, outcome),
  claimHold: async (instrumentId, owner, now, leaseUntil) => (await load()).claimHold(instrumentId, owner, now, leaseUntil),
};
