/**
 * The one-write path of the idempotency protocol (executeWithInlineRecord) over an in-memory
 * store that behaves like the DynamoDB one: the completed record lands only if the key is free.
 */
import { describe, expect, it } from 'vitest';
import { IdempotencyKeyTakenError, StoreUnavailableError } from '../../../lambdas/errors';
import type {
  CompletedRecord,
  IdempotencyBegin,
  InlineIdempotency,
  StoredResponse,
  TransactionCompanion,
} from '../../../lambdas/ports/idempotency';
import {
  executeWithInlineRecord,
  executeWithResourceRecord,
  type IdempotentExecution,
  type InlineRecording,
} from '../../../lambdas/shared/idempotency';
import { compactBody, DICTIONARY_V1, expandBody } from '../../../lambdas/shared/stored-body';
import { createHash } from 'node:crypto';
import { markerCipher } from './fakes';

type Held =
  { kind: 'completed'; binding: string; response: StoredResponse } | { kind: 'claim'; binding: string; lockedUntil: number };

/** In-memory InlineIdempotency: `commit` plays the carrier's transaction. */
class MemoryInlineStore implements InlineIdempotency {
  readonly records = new Map<string, Held>();
  /** Number of writes that landed (companions committed plus records stored alone). */
  writes = 0;

  companion(record: CompletedRecord): TransactionCompanion {
    return { write: record, conditionFailed: () => new IdempotencyKeyTakenError() };
  }

  /** The carrier's transaction: lands the companion if the key is free, else throws its error. */
  commit(companion: TransactionCompanion): void {
    const record = companion.write as CompletedRecord;
    if (!this.free(record)) throw companion.conditionFailed();
    this.land(record);
  }

  async record(record: CompletedRecord): Promise<boolean> {
    if (!this.free(record)) return false;
    this.land(record);
    return true;
  }

  async inspect(
    scope: string,
    key: string,
    _now: Date,
    binding: string,
  ): Promise<Exclude<IdempotencyBegin, { kind: 'started' }> | undefined> {
    const held = this.records.get(`${scope}#${key}`);
    if (held === undefined) return undefined;
    if (held.binding !== binding) return { kind: 'mismatch' };
    return held.kind === 'completed'
      ? { kind: 'replay', response: held.response }
      : { kind: 'in_flight', lockedUntil: held.lockedUntil };
  }

  private free(record: CompletedRecord): boolean {
    return !this.records.has(`${record.scope}#${record.key}`);
  }

  private land(record: CompletedRecord): void {
    this.writes += 1;
    this.records.set(`${record.scope}#${record.key}`, { kind: 'completed', binding: record.binding, response: record.response });
  }
}

const BINDING = 'POST /v1/checkouts';
const response = (statusCode: number, body: unknown): StoredResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Work that writes with the record carried, like the create route. */
function writingWork(store: MemoryInlineStore, answer: StoredResponse) {
  return async (recording: InlineRecording): Promise<IdempotentExecution> => {
    const companion = await recording.recordWith(answer);
    store.commit(companion);
    return { response: answer, storable: true, carried: true };
  };
}

function run(
  store: MemoryInlineStore,
  key: string,
  work: (recording: InlineRecording) => Promise<IdempotentExecution>,
  binding = BINDING,
) {
  return executeWithInlineRecord(
    {
      store: { begin: async () => ({ kind: 'started' }), complete: async () => {}, release: async () => {} },
      cipher: markerCipher,
    },
    store,
    'merchant:m1',
    key,
    binding,
    work,
  );
}

