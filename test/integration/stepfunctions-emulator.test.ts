/**
 * The local Step Functions emulator, driven by the real @aws-sdk/client-sfn client: execution
 * naming semantics, status transitions, history, and how aws-local-stepfunctions matches Retry /
 * Catch / TimeoutSeconds against errors thrown by local handlers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { startStepFunctionsEmulator, type StepFunctionsEmulator } from '../../local/stepfunctions-emulator';
import { freePort } from '../../local/net';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import type { StepHandler } from '../../local/handlers';
import {
  InventoryRejectedError,
  InventoryTimeoutError,
  InventoryUnreachableError,
  PaymentDeclinedError,
  PspRejectedError,
  PspUnavailableError,
} from '../../lambdas/errors';
import { failureOutcome, type FailPaymentInput, type FailureSource } from '../../lambdas/use-cases/saga/fail-payment';
import { SfnPaymentWorkflow } from '../../lambdas/adapters/sfn-payment-workflow';
import { createSfnClient } from '../../lambdas/adapters/sfn-client';
import { SfnTaskTokens } from '../../lambdas/adapters/sfn-task-tokens';
import { SAGA_STEPS } from '../../lib/saga-steps';

const fn = (state: string): string => `\${${state}FunctionArn}`;

/** A tiny saga: Authorize (retry + catch by name), Slow (TimeoutSeconds), Finish. */
const DEFINITION = {
  StartAt: 'Route',
  States: {
    Route: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.mode', StringEquals: 'timeout', Next: 'Slow' },
        { Variable: '$.mode', StringEquals: 'timeout-taskfailed', Next: 'SlowTaskFailedOnly' },
        { Variable: '$.mode', StringEquals: 'uncaught', Next: 'Explode' },
      ],
      Default: 'Authorize',
    },
    Authorize: {
      Type: 'Task',
      Resource: fn('Authorize'),
      Parameters: { 'input.$': '$', 'execName.$': '$$.Execution.Name' },
      ResultPath: '$.AuthorizeResult',
      Retry: [{ ErrorEquals: ['PspUnavailableError'], IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: 3 }],
      Catch: [{ ErrorEquals: ['PaymentDeclinedError'], ResultPath: '$.AuthorizeError', Next: 'Declined' }],
      Next: 'Finish',
    },
    Slow: {
      Type: 'Task',
      Resource: fn('Slow'),
      TimeoutSeconds: 1,
      ResultPath: '$.SlowResult',
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.SlowError', Next: 'Finish' }],
      Next: 'Finish',
    },
    SlowTaskFailedOnly: {
      Type: 'Task',
      Resource: fn('SlowTaskFailedOnly'),
      TimeoutSeconds: 1,
      Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.SlowError', Next: 'Finish' }],
      Next: 'Finish',
    },
    Explode: { Type: 'Task', Resource: fn('Explode'), End: true },
    Declined: {
      Type: 'Pass',
      Parameters: { 'error.$': '$.AuthorizeError.Error', 'cause.$': '$.AuthorizeError.Cause' },
      End: true,
    },
    Finish: { Type: 'Succeed' },
  },
};

const gates = new Map<string, () => void>();
const attempts = new Map<string, number>();
const slowFinished: string[] = [];

const handlers: Record<string, StepHandler> = {
  Authorize: async (input, context) => {
    const { input: stateInput, execName } = input as { input: { mode?: string; gate?: string }; execName: string };
    const { mode, gate } = stateInput;
    if (gate) await new Promise<void>((release) => gates.set(gate, release));
    if (mode === 'decline') throw new PaymentDeclinedError('Card declined');
    if (mode === 'flaky') {
      const n = (attempts.get(execName) ?? 0) + 1;
      attempts.set(execName, n);
      if (n < 3) throw new PspUnavailableError(`PSP 503 (attempt ${n})`);
    }
    return { authorized: true, execName, remainingMs: context.getRemainingTimeInMillis(), fn: context.functionName };
  },
  Slow: async () => {
    await new Promise((r) => setTimeout(r, 2_500));
    slowFinished.push('Slow');
    return { late: true };
  },
  SlowTaskFailedOnly: async () => {
    await new Promise((r) => setTimeout(r, 2_500));
    return { late: true };
  },
  Explode: async () => {
    throw new TypeError('boom');
  },
};

