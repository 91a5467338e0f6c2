/**
 * The local Step Functions endpoint: an HTTP server speaking the AWS JSON 1.0 subset that
 * `@aws-sdk/client-sfn` uses (StartExecution, DescribeExecution, GetExecutionHistory,
 * ListExecutions, StopExecution, DescribeStateMachine), running each execution of the one saga
 * definition (statemachines/checkout.asl.json, substituted the way CDK's `definitionSubstitutions`
 * does) with aws-local-stepfunctions. Each Task calls the same Lambda handler the stack deploys,
 * with Lambda's JSON round-trip and Lambda's error shape, so Retry/Catch behave as on AWS.
 *
 * Executions live in memory: a restart of the local stack forgets running executions and their
 * history (DynamoDB keeps the checkouts; the reconciliation sweep finishes what they left).
 *
 * `.waitForTaskToken` (which aws-local-stepfunctions does not implement) is provided here, as AWS
 * does it: a Task whose Resource is `arn:aws:states:::lambda:invoke.waitForTaskToken` gets a fresh
 * token as `$$.Task.Token`, its function is invoked with it, and the Task completes only when
 * SendTaskSuccess / SendTaskFailure arrives on this endpoint (SendTaskHeartbeat resets the
 * heartbeat clock); no heartbeat within HeartbeatSeconds fails it with States.HeartbeatTimeout,
 * no result within TimeoutSeconds with States.Timeout (both overridable per state, compressed).
 *
 * `$$.State.Name` and `$$.State.EnteredTime` resolve as on AWS (entry time of the current state,
 * unchanged across its retries). `invocationFaults` injects what the Lambda service does before
 * a handler runs, which a one-process runtime never shows: a start delay (a cold start: init in
 * the VPC, secrets read through the NAT), counted inside the Task's TimeoutSeconds as on AWS, and
 * a pre-invocation error (`Lambda.TooManyRequestsException`, `Lambda.ResourceNotReadyException`,
 * ...), which fails the attempt with that error name without running the handler.
 */
import './polyfills';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { CHECKOUT_STATE_MACHINE_FILE, SAGA_STEPS } from '../lib/saga-steps';
import { createLambdaContext, functionArnFor, LOCAL_ACCOUNT_ID, LOCAL_REGION, REPO_ROOT, type StepHandler } from './handlers';
import { closeServer } from './http-host';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One history event as GetExecutionHistory returns it (timestamp as a Date internally). */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: Date;
  type: string;
  [details: string]: unknown;
}

export interface EmulatedExecution {
  executionArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  history: HistoryEvent[];
  /** Settles when the execution reaches a terminal status (never rejects). */
  done: Promise<void>;
  abort(): void;
}

export interface StartStepFunctionsEmulatorOptions {
  port: number;
  host?: string;
  /** ASL file, relative to the repository root; defaults to the checkout saga. */
  aslFile?: string;
  /** Inline definition instead of a file (tests). Substitutions are applied to it too. */
  definition?: string | object;
  /** Task state name -> handler; the function behind `${<State>FunctionArn}`. */
  handlers: Record<string, StepHandler>;
  /**
   * CDK-style substitutions. Defaults to `<State>FunctionArn` -> fake Lambda ARN for every state in
   * SAGA_STEPS and every key of `handlers`.
   */
  substitutions?: Record<string, string>;
  /** Per state: milliseconds to wait before each retry instead of IntervalSeconds/BackoffRate. */
  retryIntervalOverrides?: Record<string, number | number[]>;
  stateMachineName?: string;
  /** Lambda budget for context.getRemainingTimeInMillis(); default: the Task's TimeoutSeconds + 5 s. */
  lambdaTimeoutMs?: number;
  /**
   * Per `.waitForTaskToken` state: wait limits in ms instead of the ASL's HeartbeatSeconds /
   * TimeoutSeconds (local runs compress "hours" to seconds). 0 disables a limit.
   */
  waitForTaskTokenTimeouts?: Record<string, { timeoutMs?: number; heartbeatMs?: number }>;
  /**
   * Per Task state: the faults of its invocations in order (the Nth entry applies to the Nth
   * invocation of that state by this emulator, across executions and retries; later invocations
   * run clean). See InvocationFault.
   */
  invocationFaults?: Record<string, InvocationFault[]>;
  /** Passed to aws-local-stepfunctions' validator (asl-validator). */
  validationOptions?: { checkArn?: boolean; checkPaths?: boolean; noValidate?: boolean };
  log?: (line: string) => void;
}

/** What the Lambda service does to one invocation before the handler runs. */
export interface InvocationFault {
  /** Milliseconds before the handler starts (a cold start); the Task's timeout is already running. */
  startDelayMs?: number;
  /** Fail the invocation with this error name (after startDelayMs) without running the handler. */
  preInvocationError?: string;
}

