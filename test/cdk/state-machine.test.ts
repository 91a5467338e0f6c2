/**
 * The payment saga as deployed: the state machine definition CDK renders from
 * statemachines/checkout.asl.json, with every `${<State>FunctionArn}` substitution resolved to the
 * right function, and the Retry/Catch/TimeoutSeconds rules the money invariants depend on.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/repo-root';
import { CHECKOUT_STATE_MACHINE_FILE, SAGA_STEPS, type SagaState } from '../../lib/saga-steps';
import { SAGA_LAMBDA_TIMEOUT_MARGIN_SECONDS } from '../../lib/stateless-stack';
import {
  getAtt,
  logicalIdOf,
  resourcesOfType,
  synthPaystep,
  type Json,
  type JsonObject,
  type SynthesizedPaystep,
} from './synth-paystep';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
}
interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string;
}
interface State {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string; Payload?: Record<string, string> };
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  Retry?: Retrier[];
  Catch?: Catcher[];
  Next?: string;
  End?: boolean;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
}

const FUNCTION_ARN_MARKER = 'arn:test:lambda:function:';
const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** The function a Task invokes: its Resource, or Parameters.FunctionName for the `.waitForTaskToken` integration. */
function invokedFunction(state: State): string | undefined {
  return state.Resource === WAIT_FOR_TASK_TOKEN ? state.Parameters?.FunctionName : state.Resource;
}
const SAGA_STATES = Object.keys(SAGA_STEPS) as SagaState[];
const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
/**
 * Invoke errors raised before the handler runs (Lambda Invoke API: throttled, service error, client
 * error, VPC function Inactive and reconnecting). Not Lambda.Unknown or
 * Lambda.ClientExecutionTimeoutException: those come after the code may have called the merchant.
 */
const PRE_INVOCATION_LAMBDA_ERRORS = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.SdkClientException',
  'Lambda.ResourceNotReadyException',
];

/** A function ARN reference (`Fn::GetAtt [<logical id>, Arn]`) as a marker string naming the logical ID. */
function markFunctionArn(value: Json): string {
  const att = (value as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];
  if (att === undefined || att[1] !== 'Arn') throw new Error(`Not a function ARN reference: ${JSON.stringify(value)}`);
  return `${FUNCTION_ARN_MARKER}${att[0]}`;
}

/**
 * The definition as Step Functions will receive it: CloudFormation replaces each `${Key}` in
 * DefinitionString with DefinitionSubstitutions[Key] (and joins an Fn::Join if CDK inlined
 * tokens). Throws on a placeholder without a substitution, as CloudFormation would fail.
 */
function renderDefinition(properties: JsonObject): { text: string; usedKeys: Set<string> } {
  const substitutions = (properties.DefinitionSubstitutions ?? {}) as JsonObject;
  const definition = properties.DefinitionString!;
  const joined =
    typeof definition === 'string'
      ? definition
      : (() => {
          const [separator, parts] = (definition as { 'Fn::Join': [string, Json[]] })['Fn::Join'];
          return parts.map((part) => (typeof part === 'string' ? part : markFunctionArn(part))).join(separator);
        })();
  const usedKeys = new Set<string>();
  const text = joined.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_match, key: string) => {
    if (!(key in substitutions)) throw new Error(`No substitution for \${${key}}`);
    usedKeys.add(key);
    return markFunctionArn(substitutions[key]!);
  });
  return { text, usedKeys };
}

