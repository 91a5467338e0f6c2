/**
 * Module-scope wiring for PSP callbacks (the callback API, the saga's AwaitAuthorization and
 * AwaitAuthentication steps), on top of wiring.ts: the callback and recovery stores, the Step Functions task-token client (task-token-wiring.ts), and the
 * connectors' callback readers (lambdas/connectors/callback-readers.ts, each reading its own secrets), once
 * at cold start. The reconciliation sweep does not import it: it takes the recovery part
 * (recovery-wiring.ts) and the rest on first use (recovery-lazy.ts).
 *
 * Env: STATE_MACHINE_ARN and SFN_ENDPOINT (local emulator) for task tokens and executions,
 * PAYSTEP_RECOVERY_AFTER_MS (default 15 min), PAYSTEP_RECOVERY_LEASE_MS (default 2 min).
 */
import { DynamoPspCallbackStore } from '../adapters/dynamo-callback-store';
import { callbackReadersFromEnv } from '../connectors/callback-readers';
import type { CallbackReader, PspCallbackStore } from '../ports/callbacks';
import { documentClient, storeConfig } from './wiring';

export { taskTokens } from './task-token-wiring';
export { recoverySettings, recoveryStore, sagaExecutionArnFor } from './recovery-wiring';

export const pspCallbackStore: PspCallbackStore = new DynamoPspCallbackStore(documentClient, storeConfig.tableName);

/** Each connector's callback reader with its configured secrets; a connector without one refuses every callback (404). */
export const callbackReaders: Readonly<Record<string, CallbackReader>> = await callbackReadersFromEnv();