let emulator: StepFunctionsEmulator;
let client: SFNClient;

beforeAll(async () => {
  emulator = await startStepFunctionsEmulator({
    port: await freePort(),
    definition: DEFINITION,
    handlers,
    retryIntervalOverrides: { Authorize: 10 },
    stateMachineName: 'test-saga',
  });
  client = new SFNClient({ ...LOCAL_AWS, endpoint: emulator.url });
});

afterAll(async () => {
  client?.destroy();
  await emulator?.stop();
});

async function waitForStatus(executionArn: string, status: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status === status) return described as unknown as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`execution stayed ${described.status}, wanted ${status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitForGate(gate: string): Promise<() => void> {
  for (let i = 0; i < 400; i++) {
    const release = gates.get(gate);
    if (release) return release;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gate ${gate} never reached`);
}

async function historyTypes(executionArn: string): Promise<string[]> {
  const history = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return (history.events ?? []).map((e) => e.type as string);
}

describe('StartExecution naming semantics (Standard)', () => {
  it('returns the same execution for the same name and input while running, and ExecutionAlreadyExists otherwise', async () => {
    // Prepare
    const input = JSON.stringify({ mode: 'ok', gate: 'g1' });
    const first = await client.send(
      new StartExecutionCommand({ stateMachineArn: emulator.stateMachineArn, name: 'chk_same', input }),
    );
    const release = await waitForGate('g1');

    // Act
    const again = await client.send(
      new StartExecutionCommand({ stateMachineArn: emulator.stateMachineArn, name: 'chk_same', input }),
    );
    const otherInput = await client
      .send(
        new StartExecutionCommand({
          stateMachineArn: emulator.stateMachineArn,
          name: 'chk_same',
          input: JSON.stringify({ mode: 'x', gate: 'g1' }),
        }),
      )
      .catch((error: unknown) => error);
    const running = await client.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
    release();
    const succeeded = await waitForStatus(first.executionArn as string, 'SUCCEEDED');
    const afterFinish = await client
      .send(new StartExecutionCommand({ stateMachineArn: emulator.stateMachineArn, name: 'chk_same', input }))
      .catch((error: unknown) => error);

    // Assess
    expect(first.executionArn).toBe(`arn:aws:states:us-east-1:000000000000:execution:test-saga:chk_same`);
    expect(first.startDate).toBeInstanceOf(Date);
    expect(again.executionArn).toBe(first.executionArn);
    expect(otherInput).toBeInstanceOf(ExecutionAlreadyExists);
    expect(afterFinish).toMatchObject({ name: 'ExecutionAlreadyExists', $metadata: { httpStatusCode: 400 } });
    expect(running.status).toBe('RUNNING');
    expect(running.stopDate).toBeUndefined();
    expect(succeeded.stopDate).toBeInstanceOf(Date);
    const output = JSON.parse(succeeded.output as string) as { AuthorizeResult: Record<string, unknown> };
    expect(output.AuthorizeResult).toMatchObject({ authorized: true, execName: 'chk_same', fn: 'paystep-Authorize' });
    expect(output.AuthorizeResult.remainingMs).toBeGreaterThan(50_000);
  });

  it('rejects an unknown execution and state machine with the SDK exceptions', async () => {
    // Act
    const describe = client.send(new DescribeExecutionCommand({ executionArn: `${emulator.stateMachineArn}:nope` }));
    const start = client.send(new StartExecutionCommand({ stateMachineArn: `${emulator.stateMachineArn}-other`, input: '{}' }));

    // Assess
    await expect(describe).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(start).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
  });
});

