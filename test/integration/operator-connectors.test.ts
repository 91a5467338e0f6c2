/**
 * The operator view on DynamoDB Local: the checkout repository counts attempts (at their first
 * answer), authorizations, failures and failovers right after the conditional write that records
 * them (a lost condition counts nothing), and GET /v1/operator/connectors (admin only) answers the last hour from those counters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoConnectorStats } from '../../lambdas/adapters/dynamo-connector-stats';
import { DynamoCheckoutRepository } from '../../lambdas/adapters/dynamo-checkout-repository';
import { createDocumentClient } from '../../lambdas/adapters/dynamo-client';
import type { Checkout } from '../../lambdas/domain/model';
import { newAttempt, type PaymentAttempt } from '../../lambdas/domain/payment-attempt';
import { ConcurrentModificationError } from '../../lambdas/errors';
import { aCheckout } from '../unit/fakes';
import { apiEvent, startApiTestEnv, type ApiTestEnv, type Handler } from './api-test-kit';

let env: ApiTestEnv;
let repository: DynamoCheckoutRepository;
let stats: DynamoConnectorStats;
let operatorHandler: Handler;
let sequence = 0;

beforeAll(async () => {
  env = await startApiTestEnv();
  const client = createDocumentClient({ endpoint: env.db.endpoint });
  repository = new DynamoCheckoutRepository(client, env.db.tableName);
  stats = new DynamoConnectorStats(client, env.db.tableName);
  operatorHandler = (await import('../../lambdas/api-operator/handler')).handler as Handler;
});

afterAll(async () => {
  await env?.stop();
});

function attempt(id: string, connector: string): PaymentAttempt {
  return newAttempt({ id, connector, amount: 2500, currency: 'USD', at: new Date().toISOString() });
}

/** A stored checkout moved to processing with its first attempt at `connector`. */
async function processingCheckout(connector: string): Promise<Checkout> {
  sequence += 1;
  const checkout = aCheckout({ id: `chk_ops${sequence}_${Date.now()}`, merchantOrderRef: `ops-${sequence}-${Date.now()}` });
  await repository.createCheckout(checkout);
  return repository.transitionCheckout({
    checkoutId: checkout.id,
    from: ['open'],
    to: 'processing',
    patch: { payment: { paymentToken: 'tok_1', attempts: [attempt(`att_${sequence}a`, connector)] } },
  });
}

function withLastAttempt(checkout: Checkout, change: Partial<PaymentAttempt>): NonNullable<Checkout['payment']> {
  const payment = checkout.payment!;
  const attempts = payment.attempts.map((one, index) => (index === payment.attempts.length - 1 ? { ...one, ...change } : one));
  return { ...payment, attempts };
}

async function operatorView(token: string | undefined) {
  const result = await operatorHandler(apiEvent('GET', '/v1/operator/connectors', { token }), {} as never);
  return { status: result.statusCode, json: JSON.parse(result.body ?? '{}') };
}

describe('per-connector counters', () => {
  it('counts attempts, authorizations, failures and failovers exactly once, in the write that records them', async () => {
    // Prepare
    const before = await stats.readConnectorStats(['sandbox', 'stripe'], new Date());
    // Act: one payment authorized at sandbox; one that fails at sandbox and fails over to stripe, authorized there.
    const first = await processingCheckout('sandbox');
    await repository.updatePayment(
      first.id,
      withLastAttempt(first, { status: 'authorized', pspReference: 'auth_1', authorizedAmount: 2500 }),
      first.version,
    );
    const second = await processingCheckout('sandbox');
    const failed = await repository.updatePayment(
      second.id,
      withLastAttempt(second, { status: 'failed', failureCode: 'psp_error' }),
      second.version,
    );
    const failedOver = await repository.updatePayment(
      second.id,
      { ...failed.payment!, attempts: [...failed.payment!.attempts, attempt(`att_${sequence}b`, 'stripe')] },
      failed.version,
    );
    await repository.updatePayment(
      second.id,
      withLastAttempt(failedOver, { status: 'authorized', pspReference: 'pi_1', authorizedAmount: 2500 }),
      failedOver.version,
    );
    // A stale write (lost condition) changes nothing and counts nothing.
    await expect(
      repository.updatePayment(
        second.id,
        withLastAttempt(failed, { status: 'failed', failureCode: 'psp_error' }),
        failed.version,
      ),
    ).rejects.toBeInstanceOf(ConcurrentModificationError);
    // The same stale write on the caller's copy: its counters went out beside the write, which lost
    // its condition, so they were taken back.
    await expect(
      repository.updatePayment(
        second.id,
        withLastAttempt(second, { status: 'failed', failureCode: 'psp_error' }),
        second.version,
        undefined,
        second,
      ),
    ).rejects.toBeInstanceOf(ConcurrentModificationError);
    const after = await stats.readConnectorStats(['sandbox', 'stripe'], new Date());
    // Assess
    const delta = (connector: string, field: 'attempts' | 'authorized' | 'failed' | 'failoversOut' | 'failoversIn') =>
      after.find((row) => row.connector === connector)![field] - before.find((row) => row.connector === connector)![field];
    expect({
      sandbox: [
        delta('sandbox', 'attempts'),
        delta('sandbox', 'authorized'),
        delta('sandbox', 'failed'),
        delta('sandbox', 'failoversOut'),
      ],
      stripe: [
        delta('stripe', 'attempts'),
        delta('stripe', 'authorized'),
        delta('stripe', 'failed'),
        delta('stripe', 'failoversIn'),
      ],
    }).toEqual({ sandbox: [2, 1, 1, 1], stripe: [1, 1, 0, 1] });
  });
});

describe('GET /v1/operator/connectors', () => {
  it('answers the platform admin with every registered connector and its last-hour figures', async () => {
    // Prepare
    const checkout = await processingCheckout('sandbox');
    await repository.updatePayment(
      checkout.id,
      withLastAttempt(checkout, { status: 'failed', failureCode: 'do_not_honor' }),
      checkout.version,
    );
    // Act
    const response = await operatorView(env.adminToken);
    // Assess
    expect(response.status).toBe(200);
    expect(response.json.object).toBe('list');
    expect(response.json.window.minutes).toBe(60);
    expect(Date.parse(response.json.window.end) - Date.parse(response.json.window.start)).toBe(60 * 60_000 - 1);
    const sandbox = response.json.data.find((row: { connector: string }) => row.connector === 'sandbox');
    expect(sandbox.attempts).toBeGreaterThanOrEqual(1);
    expect(sandbox.failed).toBeGreaterThanOrEqual(1);
    expect(sandbox.authorization_rate_bps).toBe(
      Math.floor((sandbox.authorized * 10_000) / (sandbox.authorized + sandbox.failed)),
    );
  });

  it('refuses merchants and anonymous callers', async () => {
    // Prepare
    const merchant = await env.createMerchant('Not an operator');
    // Act
    const asMerchant = await operatorView(merchant.secretKey);
    const anonymous = await operatorView(undefined);
    // Assess
    expect(asMerchant.status).toBe(401);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBeTypeOf('string');
  });
});