/** Parses `PAYSTEP_SFN_INVOCATION_FAULTS` (JSON: state name -> InvocationFault[]); throws on a malformed value. */
export function parseInvocationFaults(text: string | undefined): Record<string, InvocationFault[]> | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const parsed: unknown = JSON.parse(text);
  if (!isRecord(parsed)) throw new Error('PAYSTEP_SFN_INVOCATION_FAULTS must be a JSON object of state name -> fault list');
  const faults: Record<string, InvocationFault[]> = {};
  for (const [state, list] of Object.entries(parsed)) {
    if (!Array.isArray(list)) throw new Error(`PAYSTEP_SFN_INVOCATION_FAULTS.${state} must be a list`);
    faults[state] = list.map((entry: unknown, index) => {
      if (!isRecord(entry)) throw new Error(`PAYSTEP_SFN_INVOCATION_FAULTS.${state}[${index}] must be an object`);
      const { startDelayMs, preInvocationError } = entry;
      if (startDelayMs !== undefined && (typeof startDelayMs !== 'number' || !(startDelayMs >= 0))) {
        throw new Error(`PAYSTEP_SFN_INVOCATION_FAULTS.${state}[${index}].startDelayMs must be a number >= 0`);
      }
      if (preInvocationError !== undefined && typeof preInvocationError !== 'string') {
        throw new Error(`PAYSTEP_SFN_INVOCATION_FAULTS.${state}[${index}].preInvocationError must be a string`);
      }
      return {
        ...(startDelayMs !== undefined ? { startDelayMs } : {}),
        ...(preInvocationError !== undefined ? { preInvocationError } : {}),
      };
    });
  }
  return faults;
}

export interface StepFunctionsEmulator {
  url: string;
  port: number;
  stateMachineArn: string;
  executions: ReadonlyMap<string, EmulatedExecution>;
  /** Aborts running executions (after `graceMs` to let them finish) and closes the server. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/** An SFN API error: HTTP 400 with `{"__type": name, "message"}`, which the SDK turns into the named exception. */
class SfnApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** The local state machine's name (the one ARN `npm start` gives the handlers as STATE_MACHINE_ARN). */
export const DEFAULT_STATE_MACHINE_NAME = 'paystep-checkout';

/** `arn:aws:states:us-east-1:000000000000:stateMachine:<name>`. */
export function stateMachineArnFor(name: string = DEFAULT_STATE_MACHINE_NAME): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`;
}

/** Mirrors the CDK stack: a saga Lambda may run this long past its Task's TimeoutSeconds. */
const LAMBDA_TIMEOUT_MARGIN_SECONDS = 5;
const EXECUTION_NAME = /^[0-9A-Za-z_-]{1,80}$/;
const MAX_INPUT_BYTES = 256 * 1024;

/**
 * Reads the ASL and replaces every `${Key}` the way CloudFormation's DefinitionSubstitutions does
 * (plain text replacement before parsing). Fails on a placeholder left unresolved, which on AWS
 * would be a broken deployment.
 */
export function substituteDefinition(text: string, substitutions: Record<string, string>): StateMachineDefinition {
  let result = text;
  for (const [key, value] of Object.entries(substitutions)) result = result.replaceAll(`\${${key}}`, value);
  const leftover = /\$\{([A-Za-z0-9_]+)\}/.exec(result);
  if (leftover !== null) throw new Error(`State machine definition has an unresolved substitution \${${leftover[1]}}`);
  return JSON.parse(result) as StateMachineDefinition;
}

/** `<State>FunctionArn` -> fake Lambda ARN, for every saga step (and any extra handler state). */
export function defaultSubstitutions(stateNames: Iterable<string>): Record<string, string> {
  const substitutions: Record<string, string> = {};
  const steps = SAGA_STEPS as Record<string, string>;
  for (const state of new Set([...Object.keys(steps), ...stateNames])) {
    substitutions[`${state}FunctionArn`] = functionArnFor(steps[state] ?? state);
  }
  return substitutions;
}

/**
 * Starts the emulator. The SDK client points at it with `endpoint: url`; the state machine ARN to
 * use is returned (there is exactly one state machine).
 */
export async function startStepFunctionsEmulator(options: StartStepFunctionsEmulatorOptions): Promise<StepFunctionsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => console.error(line));
  const stateMachineName = options.stateMachineName ?? DEFAULT_STATE_MACHINE_NAME;
  const stateMachineArn = stateMachineArnFor(stateMachineName);
  const roleArn = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${stateMachineName}-role`;
  const creationDate = new Date();

