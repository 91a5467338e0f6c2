/** In-memory fakes of the ports for unit tests of the HTTP layer (never used outside test/unit). */
import type { IdempotencyBegin, IdempotencyStore, StoredResponse } from '../../../lambdas/ports/idempotency';
import type { SecretCipher } from '../../../lambdas/ports/secrets';

export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<string, { state: 'in_progress' | 'completed'; response?: StoredResponse }>();

  async begin(scope: string, key: string): Promise<IdempotencyBegin> {
    const record = this.records.get(`${scope}#${key}`);
    if (record === undefined) {
      this.records.set(`${scope}#${key}`, { state: 'in_progress' });
      return { kind: 'started' };
    }
    if (record.state === 'completed' && record.response !== undefined) return { kind: 'replay', response: record.response };
    return { kind: 'in_flight' };
  }

  async complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    this.records.set(`${scope}#${key}`, { state: 'completed', response });
  }

  async release(scope: string, key: string): Promise<void> {
    this.records.delete(`${scope}#${key}`);
  }
}

/** Reversible, visibly "encrypted" cipher so tests can see what was stored. */
export const markerCipher: SecretCipher = {
  encrypt: async (plaintext) => `enc(${plaintext})`,
  decrypt: async (ciphertext) => ciphertext.replace(/^enc\(/, '').replace(/\)$/, ''),
};