describe('Retry and Catch match the handler error by error.name', () => {
  it('retries PspUnavailableError with the overridden interval, then succeeds', async () => {
    // Act
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: emulator.stateMachineArn,
        name: 'flaky-1',
        input: JSON.stringify({ mode: 'flaky' }),
      }),
    );
    const startedAt = Date.now();
    await waitForStatus(started.executionArn as string, 'SUCCEEDED');
    const types = await historyTypes(started.executionArn as string);

    // Assess: 2 failures + 1 success, 10 ms apart instead of 30 s / 60 s
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(types.filter((t) => t === 'LambdaFunctionScheduled')).toHaveLength(3);
    expect(types.filter((t) => t === 'LambdaFunctionFailed')).toHaveLength(2);
    expect(types.filter((t) => t === 'LambdaFunctionSucceeded')).toHaveLength(1);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
  });

  it('catches PaymentDeclinedError with a Lambda-shaped Cause (JSON errorType/errorMessage)', async () => {
    // Act
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: emulator.stateMachineArn,
        name: 'decline-1',
        input: JSON.stringify({ mode: 'decline' }),
      }),
    );
    const done = await waitForStatus(started.executionArn as string, 'SUCCEEDED');

    // Assess
    const output = JSON.parse(done.output as string) as { error: string; cause: string };
    expect(output.error).toBe('PaymentDeclinedError');
    expect(JSON.parse(output.cause)).toMatchObject({ errorType: 'PaymentDeclinedError', errorMessage: 'Card declined' });
  });

  it('fails the execution with the error name when nothing catches it', async () => {
    // Act
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: emulator.stateMachineArn,
        name: 'uncaught-1',
        input: JSON.stringify({ mode: 'uncaught' }),
      }),
    );
    const failed = await waitForStatus(started.executionArn as string, 'FAILED');
    const types = await historyTypes(started.executionArn as string);

    // Assess
    expect(failed.error).toBe('TypeError');
    expect(JSON.parse(failed.cause as string)).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom' });
    expect(types).toEqual([
      'ExecutionStarted',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'ExecutionFailed',
    ]);
  });
});

describe('Task TimeoutSeconds', () => {
  it('raises States.Timeout after TimeoutSeconds, which Catch ["States.Timeout"] handles; the handler keeps running', async () => {
    // Act
    const startedAt = Date.now();
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: emulator.stateMachineArn,
        name: 'timeout-1',
        input: JSON.stringify({ mode: 'timeout' }),
      }),
    );
    const done = await waitForStatus(started.executionArn as string, 'SUCCEEDED');
    const elapsed = Date.now() - startedAt;
    const types = await historyTypes(started.executionArn as string);

    // Assess
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(2_400);
    expect(JSON.parse(done.output as string)).toMatchObject({ SlowError: { Error: 'States.Timeout' } });
    expect(types).toContain('LambdaFunctionTimedOut');
    expect(slowFinished).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_800));
    expect(slowFinished).toEqual(['Slow']);
  });

  it('is not matched by States.TaskFailed (as on AWS), so the execution fails with States.Timeout', async () => {
    // Act
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: emulator.stateMachineArn,
        name: 'timeout-2',
        input: JSON.stringify({ mode: 'timeout-taskfailed' }),
      }),
    );
    const failed = await waitForStatus(started.executionArn as string, 'FAILED');

    // Assess
    expect(failed.error).toBe('States.Timeout');
  });
});

