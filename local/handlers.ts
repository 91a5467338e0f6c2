/**
 * Loads the very same Lambda handlers the CDK stack deploys (`lambdas/<entry>/handler.ts`) into the
 * local runtime, and gives each invocation a Lambda `Context` shaped like the real one. Handlers
 * read their environment at module load, so the caller must set `process.env` before the first
 * load; each module is then cached like a warm Lambda container.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { ApiEntry } from '../lib/api-routes';
import { SAGA_STEPS, type SagaState } from '../lib/saga-steps';

/** An API Gateway HTTP API (payload 2.0) Lambda handler. */
export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2 | string>;

/** A saga step: Step Functions invokes it with the Task's effective input. */
export type StepHandler = (input: unknown, context: Context) => Promise<unknown>;

/** Fake account used in every local ARN (the same one moto/LocalStack use). */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** Repository root, so handler paths resolve the same from tsx, vitest and a child process. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** The function name the local runtime gives an entry; CDK names differ, nothing depends on it. */
export function functionNameFor(entry: string): string {
  return `paystep-${entry}`;
}

/** A fake Lambda ARN for an entry, used for ASL substitutions and `invokedFunctionArn`. */
export function functionArnFor(entry: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionNameFor(entry)}`;
}

const moduleCache = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Imports `lambdas/<entry>/handler.ts` once and returns its `handler` export. Loading lazily (and
 * only after the caller has set the environment) mirrors a Lambda cold start: a missing setting
 * fails here, loudly, not in the middle of a payment.
 */
export async function loadHandler<T extends (...args: never[]) => unknown>(entry: string): Promise<T> {
  let loading = moduleCache.get(entry);
  if (loading === undefined) {
    const file = resolve(REPO_ROOT, 'lambdas', entry, 'handler.ts');
    loading = import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
    moduleCache.set(entry, loading);
    loading.catch(() => moduleCache.delete(entry));
  }
  const mod = await loading;
  const handler = mod.handler;
  if (typeof handler !== 'function') throw new Error(`lambdas/${entry}/handler.ts does not export a handler function`);
  const hook = (globalThis as Record<symbol, unknown>)[LOCAL_INVOCATION_HOOK];
  return (typeof hook === 'function' ? (hook as LocalInvocationHook)(entry, handler as T) : handler) as T;
}

/**
 * Where local instrumentation (bench/instrumentation.ts, for `npm run bench`) plugs in: when a
 * function is installed on globalThis under this symbol, every handler handed out is passed
 * through it, so invocations and their durations can be counted per entry like Lambda bills them.
 * Unset (always, outside benchmarks) the handler is returned untouched.
 */
export const LOCAL_INVOCATION_HOOK = Symbol.for('paystep.localInvocationHook');
export type LocalInvocationHook = <T extends (...args: never[]) => unknown>(entry: string, handler: T) => T;

/** Loader for the HTTP host: one API handler per route entry. */
export async function loadApiHandler(entry: ApiEntry): Promise<ApiHandler> {
  return await loadHandler<ApiHandler>(entry);
}

/** Loads every saga step handler, keyed by ASL state name (what aws-local-stepfunctions keys by). */
export async function loadSagaHandlers(): Promise<Record<SagaState, StepHandler>> {
  const entries = Object.entries(SAGA_STEPS) as [SagaState, string][];
  const loaded = await Promise.all(
    entries.map(async ([state, entry]) => [state, await loadHandler<StepHandler>(entry)] as const),
  );
  return Object.fromEntries(loaded) as Record<SagaState, StepHandler>;
}

export interface LambdaContextOptions {
  functionName: string;
  /** Function timeout budget: `getRemainingTimeInMillis()` counts down from it. */
  timeoutMs: number;
  awsRequestId?: string;
  memoryLimitInMB?: number;
}

/** Builds a Lambda `Context` like the Node.js runtime passes (logging and timing fields included). */
export function createLambdaContext(options: LambdaContextOptions): Context {
  const startedAt = Date.now();
  const deadline = startedAt + options.timeoutMs;
  const awsRequestId = options.awsRequestId ?? randomUUID();
  const day = new Date(startedAt).toISOString().slice(0, 10).replaceAll('-', '/');
  const deprecated = (): void => {
    throw new Error('The callback-style context methods are not supported; return a value or a Promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: deprecated,
    fail: deprecated,
    succeed: deprecated,
  };
}