  const rawDefinition =
    options.definition === undefined
      ? readFileSync(resolve(REPO_ROOT, options.aslFile ?? CHECKOUT_STATE_MACHINE_FILE), 'utf8')
      : typeof options.definition === 'string'
        ? options.definition
        : JSON.stringify(options.definition);
  const substitutions = options.substitutions ?? defaultSubstitutions(Object.keys(options.handlers));
  const definition = substituteDefinition(rawDefinition, substitutions);
  const stateMachine = new StateMachine(definition, {
    validationOptions: { checkArn: true, checkPaths: true, ...options.validationOptions },
  });
  provideStateContext(stateMachine);
  const taskStates = collectTaskStates(definition);
  const missing = [...taskStates.keys()].filter((state) => options.handlers[state] === undefined);
  if (missing.length > 0) throw new Error(`No local handler for Task state(s): ${missing.join(', ')}`);
  const taskTokens = new TaskTokenRegistry();
  const localHandlers = buildLocalHandlers(
    options.handlers,
    taskStates,
    options.lambdaTimeoutMs,
    taskTokens,
    options.waitForTaskTokenTimeouts ?? {},
    invocationFaultSource(options.invocationFaults ?? {}),
  );

  const executions = new Map<string, EmulatedExecution>();

  function startExecution(body: Record<string, unknown>): Record<string, unknown> {
    if (body.stateMachineArn !== stateMachineArn) {
      throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`);
    }
    const name = body.name === undefined ? randomUUID() : String(body.name);
    if (!EXECUTION_NAME.test(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
    const input = body.input === undefined ? '{}' : String(body.input);
    if (Buffer.byteLength(input) > MAX_INPUT_BYTES) throw new SfnApiError('InvalidExecutionInput', 'Input exceeds 262144 bytes');
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new SfnApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${input}'`);
    }
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:${stateMachineName}:${name}`;
    const existing = executions.get(executionArn);
    if (existing !== undefined) {
      // Standard workflows: same name + same input while RUNNING is idempotent; anything else is a clash.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: toEpochSeconds(existing.startDate) };
      }
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const execution = runExecution(executionArn, name, input, parsedInput);
    executions.set(executionArn, execution);
    return { executionArn, startDate: toEpochSeconds(execution.startDate) };
  }

  function runExecution(executionArn: string, name: string, input: string, parsedInput: unknown): EmulatedExecution {
    const startDate = new Date();
    const run = stateMachine.run(parsedInput as never, {
      overrides: {
        taskResourceLocalHandlers: localHandlers,
        ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
      },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: roleArn, RedriveCount: 0 },
        StateMachine: { Id: stateMachineArn, Name: stateMachineName },
        // Replaced per invocation by a fresh token (buildLocalHandlers) for `.waitForTaskToken` Tasks.
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
        // Filled in on each state entry (provideStateContext).
        State: { Name: '', EnteredTime: '' },
      } as never,
    });
    const history = createHistoryRecorder(taskStates, roleArn);
    const execution: EmulatedExecution = {
      executionArn,
      name,
      input,
      status: 'RUNNING',
      startDate,
      history: history.events,
      done: Promise.resolve(),
      abort: () => run.abort(),
    };
    const consumeLogs = (async () => {
      for await (const log of run.eventLogs) history.record(log);
    })();
    execution.done = (async () => {
      try {
        const output = await run.result;
        execution.status = 'SUCCEEDED';
        execution.output = JSON.stringify(output);
      } catch (error) {
        const name = error instanceof Error ? error.name : '';
        if (name === 'ExecutionAbortedError') {
          execution.status = 'ABORTED';
        } else if (name === 'ExecutionTimeoutError') {
          execution.status = 'TIMED_OUT';
          execution.error = 'States.Timeout';
        } else {
          execution.status = 'FAILED';
          const cause = error instanceof Error ? error.cause : undefined;
          execution.error = cause instanceof Error ? cause.name : 'States.Runtime';
          execution.cause = cause instanceof Error ? cause.message : String(error);
          if (!(cause instanceof Error) || cause.name === 'States.Runtime') {
            log(
              JSON.stringify({
                level: 'ERROR',
                message: 'execution failed',
                executionArn,
                error: execution.error,
                cause: execution.cause,
              }),
            );
          }
        }
      }
      execution.stopDate = new Date();
      await Promise.race([consumeLogs, new Promise((r) => setTimeout(r, 50))]);
      history.finish(execution);
    })();
    return execution;
  }

  function findExecution(body: Record<string, unknown>): EmulatedExecution {
    const arn = String(body.executionArn ?? '');
    const execution = executions.get(arn);
    if (execution === undefined) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    StartExecution: startExecution,
    DescribeExecution: (body) => describeExecution(findExecution(body), stateMachineArn),
    SendTaskSuccess: (body) => {
      let output: unknown;
      try {
        output = JSON.parse(String(body.output ?? 'null'));
      } catch {
        throw new SfnApiError('InvalidOutput', 'output is not valid JSON');
      }
      taskTokens.settle(String(body.taskToken ?? ''), { ok: true, output });
      return {};
    },
    SendTaskFailure: (body) => {
      taskTokens.settle(String(body.taskToken ?? ''), {
        ok: false,
        error: String(body.error ?? 'States.TaskFailed'),
        cause: String(body.cause ?? ''),
      });
      return {};
    },
    SendTaskHeartbeat: (body) => {
      taskTokens.heartbeat(String(body.taskToken ?? ''));
      return {};
    },
    GetExecutionHistory: (body) => getExecutionHistory(findExecution(body), body),
    ListExecutions: (body) => {
      if (body.stateMachineArn !== stateMachineArn) {
        throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`);
      }
      const filter = body.statusFilter as ExecutionStatus | undefined;
      const all = [...executions.values()]
        .filter((e) => filter === undefined || e.status === filter)
        .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
        .map((e) => ({
          executionArn: e.executionArn,
          stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: toEpochSeconds(e.startDate),
          ...(e.stopDate ? { stopDate: toEpochSeconds(e.stopDate) } : {}),
        }));
      const { page, nextToken } = paginate(all, body, 100);
      return { executions: page, ...(nextToken ? { nextToken } : {}) };
    },
    StopExecution: (body) => {
      const execution = findExecution(body);
      if (execution.status === 'RUNNING') {
        if (body.error !== undefined) execution.error = String(body.error);
        if (body.cause !== undefined) execution.cause = String(body.cause);
        execution.abort();
      }
      return { stopDate: toEpochSeconds(execution.stopDate ?? new Date()) };
    },
    DescribeStateMachine: (body) => {
      if (body.stateMachineArn !== stateMachineArn) {
        throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`);
      }
      return {
        stateMachineArn,
        name: stateMachineName,
        status: 'ACTIVE',
        definition: JSON.stringify(definition),
        roleArn,
        type: 'STANDARD',
        creationDate: toEpochSeconds(creationDate),
      };
    },
  };

  const server = createServer((req, res) => {
    handleApiRequest(req, res, operations).catch((error: unknown) => {
      log(JSON.stringify({ level: 'ERROR', message: 'SFN emulator failed', error: String(error) }));
      if (!res.headersSent) writeJson(res, 500, { __type: 'InternalFailure', message: 'Internal failure' });
    });
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port, host, () => {
      server.removeListener('error', rejectListen);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const stop = async (stopOptions: { graceMs?: number } = {}): Promise<void> => {
    await closeServer(server);
    taskTokens.clearTimers();
    const running = [...executions.values()].filter((e) => e.status === 'RUNNING');
    if (running.length === 0) return;
    const grace = stopOptions.graceMs ?? 0;
    if (grace > 0) await Promise.race([Promise.all(running.map((e) => e.done)), new Promise((r) => setTimeout(r, grace))]);
    for (const execution of running) if (execution.status === 'RUNNING') execution.abort();
    await Promise.all(running.map((e) => e.done));
  };

  return { url: `http://${host}:${port}`, port, stateMachineArn, executions, stop };
}

// ---- Protocol ------------------------------------------------------------------------------------

async function handleApiRequest(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Record<string, (body: Record<string, unknown>) => unknown>,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  const target = String(req.headers['x-amz-target'] ?? '');
  if (req.method !== 'POST' || !target.startsWith('AWSStepFunctions.')) {
    writeJson(res, 400, { __type: 'UnknownOperationException', message: `Unsupported request ${req.method} ${target}` });
    return;
  }
  const operation = operations[target.slice('AWSStepFunctions.'.length)];
  if (operation === undefined) {
    writeJson(res, 400, {
      __type: 'UnknownOperationException',
      message: `Operation ${target} is not supported by the local emulator`,
    });
    return;
  }
  let body: Record<string, unknown>;
  try {
    const text = Buffer.concat(chunks).toString('utf8');
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    writeJson(res, 400, { __type: 'SerializationException', message: 'Request body is not valid JSON' });
    return;
  }
  try {
    writeJson(res, 200, operation(body));
  } catch (error) {
    if (error instanceof SfnApiError) {
      writeJson(res, 400, { __type: error.type, message: error.message });
      return;
    }
    throw error;
  }
}

function writeJson(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

/** awsJson1_0 timestamps are epoch seconds (fractional). */
function toEpochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function paginate<T>(items: T[], body: Record<string, unknown>, defaultMax: number): { page: T[]; nextToken?: string } {
  const max = typeof body.maxResults === 'number' && body.maxResults > 0 ? Math.min(body.maxResults, 1000) : defaultMax;
  const start = typeof body.nextToken === 'string' ? Number.parseInt(body.nextToken, 10) || 0 : 0;
  const page = items.slice(start, start + max);
  return start + max < items.length ? { page, nextToken: String(start + max) } : { page };
}

function describeExecution(execution: EmulatedExecution, stateMachineArn: string): Record<string, unknown> {
  return {
    executionArn: execution.executionArn,
    stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: toEpochSeconds(execution.startDate),
    ...(execution.stopDate ? { stopDate: toEpochSeconds(execution.stopDate) } : {}),
    input: execution.input,
    inputDetails: { included: true },
    ...(execution.output !== undefined ? { output: execution.output, outputDetails: { included: true } } : {}),
    ...(execution.error !== undefined ? { error: execution.error } : {}),
    ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
}

function getExecutionHistory(execution: EmulatedExecution, body: Record<string, unknown>): Record<string, unknown> {
  const includeData = body.includeExecutionData !== false;
  let events = execution.history.map((event) => {
    const { timestamp, ...rest } = event;
    const serialized: Record<string, unknown> = { ...rest, timestamp: toEpochSeconds(timestamp) };
    if (!includeData) stripData(serialized);
    return serialized;
  });
  if (body.reverseOrder === true) events = events.reverse();
  const { page, nextToken } = paginate(events, body, 100);
  return { events: page, ...(nextToken ? { nextToken } : {}) };
}

function stripData(event: Record<string, unknown>): void {
  for (const value of Object.values(event)) {
    if (typeof value === 'object' && value !== null) {
      const details = value as Record<string, unknown>;
      delete details.input;
      delete details.output;
    }
  }
}

// ---- Tasks -------------------------------------------------------------------------------------

type TaskKind = 'lambda' | 'lambda:invoke' | 'lambda:invoke.waitForTaskToken';

interface TaskInfo {
  kind: TaskKind;
  /** The Task's TimeoutSeconds (local engine default: 60). */
  timeoutSeconds: number;
  /** HeartbeatSeconds (`.waitForTaskToken` Tasks); undefined: none. */
  heartbeatSeconds?: number;
}

/** What `$$.Task.Token` resolves to in the engine; each invocation swaps in its own token. */
const TASK_TOKEN_PLACEHOLDER = '__paystep_local_task_token__';
const WAIT_FOR_TASK_TOKEN_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

type TaskResult = { ok: true; output: unknown } | { ok: false; error: string; cause: string };

interface PendingTask {
  resolve: (result: TaskResult) => void;
  heartbeatMs: number;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
}

/**
 * The emulator's task tokens: one pending entry per waiting Task, settled by SendTaskSuccess /
 * SendTaskFailure or by its own heartbeat / overall timeout. A token used or expired answers
 * TaskTimedOut, an unknown one InvalidToken, as the Step Functions API does.
 */
class TaskTokenRegistry {
  private readonly pending = new Map<string, PendingTask>();
  private readonly finished = new Set<string>();

  /** Registers a wait; the promise settles with the Task's result. */
  wait(token: string, limits: { timeoutMs: number; heartbeatMs: number }): Promise<TaskResult> {
    return new Promise<TaskResult>((resolve) => {
      const entry: PendingTask = { resolve, heartbeatMs: limits.heartbeatMs };
      this.pending.set(token, entry);
      if (limits.timeoutMs > 0) {
        entry.timeoutTimer = setTimeout(
          () => this.expire(token, 'States.Timeout', 'The task did not complete within its TimeoutSeconds'),
          limits.timeoutMs,
        );
      }
      this.armHeartbeat(token, entry);
    });
  }

  settle(token: string, result: TaskResult): void {
    const entry = this.take(token);
    entry.resolve(result);
  }

  heartbeat(token: string): void {
    const entry = this.pending.get(token);
    if (entry === undefined)
      this.take(token); // throws the right API error
    else this.armHeartbeat(token, entry);
  }

  /** Forgets a wait whose function failed before it could be resumed. */
  cancel(token: string): void {
    const entry = this.pending.get(token);
    if (entry === undefined) return;
    this.clear(entry);
    this.pending.delete(token);
    this.finished.add(token);
  }

  clearTimers(): void {
    for (const entry of this.pending.values()) this.clear(entry);
  }

  private expire(token: string, error: string, cause: string): void {
    const entry = this.pending.get(token);
    if (entry === undefined) return;
    this.take(token).resolve({ ok: false, error, cause });
  }

  private armHeartbeat(token: string, entry: PendingTask): void {
    if (entry.heartbeatTimer !== undefined) clearTimeout(entry.heartbeatTimer);
    if (entry.heartbeatMs > 0) {
      entry.heartbeatTimer = setTimeout(
        () => this.expire(token, 'States.HeartbeatTimeout', 'No heartbeat within HeartbeatSeconds'),
        entry.heartbeatMs,
      );
    }
  }

  private take(token: string): PendingTask {
    const entry = this.pending.get(token);
    if (entry === undefined) {
      if (this.finished.has(token))
        throw new SfnApiError('TaskTimedOut', 'Task Timed Out: the task was already completed or timed out');
      throw new SfnApiError('InvalidToken', 'Invalid Token');
    }
    this.clear(entry);
    this.pending.delete(token);
    this.finished.add(token);
    return entry;
  }

  private clear(entry: PendingTask): void {
    if (entry.heartbeatTimer !== undefined) clearTimeout(entry.heartbeatTimer);
    if (entry.timeoutTimer !== undefined) clearTimeout(entry.timeoutTimer);
  }
}

/** The next fault of a state's invocations (undefined: run clean). */
type InvocationFaultSource = (state: string) => InvocationFault | undefined;

function invocationFaultSource(faults: Record<string, InvocationFault[]>): InvocationFaultSource {
  const counts = new Map<string, number>();
  return (state) => {
    const index = counts.get(state) ?? 0;
    counts.set(state, index + 1);
    return faults[state]?.[index];
  };
}

/** Applies a fault before the handler: the start delay, then the pre-invocation error if any. */
async function applyInvocationFault(fault: InvocationFault | undefined): Promise<void> {
  if (fault === undefined) return;
  if (fault.startDelayMs !== undefined && fault.startDelayMs > 0)
    await new Promise((resolveDelay) => setTimeout(resolveDelay, fault.startDelayMs));
  if (fault.preInvocationError !== undefined) {
    const errorType = fault.preInvocationError;
    const errorMessage = `Injected by the local emulator: the invocation failed before the function ran (${errorType})`;
    throw new LambdaFunctionError(errorType, JSON.stringify({ errorType, errorMessage }));
  }
}

/**
 * `$$.State.Name` / `$$.State.EnteredTime`, which aws-local-stepfunctions 3.0.0 leaves out: the
 * engine copies the run's context shallowly, so the `State` object given in the run context is
 * the one the JSONPath sees; it is updated when the engine announces a state entry (synchronously,
 * before the state's Parameters are evaluated). Retries do not re-enter, so EnteredTime stays.
 */
function provideStateContext(stateMachine: StateMachine): void {
  type EventLogger = { dispatchStateEnteredEvent: (name: string, type: string, input: unknown) => void };
  type RunOptions = { eventLogger: EventLogger; runOptions?: { context?: { State?: { Name: string; EnteredTime: string } } } };
  const engine = stateMachine as unknown as {
    execute: (input: unknown, options: RunOptions, cleanup: unknown) => Promise<unknown>;
  };
  if (typeof engine.execute !== 'function') throw new Error('aws-local-stepfunctions changed: StateMachine.execute is gone');
  const execute = engine.execute.bind(stateMachine);
  engine.execute = (input, runOptions, cleanup) => {
    const logger = runOptions.eventLogger;
    const announce = logger.dispatchStateEnteredEvent.bind(logger);
    logger.dispatchStateEnteredEvent = (name, type, stateInput) => {
      const state = runOptions.runOptions?.context?.State;
      if (state !== undefined) {
        state.Name = name;
        state.EnteredTime = new Date().toISOString();
      }
      announce(name, type, stateInput);
    };
    return execute(input, runOptions, cleanup);
  };
}

/** Copies `value` with every string equal to the placeholder replaced by `token`. */
function withTaskToken(value: unknown, token: string): unknown {
  if (value === TASK_TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((entry) => withTaskToken(entry, token));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, withTaskToken(entry, token)]));
  return value;
}

/** Task state name -> how the Resource calls Lambda (direct ARN, or the lambda:invoke integration). */
function collectTaskStates(
  definition: { States: Record<string, unknown> },
  into = new Map<string, TaskInfo>(),
): Map<string, TaskInfo> {
  for (const [name, raw] of Object.entries(definition.States)) {
    const state = raw as Record<string, unknown>;
    if (state.Type === 'Task') {
      const resource = String(state.Resource ?? '');
      into.set(name, {
        kind:
          resource === WAIT_FOR_TASK_TOKEN_RESOURCE
            ? 'lambda:invoke.waitForTaskToken'
            : resource.startsWith('arn:aws:states:::lambda:invoke')
              ? 'lambda:invoke'
              : 'lambda',
        timeoutSeconds: typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : 60,
        ...(typeof state.HeartbeatSeconds === 'number' ? { heartbeatSeconds: state.HeartbeatSeconds } : {}),
      });
    }
    for (const branch of (state.Branches as { States: Record<string, unknown> }[] | undefined) ?? [])
      collectTaskStates(branch, into);
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, unknown> } | undefined;
    if (processor !== undefined) collectTaskStates(processor, into);
  }
  return into;
}