describe('executeWithInlineRecord', () => {
  it('answers a fresh request from its own write, which stored the record with the answer in one write', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    const answer = response(201, { id: 'chk_1' });
    // Act
    const result = await run(store, 'k1', writingWork(store, answer));
    // Assess
    expect(result).toEqual(answer);
    expect(store.writes).toBe(1);
    const held = store.records.get('merchant:m1#k1');
    expect(held?.kind === 'completed' && held.response.body.startsWith('enc(')).toBe(true);
    expect(held?.kind === 'completed' && held.response.bodyEncoding).toBe('deflate-v1');
  });

  it('replays the first answer byte for byte to a duplicate whose write found the key taken, even with another body', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    const first = response(201, { id: 'chk_1', amount: 100 });
    await run(store, 'k2', writingWork(store, first));
    // Act
    const second = await run(store, 'k2', writingWork(store, response(201, { id: 'chk_2', amount: 1 })));
    // Assess
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(store.writes).toBe(1);
  });

  it('of concurrent duplicates lands exactly one write and replays it to the others', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) => run(store, 'k3', writingWork(store, response(201, { id: `chk_${index}` })))),
    );
    // Assess
    expect(store.writes).toBe(1);
    expect(new Set(results.map((result) => result.body)).size).toBe(1);
    expect(results.filter((result) => result.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
  });

  it('stores a 4xx that wrote nothing on its own and replays it', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    const invalid = response(422, { error: { code: 'parameter_invalid', message: 'amount', param: 'amount' } });
    // Act
    const first = await run(store, 'k4', async () => ({ response: invalid, storable: true }));
    const again = await run(store, 'k4', writingWork(store, response(201, { id: 'chk_1' })));
    // Assess
    expect(first).toEqual(invalid);
    expect(again.statusCode).toBe(422);
    expect(again.body).toBe(invalid.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(store.writes).toBe(1);
  });

  it('never stores a 5xx, so the retry runs again', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    const failure = response(503, { error: { code: 'service_unavailable', message: 'retry' } });
    // Act
    const first = await run(store, 'k5', async () => ({ response: failure, storable: false }));
    const retry = await run(store, 'k5', writingWork(store, response(201, { id: 'chk_1' })));
    // Assess
    expect(first).toEqual(failure);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 409 idempotency_key_in_use while a claim of the generic path holds the key', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    store.records.set('merchant:m1#k6', { kind: 'claim', binding: BINDING, lockedUntil: Date.now() + 30_000 });
    // Act
    const attempt = run(store, 'k6', writingWork(store, response(201, { id: 'chk_1' })));
    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'idempotency_key_in_use', status: 409 });
    await expect(attempt).rejects.toThrow(/take over in \d+ s/);
  });

  it('answers 422 idempotency_key_reused for a key first used on another route', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    await run(
      store,
      'k7',
      writingWork(store, response(200, { id: 'chk_1', status: 'canceled' })),
      'POST /v1/checkouts/{id}/cancel id=chk_1',
    );
    // Act
    const attempt = run(store, 'k7', writingWork(store, response(201, { id: 'chk_2' })));
    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'idempotency_key_reused', status: 422 });
  });

  it('still returns the answer when storing a 4xx alone fails', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    store.record = async () => {
      throw new StoreUnavailableError('down');
    };
    const invalid = response(422, { error: { code: 'parameter_invalid', message: 'amount' } });
    const errors: unknown[] = [];
    // Act
    const result = await executeWithInlineRecord(
      {
        store: { begin: async () => ({ kind: 'started' }), complete: async () => {}, release: async () => {} },
        onStoreError: (error) => errors.push(error),
      },
      store,
      'merchant:m1',
      'k8',
      BINDING,
      async () => ({ response: invalid, storable: true }),
    );
    // Assess
    expect(result).toEqual(invalid);
    expect(errors).toHaveLength(1);
  });
});

const PAY_BINDING = 'POST /v1/checkouts/{id}/pay id=chk_1';

/** The pay route's way: the resource's own write records the key; nothing is stored here for it. */
function runOnResource(store: MemoryInlineStore, key: string, work: () => Promise<IdempotentExecution>, binding = PAY_BINDING) {
  return executeWithResourceRecord(
    {
      store: { begin: async () => ({ kind: 'started' }), complete: async () => {}, release: async () => {} },
      cipher: markerCipher,
    },
    store,
    'checkout:chk_1',
    key,
    binding,
    work,
  );
}

