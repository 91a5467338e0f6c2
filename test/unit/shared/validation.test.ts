import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createCheckoutInputSchema,
  listCheckoutsQuerySchema,
  parseInput,
  settingsInputSchema,
} from '../../../lambdas/shared/validation';
import { ValidationError } from '../../../lambdas/errors';

const strictSchema = createCheckoutInputSchema({ allowHttpUrls: false });
const localSchema = createCheckoutInputSchema({ allowHttpUrls: true });

const valid = {
  merchant_order_ref: 'order-1',
  amount: 10050,
  currency: 'usd',
  items: [{ sku: 'A', quantity: 1 }],
  success_url: 'https://s.example/ok',
  failure_url: 'https://s.example/ko',
};

function errorOf(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('parseInput for POST /v1/checkouts', () => {
  it('accepts a valid body and normalises the currency', () => {
    // Act
    const parsed = parseInput(strictSchema, valid);
    // Assess
    expect(parsed.currency).toBe('USD');
    expect(parsed.amount).toBe(10050);
  });

  it.each([
    ['missing amount', { amount: undefined }, 400, 'parameter_missing', 'amount', 'amount is required'],
    ['amount as string', { amount: '10' }, 400, 'invalid_request', 'amount', 'amount must be a number'],
    ['negative amount', { amount: -1 }, 422, 'invalid_amount', 'amount', 'amount must be greater than zero'],
    ['zero amount', { amount: 0 }, 422, 'invalid_amount', 'amount', 'amount must be greater than zero'],
    ['fractional amount', { amount: 1.5 }, 422, 'invalid_amount', 'amount', undefined],
    ['unsafe amount', { amount: 2 ** 53 }, 422, 'invalid_amount', 'amount', undefined],
    ['unknown currency', { currency: 'QQQ' }, 422, 'invalid_currency', 'currency', undefined],
    ['testing currency', { currency: 'xts' }, 422, 'invalid_currency', 'currency', undefined],
    ['currency as number', { currency: 840 }, 400, 'invalid_request', 'currency', 'currency must be a string'],
    ['items not an array', { items: {} }, 400, 'invalid_request', 'items', 'items must be an array'],
    ['nested type error', { items: [{ sku: 'A', quantity: 'two' }] }, 400, 'invalid_request', 'items.0.quantity', undefined],
    [
      'negative unit amount',
      { items: [{ sku: 'A', quantity: 1, unit_amount: -1 }] },
      422,
      'invalid_amount',
      'items.0.unit_amount',
      'items.0.unit_amount must not be negative',
    ],
    ['fractional quantity', { items: [{ sku: 'A', quantity: 1.5 }] }, 422, 'invalid_quantity', 'items.0.quantity', undefined],
    [
      'bad email',
      { customer: { email: 'nope' } },
      422,
      'invalid_parameter',
      'customer.email',
      'customer.email must be a valid email address',
    ],
    [
      'unknown nested key',
      { customer: { phone: '1' } },
      400,
      'unknown_parameter',
      'customer.phone',
      'Unknown parameter: customer.phone',
    ],
    [
      'http URL in production',
      { success_url: 'http://s.example/ok' },
      422,
      'invalid_url',
      'success_url',
      'success_url must be an https URL',
    ],
    ['control character in ref', { merchant_order_ref: 'a\nb' }, 422, 'invalid_parameter', 'merchant_order_ref', undefined],
    ['expiry too long', { expires_in_seconds: 604_801 }, 422, 'invalid_expires_in_seconds', 'expires_in_seconds', undefined],
  ])('maps %s', (_name, override, status, code, param, message) => {
    // Act
    const error = errorOf(() => parseInput(strictSchema, { ...valid, ...override }));
    // Assess
    expect(error.status).toBe(status);
    expect(error.code).toBe(code);
    expect(error.param).toBe(param);
    if (message !== undefined) expect(error.message).toBe(message);
  });

  it('reports a type error before a semantic one', () => {
    // Act
    const error = errorOf(() => parseInput(strictSchema, { ...valid, amount: -1, currency: 1 }));
    // Assess
    expect(error).toMatchObject({ status: 400, param: 'currency' });
  });

  it('accepts http URLs only in local mode', () => {
    expect(parseInput(localSchema, { ...valid, success_url: 'http://127.0.0.1:3002/ok' }).success_url).toBe(
      'http://127.0.0.1:3002/ok',
    );
    expect(errorOf(() => parseInput(localSchema, { ...valid, success_url: 'file:///etc/passwd' })).code).toBe('invalid_url');
  });
});

describe('other schemas', () => {
  it('accepts null to clear settings URLs', () => {
    const parsed = parseInput(settingsInputSchema({ allowHttpUrls: false }), { default_success_url: null });
    expect(parsed).toEqual({ default_success_url: null });
  });

  it('parses limit from the query string within 1..100', () => {
    expect(parseInput(listCheckoutsQuerySchema(), { limit: '25' }).limit).toBe(25);
    expect(errorOf(() => parseInput(listCheckoutsQuerySchema(), { limit: '101' }))).toMatchObject({
      status: 422,
      code: 'invalid_limit',
      param: 'limit',
    });
    expect(errorOf(() => parseInput(listCheckoutsQuerySchema(), { limit: 'ten' }))).toMatchObject({ code: 'invalid_limit' });
  });

  it('names the body itself when the root is wrong', () => {
    const error = errorOf(() => parseInput(z.strictObject({ a: z.string() }), 'text'));
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', message: 'The request body must be an object' });
    expect(error.param).toBeUndefined();
  });
});