/** An error as Step Functions sees a Lambda failure: Error = errorType, Cause = the runtime's JSON. */
class LambdaFunctionError extends Error {
  constructor(errorType: string, cause: string) {
    super(cause);
    this.name = errorType;
  }
}

/**
 * Wraps each handler like the Lambda service does: JSON round-trip of the payload and the result, a
 * fresh Context per invocation, and a thrown error reported as `{errorType, errorMessage, trace}`
 * (Error = `error.name`, so `ErrorEquals: ["PaymentDeclinedError"]` matches as on AWS).
 */
function buildLocalHandlers(
  handlers: Record<string, StepHandler>,
  taskStates: Map<string, TaskInfo>,
  lambdaTimeoutMs: number | undefined,
  taskTokens: TaskTokenRegistry,
  waitTimeouts: Record<string, { timeoutMs?: number; heartbeatMs?: number }>,
  nextFault: InvocationFaultSource,
): LocalTaskHandlers {
  const steps = SAGA_STEPS as Record<string, string>;
  const wrapped: LocalTaskHandlers = {};
  for (const [state, { kind, timeoutSeconds, heartbeatSeconds }] of taskStates) {
    const handler = handlers[state];
    if (handler === undefined) continue;
    const functionName = `paystep-${steps[state] ?? state}`;
    if (kind === 'lambda:invoke.waitForTaskToken') {
      const limits = {
        timeoutMs: waitTimeouts[state]?.timeoutMs ?? timeoutSeconds * 1000,
        heartbeatMs: waitTimeouts[state]?.heartbeatMs ?? (heartbeatSeconds ?? 0) * 1000,
      };
      wrapped[state] = async (taskInput) => {
        await applyInvocationFault(nextFault(state));
        const token = `local-task-token-${randomUUID()}`;
        const payload = isRecord(taskInput) && 'Payload' in taskInput ? taskInput.Payload : taskInput;
        const result = taskTokens.wait(token, limits);
        const context = createLambdaContext({
          functionName,
          timeoutMs: lambdaTimeoutMs ?? (30 + LAMBDA_TIMEOUT_MARGIN_SECONDS) * 1000,
        });
        try {
          await handler(JSON.parse(JSON.stringify(withTaskToken(payload ?? null, token))) as unknown, context);
        } catch (error) {
          taskTokens.cancel(token);
          const errorType = error instanceof Error ? error.name : 'Error';
          const errorMessage = error instanceof Error ? error.message : String(error);
          throw new LambdaFunctionError(errorType, JSON.stringify({ errorType, errorMessage, trace: [] }));
        }
        const outcome = await result;
        if (!outcome.ok) throw new LambdaFunctionError(outcome.error, outcome.cause);
        return (outcome.output ?? null) as JSONValue;
      };
      continue;
    }
    // The stack gives each saga function its Task's timeout plus a margin, so the Task fires first.
    const timeoutMs = lambdaTimeoutMs ?? (timeoutSeconds + LAMBDA_TIMEOUT_MARGIN_SECONDS) * 1000;
    wrapped[state] = async (taskInput) => {
      await applyInvocationFault(nextFault(state));
      const payload = kind === 'lambda:invoke' && isRecord(taskInput) && 'Payload' in taskInput ? taskInput.Payload : taskInput;
      const context = createLambdaContext({ functionName, timeoutMs });
      let result: unknown;
      try {
        result = await handler(JSON.parse(JSON.stringify(payload ?? null)) as unknown, context);
      } catch (error) {
        const errorType = error instanceof Error ? error.name : 'Error';
        const errorMessage = error instanceof Error ? error.message : String(error);
        const trace = error instanceof Error && error.stack !== undefined ? error.stack.split('\n') : [];
        throw new LambdaFunctionError(errorType, JSON.stringify({ errorType, errorMessage, trace }));
      }
      const output = result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown);
      if (kind === 'lambda:invoke') {
        return {
          ExecutedVersion: '$LATEST',
          Payload: output,
          SdkHttpMetadata: { HttpHeaders: {}, HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: context.awsRequestId },
          StatusCode: 200,
        } as JSONValue;
      }
      return output as JSONValue;
    };
  }
  return wrapped;
}

