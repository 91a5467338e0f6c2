/**
 * What the reconciliation sweep needs only for a stuck checkout, imported on its first use as
 * chunks of their own (lib/bundling.ts), not at the sweep's cold start: the Step Functions client
 * (task-token-wiring.ts: is the try's execution still running, resume or heartbeat its task token)
 * and the PSP callback store (a stored callback for a checkout waiting on its authorization). A
 * sweep that finds no checkout stuck past PAYSTEP_RECOVERY_AFTER_MS, the usual run, loads neither
 * (and no longer reads the connectors' callback secrets, which callback-wiring.ts does at its cold start).
 */
import type { PspCallbackStore } from '../ports/callbacks';
import type { SagaExecutionInspector, TaskTokenResumer } from '../ports/workflow';
import { importOnce } from './import-once';
import { documentClient, storeConfig } from './wiring';

/** A module imported once; a failed import is retried on the next call. */

const sfn = importOnce(async () => (await import('./task-token-wiring')).taskTokens);
const callbacks = importOnce(async () => {
  const { DynamoPspCallbackStore } = await import('../adapters/dynamo-callback-store');
  return new DynamoPspCallbackStore(documentClient, storeConfig.tableName);
});

/** The task-token resumer and execution inspector, as callback-wiring.ts's `taskTokens`. */
export const taskTokens: TaskTokenResumer & SagaExecutionInspector = {
  succeed: async (taskToken, output) => (await sfn()).succeed(taskToken, output),
  fail: async (taskToken, error, cause) => (await sfn()).fail(taskToken, error, cause),
  heartbeat: async (taskToken) => (await sfn()).heartbeat(taskToken),
  isRunning: async (executionArn) => (await sfn()).isRunning(executionArn),
};

/** The PSP callback store, as callback-wiring.ts's `pspCallbackStore`. */
export const pspCallbackStore: PspCallbackStore = {
  hasCallback: async (connector, callbackId) => (await callbacks()).hasCallback(connector, callbackId),
  recordCallback: async (receipt) => (await callbacks()).recordCallback(receipt),
  getAuthorizationRecord: async (connector, reference) => (await callbacks()).getAuthorizationRecord(connector, reference),
  advanceAuthorization: async (...args) => (await callbacks()).advanceAuthorization(...args),
  registerTaskToken: async (...args) => (await callbacks()).registerTaskToken(...args),
  clearTaskToken: async (connector, reference, taskToken) => (await callbacks()).clearTaskToken(connector, reference, taskToken),
};