describe('executeWithResourceRecord', () => {
  it("stores nothing for an answer the resource's write recorded, nor for one it answered again", async () => {
    // Prepare
    const store = new MemoryInlineStore();
    const accepted = response(202, { id: 'chk_1', status: 'processing' });
    // Act
    const first = await runOnResource(store, 'p1', async () => ({ response: accepted, storable: true, carried: true }));
    const again = await runOnResource(store, 'p1', async () => ({
      response: { ...accepted, headers: { ...accepted.headers, 'idempotent-replayed': 'true' } },
      storable: true,
      carried: true,
    }));
    // Assess
    expect(first).toEqual(accepted);
    expect(again.body).toBe(accepted.body);
    expect(store.writes).toBe(0);
  });

  it('stores a 4xx that wrote nothing and replays it without running the work again', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    const refused = response(409, { error: { code: 'checkout_not_payable', message: 'expired' } });
    let runs = 0;
    const work = async (): Promise<IdempotentExecution> => {
      runs += 1;
      return runs === 1 ? { response: refused, storable: true } : { response: response(202, {}), storable: true, carried: true };
    };
    // Act
    await runOnResource(store, 'p2', work);
    const again = await runOnResource(store, 'p2', work);
    // Assess
    expect(runs).toBe(1);
    expect(store.writes).toBe(1);
    expect(again.statusCode).toBe(409);
    expect(again.body).toBe(refused.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('answers 422 for a key recorded on another route or checkout, and 409 while a claim holds it, before any work', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    await run(store, 'p3', writingWork(store, response(201, { id: 'chk_9' })));
    store.records.set('checkout:chk_1#p3', { kind: 'completed', binding: BINDING, response: response(201, {}) });
    store.records.set('checkout:chk_1#p4', { kind: 'claim', binding: PAY_BINDING, lockedUntil: Date.now() + 30_000 });
    let runs = 0;
    const work = async (): Promise<IdempotentExecution> => {
      runs += 1;
      return { response: response(202, {}), storable: true, carried: true };
    };
    // Act
    const reused = runOnResource(store, 'p3', work);
    const held = runOnResource(store, 'p4', work);
    // Assess
    await expect(reused).rejects.toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    await expect(held).rejects.toMatchObject({ code: 'idempotency_key_in_use', status: 409 });
    expect(runs).toBe(0);
  });

  it('never stores a 5xx', async () => {
    // Prepare
    const store = new MemoryInlineStore();
    // Act
    await runOnResource(store, 'p5', async () => ({ response: response(503, {}), storable: false }));
    // Assess
    expect(store.writes).toBe(0);
  });
});

describe('stored-body compaction', () => {
  it('gives back the body byte for byte, in far fewer bytes for a checkout answer', () => {
    // Prepare
    const body = JSON.stringify({
      id: 'chk_aVtwsAYJQoT8RGyjYcew5Q',
      object: 'checkout',
      merchant_order_ref: 'order_a8b4cf2bb4b4',
      status: 'open',
      amount: 10050,
      currency: 'USD',
      items: [{ sku: 'SKU-1', name: 'Mug ☕', quantity: 2, unit_amount: 5025 }],
      client_secret: 'cs_Yq0n3v6kqzJ6c7c1c8b2x0WmR4cF6yH7uJ9kL2mN3pQ',
      created_at: '2026-12-01T03:09:51.872Z',
    });
    // Act
    const packed = compactBody(body);
    // Assess
    expect(packed.encoding).toBe('deflate-v1');
    expect(packed.body.length).toBeLessThan(body.length / 1.5);
    expect(expandBody(packed.body, packed.encoding)).toBe(body);
  });

  it('keeps dictionary v1 unchanged, since stored records are inflated with it for 24 h', () => {
    // Act
    const hash = createHash('sha256').update(DICTIONARY_V1).digest('hex');
    // Assess: if this fails, restore DICTIONARY_V1 and add a v2 instead.
    expect(hash).toBe('f9a58173b5161ce9b494dff13170ba59973ca45705f943440e6bf0eda7afc83a');
  });
});
