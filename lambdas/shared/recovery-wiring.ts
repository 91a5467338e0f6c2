/**
 * Module-scope wiring of recovery (the reconciliation sweep; the PSP callback entries through
 * callback-wiring.ts): the recovery store (outcome watches), the saga execution ARN of a checkout's
 * try, and the sweep's settings, on top of wiring.ts. No Step Functions client and no connector
 * secrets here: the sweep needs those only for a stuck checkout (recovery-lazy.ts).
 *
 * Env: STATE_MACHINE_ARN, PAYSTEP_RECOVERY_AFTER_MS (default 15 min), PAYSTEP_RECOVERY_LEASE_MS
 * (default 2 min).
 */
import { DynamoRecoveryStore } from '../adapters/dynamo-recovery-store';
import type { RecoveryStore } from '../ports/recovery';
import { executionNameFor } from '../use-cases/pay-checkout';
import { optionalEnv } from './env';
import { documentClient, storeConfig } from './wiring';

export const recoveryStore: RecoveryStore = new DynamoRecoveryStore(documentClient, storeConfig.tableName);

const stateMachineArn = optionalEnv('STATE_MACHINE_ARN', '');

/**
 * The saga execution of a checkout's try (named after it, pay-checkout.ts): the ARN Step Functions
 * gives it, as sfn-payment-workflow.ts's executionArnFor builds it (not imported: that module
 * builds the Step Functions client, which the sweep loads only for a stuck checkout; a unit test
 * pins both equal).
 */
export function sagaExecutionArnFor(checkoutId: string, tryNumber = 1): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionNameFor(checkoutId, tryNumber)}`;
}

export const recoverySettings = {
  stuckAfterMs: Number(optionalEnv('PAYSTEP_RECOVERY_AFTER_MS', String(15 * 60_000))),
  leaseMs: Number(optionalEnv('PAYSTEP_RECOVERY_LEASE_MS', String(2 * 60_000))),
} as const;