describe('ListExecutions, StopExecution, DescribeStateMachine, history paging', () => {
  it('aborts a running execution and lists it as ABORTED', async () => {
    // Prepare
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: emulator.stateMachineArn,
        name: 'stop-1',
        input: JSON.stringify({ mode: 'ok', gate: 'g-stop' }),
      }),
    );
    const release = await waitForGate('g-stop');

    // Act
    const stopped = await client.send(
      new StopExecutionCommand({ executionArn: started.executionArn, error: 'Operator', cause: 'test' }),
    );
    const aborted = await waitForStatus(started.executionArn as string, 'ABORTED');
    release();
    const listed = await client.send(
      new ListExecutionsCommand({ stateMachineArn: emulator.stateMachineArn, statusFilter: 'ABORTED' }),
    );
    const types = await historyTypes(started.executionArn as string);

    // Assess
    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(aborted).toMatchObject({ error: 'Operator', cause: 'test' });
    expect(listed.executions?.map((e) => e.name)).toEqual(['stop-1']);
    expect(types.at(-1)).toBe('ExecutionAborted');
  });

  it('pages history with nextToken and describes the one state machine', async () => {
    // Prepare
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: emulator.stateMachineArn,
        name: 'paged-1',
        input: JSON.stringify({ mode: 'ok' }),
      }),
    );
    await waitForStatus(started.executionArn as string, 'SUCCEEDED');

    // Act
    const first = await client.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn, maxResults: 3 }));
    const rest = await client.send(
      new GetExecutionHistoryCommand({ executionArn: started.executionArn, maxResults: 100, nextToken: first.nextToken }),
    );
    const machine = await client.send(new DescribeStateMachineCommand({ stateMachineArn: emulator.stateMachineArn }));

    // Assess
    expect(first.events?.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(first.events?.[0]?.timestamp).toBeInstanceOf(Date);
    expect(first.events?.[0]?.executionStartedEventDetails?.input).toBe(JSON.stringify({ mode: 'ok' }));
    expect(rest.nextToken).toBeUndefined();
    expect(rest.events?.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(machine).toMatchObject({ type: 'STANDARD', status: 'ACTIVE', name: 'test-saga' });
    expect(machine.definition).toContain('arn:aws:lambda:us-east-1:000000000000:function:paystep-Authorize');
  });
});

describe('SfnPaymentWorkflow and SfnTaskTokens against the emulator (the AWS JSON client the functions use)', () => {
  it('starts once and reports alreadyStarted with the same ARN on the second call', async () => {
    // Prepare
    const lean = createSfnClient({ ...LOCAL_AWS, endpoint: emulator.url });
    const workflow = new SfnPaymentWorkflow({ client: lean, stateMachineArn: emulator.stateMachineArn });

    // Act
    const first = await workflow.startPayment({ name: 'chk_wf1', input: { checkoutId: 'chk_wf1' } });
    const second = await workflow.startPayment({ name: 'chk_wf1', input: { checkoutId: 'chk_wf1' } });
    await emulator.executions.get(first.executionArn)?.done;
    const third = await workflow.startPayment({ name: 'chk_wf1', input: { checkoutId: 'chk_wf1' } });
    lean.destroy();

    // Assess
    expect(first).toEqual({
      executionArn: `${emulator.stateMachineArn.replace(':stateMachine:', ':execution:')}:chk_wf1`,
      alreadyStarted: false,
    });
    expect(second.executionArn).toBe(first.executionArn);
    expect(third).toEqual({ executionArn: first.executionArn, alreadyStarted: true });
  });

  it('describes executions (finished: not running; unknown: not running) and treats an unknown token as stale', async () => {
    // Prepare
    const lean = createSfnClient({ ...LOCAL_AWS, endpoint: emulator.url });
    const tokens = new SfnTaskTokens(lean);
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: emulator.stateMachineArn,
        name: 'chk_tok1',
        input: JSON.stringify({ mode: 'ok' }),
      }),
    );
    await emulator.executions.get(started.executionArn!)?.done;

    // Act
    const finished = await tokens.isRunning(started.executionArn!);
    const unknown = await tokens.isRunning(`${emulator.stateMachineArn.replace(':stateMachine:', ':execution:')}:chk_never`);
    const stale = [await tokens.succeed('no-such-token', {}), await tokens.heartbeat('no-such-token')];
    lean.destroy();

    // Assess
    expect([finished, unknown]).toEqual([false, false]);
    expect(stale).toEqual([false, false]);
  });
});