type JSONValue = Parameters<StateMachine['run']>[0];
type LocalTaskHandlers = Record<string, (input: JSONValue) => Promise<JSONValue>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- History -------------------------------------------------------------------------------------

interface EngineEvent {
  type: string;
  timestamp: number;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
}

/**
 * Maps aws-local-stepfunctions' event log onto real history event types (ExecutionStarted,
 * TaskStateEntered, LambdaFunctionScheduled/Started/Succeeded/Failed/TimedOut, TaskStateExited,
 * PassStateEntered, ..., ExecutionSucceeded/Failed/Aborted/TimedOut), so tests can count state
 * transitions and retries the way they would on AWS.
 */
function createHistoryRecorder(taskStates: Map<string, TaskInfo>, roleArn: string) {
  const events: HistoryEvent[] = [];
  let terminalRecorded = false;

  const push = (type: string, timestamp: number, details: Record<string, unknown> = {}): void => {
    const id = events.length + 1;
    events.push({ id, previousEventId: id - 1, timestamp: new Date(timestamp), type, ...details });
  };
  const json = (value: unknown): string => JSON.stringify(value ?? null);
  const causeText = (cause: unknown): string =>
    typeof cause === 'string' ? cause : cause instanceof Error ? cause.message : json(cause);
  const taskPrefix = (
    name: string,
  ): { scheduled: string; started: string; succeeded: string; failed: string; timedOut: string; key: string } =>
    taskStates.get(name)?.kind === 'lambda:invoke'
      ? {
          scheduled: 'TaskScheduled',
          started: 'TaskStarted',
          succeeded: 'TaskSucceeded',
          failed: 'TaskFailed',
          timedOut: 'TaskTimedOut',
          key: 'task',
        }
      : {
          scheduled: 'LambdaFunctionScheduled',
          started: 'LambdaFunctionStarted',
          succeeded: 'LambdaFunctionSucceeded',
          failed: 'LambdaFunctionFailed',
          timedOut: 'LambdaFunctionTimedOut',
          key: 'lambdaFunction',
        };
  const schedule = (name: string, input: unknown, timestamp: number): void => {
    const p = taskPrefix(name);
    push(p.scheduled, timestamp, { [`${p.key}ScheduledEventDetails`]: { resource: name, input: json(input) } });
    push(p.started, timestamp);
  };

  const record = (event: EngineEvent): void => {
    const state = event.state;
    switch (event.type) {
      case 'ExecutionStarted':
        push('ExecutionStarted', event.timestamp, {
          executionStartedEventDetails: { input: json(event.input), inputDetails: { truncated: false }, roleArn },
        });
        return;
      case 'StateEntered':
        if (state === undefined) return;
        push(`${state.type}StateEntered`, event.timestamp, {
          stateEnteredEventDetails: { name: state.name, input: json(state.input), inputDetails: { truncated: false } },
        });
        if (state.type === 'Task') schedule(state.name, state.input, event.timestamp);
        return;
      case 'StateExited':
        if (state === undefined) return;
        if (state.type === 'Task') {
          const p = taskPrefix(state.name);
          push(p.succeeded, event.timestamp, {
            [`${p.key}SucceededEventDetails`]: { output: json(state.output), outputDetails: { truncated: false } },
          });
        }
        push(`${state.type}StateExited`, event.timestamp, {
          stateExitedEventDetails: { name: state.name, output: json(state.output), outputDetails: { truncated: false } },
        });
        return;
      case 'StateFailed':
        if (state?.type === 'Task') {
          const p = taskPrefix(state.name);
          if (event.Error === 'States.Timeout') {
            push(p.timedOut, event.timestamp, { [`${p.key}TimedOutEventDetails`]: { error: 'States.Timeout' } });
          } else {
            push(p.failed, event.timestamp, {
              [`${p.key}FailedEventDetails`]: { error: event.Error, cause: causeText(event.Cause) },
            });
          }
        }
        return;
      case 'StateRetried':
        if (state?.type === 'Task') schedule(state.name, state.input, event.timestamp);
        return;
      case 'ExecutionSucceeded':
        terminalRecorded = true;
        push('ExecutionSucceeded', event.timestamp, {
          executionSucceededEventDetails: { output: json(event.output), outputDetails: { truncated: false } },
        });
        return;
      case 'ExecutionFailed':
        terminalRecorded = true;
        push('ExecutionFailed', event.timestamp, {
          executionFailedEventDetails: { error: event.Error, cause: causeText(event.Cause) },
        });
        return;
      default:
        return;
    }
  };

  /** Aborts and timeouts are closed from the execution record, after the engine's last event. */
  const finish = (execution: EmulatedExecution): void => {
    if (terminalRecorded) return;
    const at = (execution.stopDate ?? new Date()).getTime();
    if (execution.status === 'ABORTED') {
      push('ExecutionAborted', at, {
        executionAbortedEventDetails: {
          ...(execution.error ? { error: execution.error } : {}),
          ...(execution.cause ? { cause: execution.cause } : {}),
        },
      });
    } else if (execution.status === 'TIMED_OUT') {
      push('ExecutionTimedOut', at, { executionTimedOutEventDetails: { error: 'States.Timeout' } });
    }
    terminalRecorded = true;
  };

  return { events, record: (event: unknown) => record(event as EngineEvent), finish };
}