describe('checkout state machine (as deployed)', () => {
  let synth: SynthesizedPaystep;
  let stateMachine: JsonObject;
  let deployed: Definition;
  let source: Definition;

  beforeAll(() => {
    // Prepare: synthesize once, render the definition the stack would deploy.
    synth = synthPaystep();
    const machines = Object.values(resourcesOfType(synth.statelessJson, 'AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    stateMachine = machines[0]!;
    deployed = JSON.parse(renderDefinition(stateMachine.Properties as JsonObject).text) as Definition;
    source = JSON.parse(readFileSync(resolve(REPO_ROOT, CHECKOUT_STATE_MACHINE_FILE), 'utf8')) as Definition;
  });

  it('is a Standard state machine logging ALL (with execution data) to its own log group, with X-Ray tracing', () => {
    // Assess
    const properties = stateMachine.Properties as JsonObject;
    expect(properties.StateMachineType).toBe('STANDARD');
    expect(properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(properties.LoggingConfiguration).toEqual({
      Level: 'ALL',
      IncludeExecutionData: true,
      Destinations: [
        {
          CloudWatchLogsLogGroup: { LogGroupArn: getAtt(synth.stateless.node.findChild('CheckoutStateMachineLogGroup'), 'Arn') },
        },
      ],
    });
  });

  it('resolves every ${...} substitution, each Task to the function of its own saga step', () => {
    // Act
    const properties = stateMachine.Properties as JsonObject;
    const rendered = renderDefinition(properties);
    // Assess: nothing left unresolved, and no substitution defined that the ASL does not use.
    expect(rendered.text).not.toMatch(/\$\{/);
    expect([...rendered.usedKeys].sort()).toEqual(Object.keys(properties.DefinitionSubstitutions as JsonObject).sort());
    const tasks = Object.entries(deployed.States).filter(([, state]) => state.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual([...SAGA_STATES].sort());
    for (const [name, state] of tasks) {
      const fn = synth.stateless.sagaFunctions.get(name as SagaState)!;
      expect(invokedFunction(state), name).toBe(`${FUNCTION_ARN_MARKER}${logicalIdOf(fn)}`);
      const lambda = (synth.statelessJson.Resources as Record<string, JsonObject>)[logicalIdOf(fn)]!;
      expect(lambda.Type).toBe('AWS::Lambda::Function');
    }
  });

  it('deploys the ASL file unchanged apart from the resolved Task resources', () => {
    // Act: put the placeholders back into the deployed definition.
    const restored = JSON.parse(JSON.stringify(deployed)) as Definition;
    for (const [name, state] of Object.entries(restored.States)) {
      if (state.Type !== 'Task') continue;
      if (state.Resource === WAIT_FOR_TASK_TOKEN) state.Parameters!.FunctionName = `\${${name}FunctionArn}`;
      else state.Resource = `\${${name}FunctionArn}`;
    }
    // Assess
    expect(restored).toEqual(source);
  });

  it('AwaitAuthorization: .waitForTaskToken with the task token in the payload, heartbeat and timeout set, any failure voids', () => {
    // Assess
    const wait = deployed.States.AwaitAuthorization!;
    expect(wait.Resource).toBe(WAIT_FOR_TASK_TOKEN);
    expect(wait.Parameters?.Payload?.['taskToken.$']).toBe('$$.Task.Token');
    expect(wait.HeartbeatSeconds).toBeGreaterThan(0);
    expect(wait.TimeoutSeconds).toBeGreaterThan(wait.HeartbeatSeconds!);
    expect(wait.Next).toBe('AuthorizePayment');
    const catcher = wait.Catch?.at(-1);
    expect(catcher?.ErrorEquals).toEqual(['States.ALL']);
    expect(catcher).toMatchObject({ Next: 'VoidAuthorization', ResultPath: '$.failure.AwaitAuthorization' });
    // A pending PSP answer is thrown by AuthorizePayment (never retried) and caught into the wait.
    const authorize = deployed.States.AuthorizePayment!;
    expect(authorize.Catch?.find((c) => c.ErrorEquals.includes('AuthorizationPendingError'))?.Next).toBe('AwaitAuthorization');
    expect(authorize.Catch?.find((c) => c.ErrorEquals.includes('AuthenticationActionRequiredError'))?.Next).toBe(
      'AwaitAuthentication',
    );
    expect(deployed.States.AwaitAuthentication?.Next).toBe('AuthorizePayment');
    expect(deployed.States.AwaitAuthentication?.Catch?.at(-1)).toMatchObject({
      ErrorEquals: ['States.ALL'],
      Next: 'VoidAuthorization',
      ResultPath: '$.failure.AwaitAuthentication',
    });
  });

  it('success path: AuthorizePayment -> CapturePayment (End), two Task states and no Choice or Pass state', () => {
    // Act: follow Next from StartAt.
    const path: string[] = [];
    for (let name: string | undefined = deployed.StartAt; name !== undefined; name = deployed.States[name]!.Next) {
      path.push(name);
      if (path.length > 20) break;
    }
    // Assess
    expect(path).toEqual(['AuthorizePayment', 'CapturePayment']);
    for (const name of path) expect(deployed.States[name]!.Type, name).toBe('Task');
    expect(deployed.States.CapturePayment!.End).toBe(true);
    const types = new Set(Object.values(deployed.States).map((state) => state.Type));
    expect(types).toEqual(new Set(['Task']));
    // CapturePayment's confirm phase learns from AuthorizePayment's result whether it has anything to do.
    expect(deployed.States.CapturePayment!.Parameters).toMatchObject({
      'inventoryConfirmationRequired.$': '$.AuthorizePaymentResult.inventoryConfirmationRequired',
    });
  });

  it('every failure goes straight to the one terminal failure Task, each source under its own ResultPath', () => {
    // Act
    const failureCatchers = Object.entries(deployed.States).flatMap(([name, state]) =>
      (state.Catch ?? []).filter((c) => c.Next === 'VoidAuthorization').map((c) => [name, c] as const),
    );
    // Assess: one States.ALL catcher per non-terminal state, into $.failure.<its own name>.
    expect(failureCatchers.map(([name]) => name).sort()).toEqual(
      ['AuthorizePayment', 'AwaitAuthentication', 'AwaitAuthorization', 'CapturePayment'].sort(),
    );
    for (const [name, catcher] of failureCatchers) {
      expect(catcher.ErrorEquals, name).toEqual(['States.ALL']);
      expect(catcher.ResultPath, name).toBe(`$.failure.${name}`);
    }
    const terminal = deployed.States.VoidAuthorization!;
    expect(terminal.End).toBe(true);
    expect(terminal.Catch).toBeUndefined();
    expect(terminal.Parameters).toEqual({ 'checkoutId.$': '$.checkoutId', 'failure.$': '$.failure' });
  });

  it('CapturePayment: every failure (States.Timeout included) caught and routed to the void, under its own ResultPath', () => {
    // Assess
    const capture = deployed.States.CapturePayment!;
    expect(capture.Catch ?? []).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure.CapturePayment', Next: 'VoidAuthorization' },
    ]);
    expect(capture.End).toBe(true);
  });

  it('CapturePayment: retries Lambda only for invokes that failed before the function ran, within the 10 s, never the merchant call', () => {
    // Assess
    const capture = deployed.States.CapturePayment!;
    const lambdaRetriers = (capture.Retry ?? []).filter((retrier) => retrier.ErrorEquals.some((e) => e.startsWith('Lambda.')));
    expect(lambdaRetriers.length).toBe(1);
    const retrier = lambdaRetriers[0]!;
    // Errors Lambda raises before the handler runs: the merchant was never called in that invoke.
    for (const error of retrier.ErrorEquals) expect(PRE_INVOCATION_LAMBDA_ERRORS, error).toContain(error);
    expect(retrier.ErrorEquals).toContain('Lambda.TooManyRequestsException');
    // The waits between attempts fit well inside the 10 s the merchant is promised.
    const attempts = retrier.MaxAttempts ?? 3;
    const interval = retrier.IntervalSeconds ?? 1;
    const rate = retrier.BackoffRate ?? 2;
    const totalWaitSeconds = Array.from({ length: attempts }, (_, i) => interval * rate ** i).reduce((a, b) => a + b, 0);
    expect(totalWaitSeconds).toBeLessThanOrEqual(5);
    // The other retrier names only errors the capture phase raises (the confirm phase raises Inventory* errors).
    const others = (capture.Retry ?? []).filter((r) => r !== retrier).flatMap((r) => r.ErrorEquals);
    expect(others.sort()).toEqual([
      'ConcurrentModificationError',
      'PspTimeoutError',
      'PspUnavailableError',
      'StoreUnavailableError',
    ]);
    // The function learns when the state was entered, so a retry or a cold start shortens the merchant's time instead of extending it.
    expect(capture.Parameters).toEqual({
      'checkoutId.$': '$.checkoutId',
      'stateEnteredTime.$': '$$.State.EnteredTime',
      'inventoryConfirmationRequired.$': '$.AuthorizePaymentResult.inventoryConfirmationRequired',
    });
  });

  it('every Task has a TimeoutSeconds, and each saga Lambda may outlive its Task so the Task timeout fires first', () => {
    // Assess
    const lambdas = resourcesOfType(synth.statelessJson, 'AWS::Lambda::Function');
    for (const state of SAGA_STATES) {
      const task = deployed.States[state]!;
      expect(task.TimeoutSeconds, state).toBeGreaterThan(0);
      const fn = lambdas[logicalIdOf(synth.stateless.sagaFunctions.get(state)!)]!;
      if (task.Resource === WAIT_FOR_TASK_TOKEN) {
        // The Task's timeout bounds the wait; the function only parks the token (Lambda's limit is 900 s).
        expect((fn.Properties as JsonObject).Timeout as number, state).toBeLessThanOrEqual(60);
        continue;
      }
      expect((fn.Properties as JsonObject).Timeout, state).toBe(task.TimeoutSeconds! + SAGA_LAMBDA_TIMEOUT_MARGIN_SECONDS);
    }
  });

  it('retries only transient errors, with backoff, and never a business outcome, States.ALL or a Task timeout', () => {
    // Assess
    const neverRetried = [
      'States.ALL',
      'States.Timeout',
      'States.TaskFailed',
      'PaymentDeclinedError',
      'InventoryRejectedError',
      'InventoryTimeoutError',
      'InventoryUnreachableError',
      'PspRejectedError',
      // The saga's own refusals (lambdas/errors.ts SagaRefusalError): a re-run would refuse again.
      'PaymentNotStartedError',
      'CheckoutNotProcessingError',
      'RecoveryTakeoverError',
      'AttemptTransitionError',
      'AuthorizationMissingError',
      'AuthorizationVoidedError',
      'InventoryNotConfirmedError',
      'InstrumentMissingError',
      'AuthorizationClaimedError',
      'CaptureIncompleteError',
      // Routing signals into the waits: retrying would ask the PSP again instead of waiting.
      'AuthorizationPendingError',
      'AuthenticationActionRequiredError',
    ];
    for (const state of SAGA_STATES) {
      for (const retrier of deployed.States[state]!.Retry ?? []) {
        for (const error of neverRetried) expect(retrier.ErrorEquals, `${state} retries ${error}`).not.toContain(error);
        expect(retrier.MaxAttempts, state).toBeGreaterThanOrEqual(1);
        expect(retrier.MaxAttempts, state).toBeLessThanOrEqual(6);
        expect(retrier.BackoffRate, state).toBeGreaterThan(1);
        expect(retrier.IntervalSeconds, state).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('money-moving Tasks retry PSP outages, store conflicts and Lambda service errors; authorize and capture catch everything else', () => {
    // Assess
    for (const state of ['AuthorizePayment', 'CapturePayment', 'VoidAuthorization'] as const) {
      const task = deployed.States[state]!;
      const retried = (task.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
      // CapturePayment (it may call the merchant) retries only the Lambda errors raised before its code ran.
      const lambdaErrors = state === 'CapturePayment' ? PRE_INVOCATION_LAMBDA_ERRORS : LAMBDA_TRANSIENT_ERRORS;
      expect(retried, state).toEqual(
        expect.arrayContaining([
          'PspUnavailableError',
          'PspTimeoutError',
          'StoreUnavailableError',
          'ConcurrentModificationError',
          ...lambdaErrors,
        ]),
      );
    }
    // A decline (no void needed: the failure Task reads the error name) and every other authorize
    // failure, and a failed capture (voided, never left authorized), go to the failure Task.
    for (const state of ['AuthorizePayment', 'CapturePayment'] as const) {
      expect(deployed.States[state]!.Catch?.at(-1), state).toMatchObject({
        ErrorEquals: ['States.ALL'],
        Next: 'VoidAuthorization',
      });
    }
  });

  it('States.ALL, where caught, is the last catcher', () => {
    // Assess
    for (const state of SAGA_STATES) {
      const catchers = deployed.States[state]!.Catch ?? [];
      catchers.forEach((catcher, index) => {
        if (catcher.ErrorEquals.includes('States.ALL')) expect(index, state).toBe(catchers.length - 1);
      });
    }
  });
});