describe('the real checkout ASL file', () => {
  it('loads with CDK-style substitutions and runs the happy path on stub handlers', async () => {
    // Prepare
    const visited: string[] = [];
    const stubs = Object.fromEntries(
      Object.keys(SAGA_STEPS).map((state) => [
        state,
        (async () => {
          visited.push(state);
          return state === 'AuthorizePayment' ? { inventoryConfirmationRequired: true } : { ok: true };
        }) as StepHandler,
      ]),
    );
    const real = await startStepFunctionsEmulator({ port: await freePort(), handlers: stubs });
    const realClient = new SFNClient({ ...LOCAL_AWS, endpoint: real.url });

    try {
      // Act
      const started = await realClient.send(
        new StartExecutionCommand({
          stateMachineArn: real.stateMachineArn,
          name: 'chk_real',
          input: JSON.stringify({ checkoutId: 'chk_real' }),
        }),
      );
      await real.executions.get(started.executionArn as string)?.done;
      const described = await realClient.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));

      const history = await realClient.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));

      // Assess: two Task states entered on the success path (what the bench counts), nothing else.
      expect(described.status).toBe('SUCCEEDED');
      expect(visited).toEqual(['AuthorizePayment', 'CapturePayment']);
      const entered = (history.events ?? []).filter((event) => event.type?.endsWith('StateEntered'));
      expect(entered.map((event) => [event.type, event.stateEnteredEventDetails?.name])).toEqual([
        ['TaskStateEntered', 'AuthorizePayment'],
        ['TaskStateEntered', 'CapturePayment'],
      ]);
    } finally {
      realClient.destroy();
      await real.stop();
    }
  });

  it.each([
    ['AuthorizePayment', new PaymentDeclinedError('card_declined'), 'payment_declined'],
    ['AuthorizePayment', new PspRejectedError('refused'), 'psp_error'],
    ['CapturePayment', new InventoryRejectedError('Insufficient inventory'), 'inventory_rejected'],
    ['CapturePayment', new InventoryTimeoutError('no answer'), 'inventory_timeout'],
    ['CapturePayment', new InventoryUnreachableError('ECONNREFUSED'), 'inventory_unreachable'],
    ['CapturePayment', new PspRejectedError('capture refused'), 'psp_error'],
  ] as const)(
    'routes %s failing with %s straight to VoidAuthorization, which reads %s from the source state',
    async (source, error, reason) => {
      // Prepare: every Task succeeds except `source`; VoidAuthorization records what it was given.
      const visited: string[] = [];
      let failureInput: FailPaymentInput | undefined;
      const stubs = Object.fromEntries(
        Object.keys(SAGA_STEPS).map((state) => [
          state,
          (async (stateInput: unknown) => {
            visited.push(state);
            if (state === source) throw error;
            if (state === 'VoidAuthorization') failureInput = stateInput as FailPaymentInput;
            return state === 'AuthorizePayment' ? { inventoryConfirmationRequired: true } : { ok: true };
          }) as StepHandler,
        ]),
      );
      const real = await startStepFunctionsEmulator({ port: await freePort(), handlers: stubs });
      const realClient = new SFNClient({ ...LOCAL_AWS, endpoint: real.url });
      try {
        // Act
        const started = await realClient.send(
          new StartExecutionCommand({
            stateMachineArn: real.stateMachineArn,
            name: 'chk_fail',
            input: JSON.stringify({ checkoutId: 'chk_fail' }),
          }),
        );
        await real.executions.get(started.executionArn as string)?.done;
        const described = await realClient.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));

        // Assess
        expect(described.status).toBe('SUCCEEDED');
        expect(visited.at(-1)).toBe('VoidAuthorization');
        expect(visited.slice(0, -1).at(-1)).toBe(source);
        expect(failureInput?.checkoutId).toBe('chk_fail');
        expect(Object.keys(failureInput?.failure ?? {})).toEqual([source]);
        expect(failureInput?.failure?.[source as FailureSource]?.Error).toBe(error.name);
        expect(failureOutcome(failureInput?.failure).reason).toBe(reason);
      } finally {
        realClient.destroy();
        await real.stop();
      }
    },
  );
});

