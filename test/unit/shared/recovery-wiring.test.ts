/**
 * The sweep's recovery wiring builds a try's saga execution ARN without importing the Step
 * Functions adapter (which builds the Step Functions client): it must stay the ARN that adapter computes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { executionArnFor } from '../../../lambdas/adapters/sfn-payment-workflow';
import { executionNameFor } from '../../../lambdas/use-cases/pay-checkout';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:paystep-checkout';

describe('recovery-wiring sagaExecutionArnFor', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('is the execution ARN sfn-payment-workflow computes, for the first and later tries', async () => {
    // Prepare
    vi.stubEnv('TABLE_NAME', 'paystep-test');
    vi.stubEnv('DYNAMODB_ENDPOINT', 'http://127.0.0.1:9');
    vi.stubEnv('STATE_MACHINE_ARN', STATE_MACHINE_ARN);
    vi.resetModules();
    // Act
    const { sagaExecutionArnFor } = await import('../../../lambdas/shared/recovery-wiring');
    // Assess
    for (const tryNumber of [1, 2, 7])
      expect(sagaExecutionArnFor('co_abc123', tryNumber)).toBe(
        executionArnFor(STATE_MACHINE_ARN, executionNameFor('co_abc123', tryNumber)),
      );
    expect(sagaExecutionArnFor('co_abc123')).toBe(executionArnFor(STATE_MACHINE_ARN, executionNameFor('co_abc123')));
    expect(sagaExecutionArnFor('co_abc123')).toMatch(/^arn:aws:states:eu-west-1:123456789012:execution:paystep-checkout:/);
  });
});
