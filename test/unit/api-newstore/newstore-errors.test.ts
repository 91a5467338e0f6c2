/**
 * NewStore's error codes for everything Paystep raises: declines are instrument_error, refusals of
 * a command failed_command, transient failures retry_error, throttling rate_limit and anything
 * unexpected internal_error (logged, never detailed to the caller).
 */
import { describe, expect, it } from 'vitest';
import { toNewStoreError } from '../../../lambdas/api-newstore/newstore-errors';
import {
  AuthenticationError,
  ConcurrentModificationError,
  ConflictError,
  IdempotencyInFlightError,
  NotFoundError,
  PaymentDeclinedError,
  PspRejectedError,
  PspTimeoutError,
  PspUnavailableError,
  StoreUnavailableError,
  ValidationError,
} from '../../../lambdas/errors';

describe('toNewStoreError', () => {
  it.each([
    ['a decline', new PaymentDeclinedError('card_declined'), 'create', 402, 'instrument_error'],
    ['a PSP refusal of the token', new PspRejectedError('refused'), 'create', 422, 'instrument_error'],
    ['a PSP refusal of a capture', new PspRejectedError('refused'), 'operate', 422, 'failed_command'],
    [
      'an unknown PSP reference at create',
      new ValidationError('x', { status: 422, code: 'psp_reference_not_found' }),
      'create',
      422,
      'instrument_error',
    ],
    [
      'a claimed PSP reference at create',
      new ConflictError('x', { code: 'psp_reference_in_use' }),
      'create',
      422,
      'instrument_error',
    ],
    [
      'more than capturable',
      new ValidationError('x', { status: 422, code: 'amount_exceeds_capturable' }),
      'operate',
      422,
      'failed_command',
    ],
    ['bad input', new ValidationError('x', { code: 'invalid_amount' }), 'operate', 400, 'failed_command'],
    ['bad credentials', new AuthenticationError('x'), 'create', 401, 'failed_command'],
    ['an unknown instrument', new NotFoundError('x'), 'operate', 404, 'failed_command'],
    ['a revoked instrument', new ConflictError('x', { code: 'instrument_voided' }), 'operate', 409, 'failed_command'],
    ['a PSP outage', new PspUnavailableError('x'), 'operate', 503, 'retry_error'],
    ['a PSP timeout', new PspTimeoutError('x'), 'operate', 504, 'retry_error'],
    ['a duplicate in flight', new IdempotencyInFlightError('x'), 'operate', 503, 'retry_error'],
    ['a lost race', new ConcurrentModificationError('x'), 'operate', 503, 'retry_error'],
    [
      'a capture still running (revoke)',
      new ConflictError('x', { code: 'operation_in_progress' }),
      'operate',
      503,
      'retry_error',
    ],
    ['a throttled store', new StoreUnavailableError('x'), 'operate', 429, 'rate_limit'],
  ] as const)('%s -> %i %s', (_name, error, phase, status, errorCode) => {
    expect(toNewStoreError(error, phase)).toMatchObject({ status, errorCode });
  });

  it('answers retry_error and rate_limit with Retry-After, definitive codes without', () => {
    expect(toNewStoreError(new PspUnavailableError('x'), 'operate').retryAfter).toBe(1);
    expect(toNewStoreError(new StoreUnavailableError('x'), 'operate').retryAfter).toBe(1);
    expect(toNewStoreError(new PaymentDeclinedError('x'), 'create').retryAfter).toBeUndefined();
  });

  it('turns an unexpected error into a logged 500 internal_error without its message', () => {
    // Prepare
    const logged: Record<string, unknown>[] = [];
    // Act
    const mapped = toNewStoreError(new TypeError('secret detail sk_test_123'), 'operate', {
      error: (_message, extra) => logged.push(extra),
    });
    // Assess
    expect(mapped).toEqual({
      status: 500,
      errorCode: 'internal_error',
      message: 'An unexpected error occurred. Please retry later.',
    });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ errorName: 'TypeError' });
  });
});
