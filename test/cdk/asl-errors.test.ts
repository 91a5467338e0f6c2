/**
 * Every error name the saga's ASL matches in ErrorEquals must be thrown by some handler as
 * `error.name`: a typo here would silently turn a caught business outcome into an uncaught failure.
 * The names must be exported error classes of lambdas/errors.ts whose instances carry that literal
 * `name` (minification renames classes, not string literals, so the instance name is what Lambda reports).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as errors from '../../lambdas/errors';
import { REPO_ROOT } from '../../lib/repo-root';
import { CHECKOUT_STATE_MACHINE_FILE } from '../../lib/saga-steps';

interface AslState {
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[] }[];
}

function collectErrorNames(): Map<string, string[]> {
  const asl = JSON.parse(readFileSync(resolve(REPO_ROOT, CHECKOUT_STATE_MACHINE_FILE), 'utf8')) as {
    States: Record<string, AslState>;
  };
  const usedBy = new Map<string, string[]>();
  for (const [stateName, state] of Object.entries(asl.States)) {
    for (const rule of [...(state.Retry ?? []), ...(state.Catch ?? [])]) {
      for (const name of rule.ErrorEquals) usedBy.set(name, [...(usedBy.get(name) ?? []), stateName]);
    }
  }
  return usedBy;
}

describe('ASL ErrorEquals names', () => {
  it('are exported error classes of lambdas/errors.ts whose instances have exactly that name', () => {
    // Prepare
    const paystepNames = [...collectErrorNames().keys()].filter(
      (name) => !name.startsWith('States.') && !name.startsWith('Lambda.'),
    );
    const exported = errors as unknown as Record<string, unknown>;
    // Act
    const problems = paystepNames.flatMap((name) => {
      const candidate = exported[name];
      if (typeof candidate !== 'function') return [`${name} is not exported by lambdas/errors.ts`];
      const ErrorClass = candidate as new (message: string) => Error;
      if (!(ErrorClass.prototype instanceof Error)) return [`${name} does not extend Error`];
      const instance = new ErrorClass('probe');
      return instance.name === name ? [] : [`new ${name}().name is "${instance.name}"`];
    });
    // Assess
    expect(paystepNames.length).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });

  it('use only the States.* and Lambda.* names Step Functions actually raises', () => {
    // Prepare
    const known = new Set([
      'States.ALL',
      'States.Timeout',
      'States.TaskFailed',
      'States.Permissions',
      'States.HeartbeatTimeout',
      'States.DataLimitExceeded',
      'States.Runtime',
      'States.ResultPathMatchFailure',
      'States.ParameterPathFailure',
      'States.QueryEvaluationError',
      'States.BranchFailed',
      'States.NoChoiceMatched',
      'States.IntrinsicFailure',
      'States.ExceedToleratedFailureThreshold',
      'States.ItemReaderFailed',
      'States.ResultWriterFailed',
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
      'Lambda.ClientExecutionTimeoutException',
      'Lambda.Unknown',
      'Lambda.ResourceNotReadyException',
    ]);
    // Act
    const unknown = [...collectErrorNames().keys()].filter(
      (name) => (name.startsWith('States.') || name.startsWith('Lambda.')) && !known.has(name),
    );
    // Assess
    expect(unknown).toEqual([]);
  });
});
