/**
 * Benchmark instrumentation inside the local stack process: counts what AWS would bill per
 * checkout. Every handler the local runtime hands out (API routes, saga steps, the webhook
 * dispatcher, the reconciliation sweep) is wrapped through local/handlers.ts' hook so each
 * invocation and its wall time are counted per entry (and per API route), and a middleware on the
 * shared DynamoDB document client counts every call with the capacity units DynamoDB reports
 * (ReturnConsumedCapacity TOTAL), attributed to the invocation that made it.
 * Used only by bench/stack-process.ts; nothing here is bundled into a Lambda.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { LOCAL_INVOCATION_HOOK, type LocalInvocationHook } from '../local/handlers';

/** DynamoDB calls of one kind made by one entry. */
export interface DynamoCallCounts {
  calls: number;
  /** Calls that ended in an error (conditional check failed, transaction canceled, ...). */
  failed: number;
  /** Write request units DynamoDB reported (failed conditional writes estimated, see below). */
  writeUnits: number;
  /** Read request units DynamoDB reported. */
  readUnits: number;
  /** Items touched (1 for single-item calls, per-item for batches and transactions). */
  items: number;
}

export interface EntryCounters {
  invocations: number;
  /** Sum of wall-clock milliseconds per invocation. */
  durationMs: number;
  /** Sum of per-invocation milliseconds rounded up to whole ms, as Lambda bills. */
  billedMs: number;
  errors: number;
  dynamodb: Record<string, DynamoCallCounts>;
}

export interface CounterSnapshot {
  takenAt: string;
  sinceMs: number;
  /** Keyed by `<entry>` or, for API handlers, `<entry> <routeKey>`; `(outside a handler)` for the rest. */
  entries: Record<string, EntryCounters>;
}

const OUTSIDE = '(outside a handler)';
const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

let entries = new Map<string, EntryCounters>();
let since = Date.now();
const current = new AsyncLocalStorage<string>();

function countersFor(key: string): EntryCounters {
  let counters = entries.get(key);
  if (counters === undefined) {
    counters = { invocations: 0, durationMs: 0, billedMs: 0, errors: 0, dynamodb: {} };
    entries.set(key, counters);
  }
  return counters;
}

/**
 * Installs the invocation hook; must run before the stack loads any handler. Each invocation runs
 * inside an AsyncLocalStorage scope naming it, so the DynamoDB middleware can attribute calls.
 */
export function installInvocationCounting(): void {
  const hook: LocalInvocationHook = (entry, handler) => {
    const wrapped = async (...args: unknown[]): Promise<unknown> => {
      const event = args[0] as { routeKey?: unknown } | undefined;
      const key = typeof event?.routeKey === 'string' ? `${entry} ${event.routeKey}` : entry;
      const counters = countersFor(key);
      counters.invocations += 1;
      const started = performance.now();
      try {
        return await current.run(key, () => (handler as unknown as (...a: unknown[]) => unknown)(...args));
      } catch (error) {
        counters.errors += 1;
        throw error;
      } finally {
        const elapsed = performance.now() - started;
        counters.durationMs += elapsed;
        counters.billedMs += Math.max(1, Math.ceil(elapsed));
      }
    };
    return wrapped as unknown as typeof handler;
  };
  (globalThis as Record<symbol, unknown>)[LOCAL_INVOCATION_HOOK] = hook;
}

/** The slice of an AWS SDK v3 client we need: its middleware stack. */
interface ClientWithMiddleware {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
      options: { step: 'initialize'; name: string; priority?: 'low' },
    ): void;
  };
}

/**
 * Counts every DynamoDB call made through `client` (the shared document client of
 * lambdas/shared/wiring.ts). Asks DynamoDB for ReturnConsumedCapacity TOTAL (DynamoDB Local
 * answers with the same unit arithmetic as the service). A failed conditional write still costs
 * on AWS; its units are estimated as 1 per item written (2 per item in a transaction).
 */
export function countDynamoDbCalls(client: ClientWithMiddleware): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'UnknownCommand';
      const input = args.input;
      if (input.ReturnConsumedCapacity === undefined) input.ReturnConsumedCapacity = 'TOTAL';
      const counters = countersFor(current.getStore() ?? OUTSIDE);
      const calls = (counters.dynamodb[command] ??= { calls: 0, failed: 0, writeUnits: 0, readUnits: 0, items: 0 });
      calls.calls += 1;
      calls.items += itemCount(command, input);
      try {
        const result = await next(args);
        const consumed = result.output.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined;
        for (const row of Array.isArray(consumed) ? consumed : consumed !== undefined ? [consumed] : []) {
          const total = row.CapacityUnits ?? 0;
          const write = row.WriteCapacityUnits ?? (WRITE_COMMANDS.has(command) ? total : 0);
          const read = row.ReadCapacityUnits ?? (WRITE_COMMANDS.has(command) ? 0 : total);
          calls.writeUnits += write;
          calls.readUnits += read;
        }
        return result;
      } catch (error) {
        calls.failed += 1;
        if (WRITE_COMMANDS.has(command))
          calls.writeUnits += itemCount(command, input) * (command === 'TransactWriteItemsCommand' ? 2 : 1);
        throw error;
      }
    },
    { step: 'initialize', name: 'paystepBenchDynamoDbCounter', priority: 'low' },
  );
}

interface ConsumedCapacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

function itemCount(command: string, input: Record<string, unknown>): number {
  if (command === 'TransactWriteItemsCommand' || command === 'TransactGetItemsCommand') {
    return Array.isArray(input.TransactItems) ? input.TransactItems.length : 1;
  }
  if (command === 'BatchWriteItemCommand' || command === 'BatchGetItemCommand') {
    const requests = input.RequestItems as Record<string, unknown[] | { Keys?: unknown[] }> | undefined;
    let count = 0;
    for (const value of Object.values(requests ?? {})) count += Array.isArray(value) ? value.length : (value.Keys?.length ?? 0);
    return count;
  }
  return 1;
}

/** A copy of the counters since the last reset. */
export function snapshotCounters(): CounterSnapshot {
  return {
    takenAt: new Date().toISOString(),
    sinceMs: Date.now() - since,
    entries: structuredClone(Object.fromEntries(entries)),
  };
}

/** Starts a new measurement window. */
export function resetCounters(): void {
  entries = new Map();
  since = Date.now();
}
