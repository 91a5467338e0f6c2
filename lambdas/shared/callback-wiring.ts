/**
 * Module-scope wiring for PSP callbacks and recovery (the callback API, the saga's
 * AwaitAuthorization step, the reconciliation sweep), on top of saga-wiring.ts: the callback and
 * recovery stores, the Step Functions task-token client, and the connectors' callback readers
 * (lambdas/connectors/registry.ts, each reading its own secrets), once at cold start.
 *
 * Env: STATE_MACHINE_ARN and SFN_ENDPOINT (local emulator) for task tokens and executions,
 * PAYSTEP_RECOVERY_AFTER_MS (default 15 min), PAYSTEP_RECOVERY_LEASE_MS (default 2 min).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { sdkRequestHandler } from '../adapters/aws-sdk-timeouts';
import { DynamoPspCallbackStore } from '../adapters/dynamo-callback-store';
import { DynamoRecoveryStore } from '../adapters/dynamo-recovery-store';
import { executionArnFor } from '../adapters/sfn-payment-workflow';
import { SfnTaskTokens } from '../adapters/sfn-task-tokens';
import { callbackReadersFromEnv } from '../connectors/registry';
import type { CallbackReader, PspCallbackStore } from '../ports/callbacks';
import type { RecoveryStore } from '../ports/recovery';
import { executionNameFor } from '../use-cases/pay-checkout';
import { optionalEnv } from './env';
import { documentClient, storeConfig } from './wiring';

const sfnEndpoint = optionalEnv('SFN_ENDPOINT', '');
export const taskTokens = new SfnTaskTokens(
  new SFNClient(sfnEndpoint === '' ? { requestHandler: sdkRequestHandler() } : { endpoint: sfnEndpoint }),
);
export const pspCallbackStore: PspCallbackStore = new DynamoPspCallbackStore(documentClient, storeConfig.tableName);
export const recoveryStore: RecoveryStore = new DynamoRecoveryStore(documentClient, storeConfig.tableName);

/** Each connector's callback reader with its configured secrets; a connector without one refuses every callback (404). */
export const callbackReaders: Readonly<Record<string, CallbackReader>> = await callbackReadersFromEnv();

const stateMachineArn = optionalEnv('STATE_MACHINE_ARN', '');

/** The saga execution of a checkout's try (named after it, pay-checkout.ts). */
export function sagaExecutionArnFor(checkoutId: string, tryNumber = 1): string {
  return executionArnFor(stateMachineArn, executionNameFor(checkoutId, tryNumber));
}

export const recoverySettings = {
  stuckAfterMs: Number(optionalEnv('PAYSTEP_RECOVERY_AFTER_MS', String(15 * 60_000))),
  leaseMs: Number(optionalEnv('PAYSTEP_RECOVERY_LEASE_MS', String(2 * 60_000))),
} as const;