describe('injected Lambda-service faults and $$.State.EnteredTime', () => {
  /** One Task that reports when its state was entered and when it ran; retries throttles only. */
  const FAULT_DEFINITION = {
    StartAt: 'Probe',
    States: {
      Probe: {
        Type: 'Task',
        Resource: fn('Probe'),
        Parameters: { 'enteredTime.$': '$$.State.EnteredTime', 'stateName.$': '$$.State.Name' },
        TimeoutSeconds: 3,
        Retry: [{ ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 2 }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
        End: true,
      },
      Caught: { Type: 'Pass', End: true },
    },
  };

  async function runProbe(faults: Record<string, { startDelayMs?: number; preInvocationError?: string }[]>) {
    const runs: { enteredTime: string; stateName: string; ranAt: number }[] = [];
    const faulty = await startStepFunctionsEmulator({
      port: await freePort(),
      definition: FAULT_DEFINITION,
      handlers: {
        Probe: async (input) => {
          runs.push({ ...(input as { enteredTime: string; stateName: string }), ranAt: Date.now() });
          return { ran: true };
        },
      },
      retryIntervalOverrides: { Probe: 50 },
      invocationFaults: faults,
    });
    const faultyClient = new SFNClient({ ...LOCAL_AWS, endpoint: faulty.url });
    try {
      const started = await faultyClient.send(
        new StartExecutionCommand({ stateMachineArn: faulty.stateMachineArn, input: '{}' }),
      );
      await faulty.executions.get(started.executionArn as string)?.done;
      const described = await faultyClient.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
      const history = await faultyClient.send(
        new GetExecutionHistoryCommand({ executionArn: started.executionArn, maxResults: 1000 }),
      );
      return { runs, described, events: history.events ?? [] };
    } finally {
      faultyClient.destroy();
      await faulty.stop();
    }
  }

  it('fails an attempt with an injected throttle before the handler runs; Retry reruns it with the same EnteredTime', async () => {
    // Act
    const { runs, described, events } = await runProbe({ Probe: [{ preInvocationError: 'Lambda.TooManyRequestsException' }] });
    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output ?? '{}')).toEqual({ ran: true });
    expect(runs).toHaveLength(1);
    const failed = events.filter((e) => e.type === 'LambdaFunctionFailed');
    expect(failed.map((e) => e.lambdaFunctionFailedEventDetails?.error)).toEqual(['Lambda.TooManyRequestsException']);
    expect(events.filter((e) => e.type === 'LambdaFunctionScheduled')).toHaveLength(2);
    const entered = events.find((e) => e.type === 'TaskStateEntered')!;
    expect(runs[0]!.stateName).toBe('Probe');
    // EnteredTime is the state's entry, not the retry's: within a few ms of the history's TaskStateEntered.
    expect(Math.abs(Date.parse(runs[0]!.enteredTime) - (entered.timestamp as Date).getTime())).toBeLessThan(50);
  });

  it('delays the handler by an injected cold start inside the Task timeout, visible as the gap from EnteredTime', async () => {
    // Act
    const { runs, described } = await runProbe({ Probe: [{ startDelayMs: 700 }] });
    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(runs).toHaveLength(1);
    const gap = runs[0]!.ranAt - Date.parse(runs[0]!.enteredTime);
    expect(gap).toBeGreaterThanOrEqual(690);
    expect(gap).toBeLessThan(1_500);
  });

  it('times the Task out when an injected cold start outlasts TimeoutSeconds (the Task clock runs during the start)', async () => {
    // Act
    const { described, events } = await runProbe({ Probe: [{ startDelayMs: 3_300 }] });
    // Assess: caught as States.Timeout and routed to Caught.
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output ?? '{}')).toMatchObject({ error: { Error: 'States.Timeout' } });
    expect(events.map((e) => e.type)).toContain('LambdaFunctionTimedOut');
  });
});
