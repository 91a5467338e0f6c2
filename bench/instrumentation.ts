/**
 * Benchmark instrumentation inside the local stack process: counts what AWS would bill per
 * checkout. Every handler the local runtime hands out (API routes, saga steps, the webhook
 * dispatcher, the reconciliation sweep) is wrapped through local/handlers.ts' hook so each
 * invocation and its wall time are counted per entry (and per API route), and a middleware on the
 * shared DynamoDB document client counts every call with the capacity units DynamoDB reports
 * (ReturnConsumedCapacity TOTAL), attributed to the invocation that made it. Webhook deliveries
 * are counted where they leave the process (every outgoing HTTP request carrying a Standard
 * Webhooks `webhook-id` header, whichever component sends it: a saga step, the dispatcher, the
 * sweep...). Nothing here knows a state, step or function name: invocations are told apart only
 * by how they are called (an API route, a scheduled run with no event, any other invocation).
 * Used only by bench/stack-process.ts; nothing here is bundled into a Lambda.
 */
import { subscribe } from 'node:diagnostics_channel';
import { ClientRequest } from 'node:http';
import { LOCAL_INVOCATION_HOOK, type LocalInvocationHook } from '../local/handlers';
import { invocationScope, takeSpans, traceInvocation, type InvocationSpan } from './latency-trace';
import {
  awsReadUnits,
  awsWriteUnits,
  itemCount,
  kilobyteUnits,
  writeTargets,
  type ConsumedCapacity,
  type IndexKeys,
} from './capacity-units';

export { awsWriteUnits, dynamoItemBytes, dynamoValueBytes, type IndexKeys } from './capacity-units';

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
  /**
   * Read units by AWS's own rules, from the items each read returned: 1 per 4 KB read strongly
   * consistent (rounded up per item, per whole Query/Scan page), half that eventually consistent,
   * twice that in a transaction.
   */
  readUnitsAws: number;
  /**
   * Write units by AWS's own rules, counted only while sizing is on (setWriteSizing): 1 per KB of
   * the larger of the item before and after the write, twice that inside a transaction, plus the
   * index writes (gsi1 projects ALL attributes: 1 per KB of the item for each index entry put or
   * removed). The item images come from strongly consistent reads around the write.
   */
  writeUnitsAws: number;
  /** The part of writeUnitsAws spent on index entries (puts and removals, every index). */
  indexWriteUnitsAws: number;
  /** indexWriteUnitsAws per index name. */
  indexWriteUnitsAwsByIndex: Record<string, number>;
  /** Calls counted while sizing was on (the base of writeUnitsAws). */
  sizedCalls: number;
}

/**
 * How an entry is invoked: `api` (an API Gateway route), `scheduled` (a timer run with no event,
 * as EventBridge runs the dispatcher and the sweep on AWS: a fixed monthly cost, not per
 * checkout), `invoked` (any other event: a saga Task, a stream...), `outside` (no handler).
 */
export type EntryKind = 'api' | 'scheduled' | 'invoked' | 'outside';

export interface EntryCounters {
  kind: EntryKind;
  /** The API route (`GET /v1/checkouts/{id}`), for `api` entries. */
  routeKey?: string;
  /**
   * True for the `<entry> (idle)` rows: scheduled runs that wrote nothing and delivered no
   * webhook (a timer finding no work; on AWS part of the fixed schedule, not of any checkout).
   */
  idle?: boolean;
  invocations: number;
  /** Sum of wall-clock milliseconds per invocation. */
  durationMs: number;
  /** Sum of per-invocation milliseconds rounded up to whole ms, as Lambda bills. */
  billedMs: number;
  errors: number;
  dynamodb: Record<string, DynamoCallCounts>;
  /** Webhook delivery attempts this entry's invocations sent (HTTP requests with a `webhook-id`). */
  webhookDeliveries: number;
}

/** Every webhook delivery attempt that left the stack process, whoever sent it. */
export interface WebhookDeliveryCounts {
  attempts: number;
  /** Attempts answered 2xx. */
  delivered: number;
  /** Distinct `webhook-id` values attempted (attempts - distinct = retries and duplicates). */
  distinctWebhookIds: number;
}

export interface CounterSnapshot {
  takenAt: string;
  sinceMs: number;
  /**
   * Keyed by `<entry>` or, for API handlers, `<entry> <routeKey>`; `<entry> (idle)` for scheduled
   * runs that found no work; `(outside a handler)` for the rest.
   */
  entries: Record<string, EntryCounters>;
  webhooks: WebhookDeliveryCounts;
  /** Handler invocations of the window with their DynamoDB and outbound HTTP time (bench/latency-trace.ts). */
  spans?: InvocationSpan[];
}

const OUTSIDE = '(outside a handler)';
const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

/** Reads one item by key, strongly consistent, outside the counted client (sizing only). */
export type ItemReader = (tableName: string, key: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>;

let sizing: { read: ItemReader; indexes: readonly IndexKeys[] } | undefined;

/** Turns AWS write-unit sizing on (with the reader for the before/after images) or off (undefined). */
export function setWriteSizing(read: ItemReader | undefined, indexes: readonly IndexKeys[] = []): void {
  sizing = read === undefined ? undefined : { read, indexes };
}

let entries = new Map<string, EntryCounters>();
let since = Date.now();
let webhooks = { attempts: 0, delivered: 0, ids: new Set<string>() };

/** The invocation in progress: where its DynamoDB calls and deliveries are counted. */
interface Invocation {
  counters: EntryCounters;
  /** Set once it wrote or delivered: a scheduled run that did neither is idle. */
  worked: boolean;
  /** Set once it returned (or threw). */
  ended?: boolean;
  /** Run once it has ended (afterInvocation). */
  onEnd?: (() => void)[];
}

/** Runs `task` once `invocation` has ended: at once when it has, or when there is none. */
function afterInvocation(invocation: Invocation | undefined, task: () => void): void {
  if (invocation === undefined || invocation.ended === true) task();
  else (invocation.onEnd ??= []).push(task);
}

function emptyCounters(kind: EntryKind, routeKey?: string): EntryCounters {
  return {
    kind,
    ...(routeKey !== undefined ? { routeKey } : {}),
    invocations: 0,
    durationMs: 0,
    billedMs: 0,
    errors: 0,
    dynamodb: {},
    webhookDeliveries: 0,
  };
}

function countersFor(key: string, kind: EntryKind, routeKey?: string): EntryCounters {
  let counters = entries.get(key);
  if (counters === undefined) {
    counters = emptyCounters(kind, routeKey);
    entries.set(key, counters);
  }
  return counters;
}

/** Where a call outside any invocation is counted. */
function activeCounters(): { counters: EntryCounters; invocation?: Invocation } {
  const invocation = invocationScope.getStore()?.counting as Invocation | undefined;
  return invocation !== undefined ? { counters: invocation.counters, invocation } : { counters: countersFor(OUTSIDE, 'outside') };
}

/** How an invocation was called, from its arguments alone. */
export function invocationKind(args: readonly unknown[]): { kind: EntryKind; routeKey?: string } {
  const event = args[0] as { routeKey?: unknown; 'detail-type'?: unknown } | undefined;
  if (typeof event?.routeKey === 'string') return { kind: 'api', routeKey: event.routeKey };
  if (event === undefined || event === null || event['detail-type'] === 'Scheduled Event') return { kind: 'scheduled' };
  return { kind: 'invoked' };
}

function addCallCounts(into: DynamoCallCounts, from: DynamoCallCounts): void {
  for (const field of [
    'calls',
    'failed',
    'writeUnits',
    'readUnits',
    'items',
    'readUnitsAws',
    'writeUnitsAws',
    'indexWriteUnitsAws',
    'sizedCalls',
  ] as const) {
    into[field] += from[field];
  }
  for (const [index, units] of Object.entries(from.indexWriteUnitsAwsByIndex)) {
    into.indexWriteUnitsAwsByIndex[index] = (into.indexWriteUnitsAwsByIndex[index] ?? 0) + units;
  }
}

/** Adds one invocation's own counters into its entry's row. */
function mergeInto(target: EntryCounters, from: EntryCounters): void {
  target.invocations += from.invocations;
  target.durationMs += from.durationMs;
  target.billedMs += from.billedMs;
  target.errors += from.errors;
  target.webhookDeliveries += from.webhookDeliveries;
  for (const [command, calls] of Object.entries(from.dynamodb)) {
    addCallCounts((target.dynamodb[command] ??= emptyCallCounts()), calls);
  }
}

/**
 * Installs the invocation hook; must run before the stack loads any handler. Each invocation runs
 * inside an AsyncLocalStorage scope naming it (latency-trace.ts' invocationScope, shared with its span), so the DynamoDB middleware can attribute calls.
 */
export function installInvocationCounting(): void {
  const hook: LocalInvocationHook = (entry, handler) => {
    const wrapped = async (...args: unknown[]): Promise<unknown> => {
      const { kind, routeKey } = invocationKind(args);
      const key = routeKey !== undefined ? `${entry} ${routeKey}` : entry;
      // Counted on its own, then added to `<entry>` or `<entry> (idle)` once it is known whether it worked.
      const invocation: Invocation = { counters: emptyCounters(kind, routeKey), worked: false };
      invocation.counters.invocations = 1;
      const started = performance.now();
      try {
        return await invocationScope.run({ counting: invocation }, () =>
          traceInvocation(key, kind, async () => await (handler as unknown as (...a: unknown[]) => unknown)(...args)),
        );
      } catch (error) {
        invocation.counters.errors += 1;
        throw error;
      } finally {
        const elapsed = performance.now() - started;
        invocation.counters.durationMs += elapsed;
        invocation.counters.billedMs += Math.max(1, Math.ceil(elapsed));
        const idle = kind === 'scheduled' && !invocation.worked;
        const target = countersFor(idle ? `${key} (idle)` : key, kind, routeKey);
        if (idle) target.idle = true;
        mergeInto(target, invocation.counters);
        // Anything it left running is counted on the entry's row from now on.
        invocation.counters = target;
        invocation.worked = true;
        invocation.ended = true;
        const pending = invocation.onEnd ?? [];
        invocation.onEnd = undefined;
        for (const task of pending) task();
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
      const { counters, invocation } = activeCounters();
      if (invocation !== undefined && WRITE_COMMANDS.has(command)) invocation.worked = true;
      const calls = (counters.dynamodb[command] ??= emptyCallCounts());
      calls.calls += 1;
      calls.items += itemCount(command, input);
      const sizer = sizing;
      const targets = sizer !== undefined && WRITE_COMMANDS.has(command) ? writeTargets(command, input) : [];
      const before =
        sizer !== undefined ? await Promise.all(targets.map((target) => sizer.read(target.tableName, target.key))) : [];
      if (sizer !== undefined) calls.sizedCalls += 1;
      try {
        const result = await next(args);
        calls.readUnitsAws += awsReadUnits(command, input, result.output);
        if (sizer !== undefined && targets.length > 0) {
          const after = await Promise.all(
            targets.map((target) => (target.kind === 'check' ? undefined : sizer.read(target.tableName, target.key))),
          );
          targets.forEach((target, index) => {
            const units = awsWriteUnits(
              target,
              before[index],
              target.kind === 'check' ? before[index] : after[index],
              sizer.indexes,
            );
            calls.writeUnitsAws += units.total;
            calls.indexWriteUnitsAws += units.index;
            for (const [index, indexUnits] of Object.entries(units.byIndex)) {
              calls.indexWriteUnitsAwsByIndex[index] = (calls.indexWriteUnitsAwsByIndex[index] ?? 0) + indexUnits;
            }
          });
        }
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
        // A refused conditional write (or a canceled transaction) is still billed, by the item it read.
        targets.forEach((target, index) => {
          calls.writeUnitsAws += kilobyteUnits(before[index], 1024) * (target.transactional ? 2 : 1);
        });
        throw error;
      }
    },
    { step: 'initialize', name: 'paystepBenchDynamoDbCounter', priority: 'low' },
  );
}

function emptyCallCounts(): DynamoCallCounts {
  return {
    calls: 0,
    failed: 0,
    writeUnits: 0,
    readUnits: 0,
    items: 0,
    readUnitsAws: 0,
    writeUnitsAws: 0,
    indexWriteUnitsAws: 0,
    indexWriteUnitsAwsByIndex: {},
    sizedCalls: 0,
  };
}

/** An outgoing request's header, from node:http's ClientRequest or undici's request (fetch). */
function outgoingHeader(request: unknown, name: string): string | undefined {
  const r = request as { getHeader?: (n: string) => unknown; headers?: unknown };
  if (typeof r.getHeader === 'function') {
    const value = r.getHeader(name);
    return value === undefined ? undefined : String(value);
  }
  // undici: `headers` is a raw "name: value\r\n" string or a flat [name, value, ...] array.
  if (typeof r.headers === 'string') {
    const line = r.headers.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
    return line?.slice(name.length + 1).trim();
  }
  if (Array.isArray(r.headers)) {
    for (let i = 0; i + 1 < r.headers.length; i += 2) {
      if (String(r.headers[i]).toLowerCase() === name) return String(r.headers[i + 1]);
    }
  }
  return undefined;
}

/** Counts one webhook delivery attempt (made by whatever invocation is current). */
function countDelivery(webhookId: string): void {
  webhooks.attempts += 1;
  webhooks.ids.add(webhookId);
  const { counters, invocation } = activeCounters();
  counters.webhookDeliveries += 1;
  if (invocation !== undefined) invocation.worked = true;
}

let deliveryCounting = false;
/** Checkouts a `checkout.*` result webhook was delivered (2xx) for, and who waits for one. */
const deliveredCheckouts = new Set<string>();
const deliveryWaiters = new Map<string, (() => void)[]>();

/** The checkout id of a delivered result webhook's body (`data.object.id` of a `checkout.*` event). */
export function resultWebhookCheckoutId(body: string): string | undefined {
  try {
    const event = JSON.parse(body) as { type?: unknown; data?: { object?: { id?: unknown }; id?: unknown } };
    if (typeof event.type !== 'string' || !event.type.startsWith('checkout.')) return undefined;
    const id = event.data?.object?.id ?? event.data?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A webhook's body is an event: JSON with a string `type` (a merchant call signed alike is not). */
export function isWebhookEvent(body: string): boolean {
  try {
    const event = JSON.parse(body) as { type?: unknown } | null;
    return typeof event === 'object' && event !== null && typeof event.type === 'string';
  } catch {
    return false;
  }
}

function noteDelivered(body: string, sender: Invocation | undefined): void {
  const checkoutId = resultWebhookCheckoutId(body);
  if (checkoutId === undefined) return;
  // Told once the sending invocation has returned, so the delivery it records is stored by then:
  // the load generator's one read of the checkout finds it (instead of reading again).
  afterInvocation(sender, () => {
    deliveredCheckouts.add(checkoutId);
    for (const wake of deliveryWaiters.get(checkoutId) ?? []) wake();
    deliveryWaiters.delete(checkoutId);
  });
}

/**
 * Resolves true once a result webhook for `checkoutId` was answered 2xx and the invocation that
 * sent it has returned (at once if that already happened), false after `timeoutMs`. Lets the load
 * generator wait without polling the API.
 */
export function whenResultWebhookDelivered(checkoutId: string, timeoutMs: number): Promise<boolean> {
  if (deliveredCheckouts.has(checkoutId)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const waiters = deliveryWaiters.get(checkoutId) ?? [];
    waiters.push(() => {
      clearTimeout(timer);
      resolve(true);
    });
    deliveryWaiters.set(checkoutId, waiters);
  });
}

/**
 * Counts every webhook delivery attempt leaving this process: an outgoing HTTP request (node:http
 * or fetch) with a `webhook-id` header and an event body (a `type`), and whether it was answered 2xx. A node:http delivery's
 * body is kept (ClientRequest's write/end are wrapped, in the bench's stack process only) until
 * its answer, to tell whose result webhook was delivered. Idempotent.
 */
export function installWebhookDeliveryCounting(): void {
  if (deliveryCounting) return;
  deliveryCounting = true;
  const bodies = new WeakMap<object, string[]>();
  const started = new WeakSet<object>();
  // The invocation each delivery was sent from (the request starts inside its scope).
  const senders = new WeakMap<object, Invocation>();
  const start = (request: object, webhookId: string): void => {
    started.add(request);
    countDelivery(webhookId);
    const sender = invocationScope.getStore()?.counting as Invocation | undefined;
    if (sender !== undefined) senders.set(request, sender);
  };
  const answered = (request: object, statusCode: number | undefined): void => {
    if (!started.has(request) || statusCode === undefined || statusCode < 200 || statusCode >= 300) return;
    webhooks.delivered += 1;
    const body = bodies.get(request);
    if (body !== undefined) noteDelivered(body.join(''), senders.get(request));
  };
  // The start message comes once the body is already written: keep a webhook's body as it is written.
  const proto = ClientRequest.prototype as unknown as Record<
    'write' | 'end',
    (this: ClientRequest, ...args: unknown[]) => unknown
  >;
  const keep = (request: ClientRequest, chunk: unknown): void => {
    if (request.getHeader('webhook-id') === undefined) return;
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return;
    const chunks = bodies.get(request) ?? [];
    chunks.push(Buffer.from(chunk).toString('utf8'));
    bodies.set(request, chunks);
  };
  for (const method of ['write', 'end'] as const) {
    const original = proto[method];
    proto[method] = function (this: ClientRequest, ...args: unknown[]) {
      keep(this, args[0]);
      return original.apply(this, args);
    };
  }
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: object }).request;
    const webhookId = outgoingHeader(request, 'webhook-id');
    const body = bodies.get(request);
    // Signed the same way, the inventory confirmation request is no webhook: it carries no event type.
    if (webhookId === undefined || (body !== undefined && !isWebhookEvent(body.join('')))) return;
    start(request, webhookId);
  });
  subscribe('http.client.response.finish', (message) => {
    const { request, response } = message as { request: object; response: { statusCode?: number } };
    answered(request, response.statusCode);
  });
  subscribe('undici:request:create', (message) => {
    const request = (message as { request: object }).request;
    const webhookId = outgoingHeader(request, 'webhook-id');
    if (webhookId === undefined) return;
    start(request, webhookId);
    const body = (request as { body?: unknown }).body;
    if (typeof body === 'string') bodies.set(request, [body]);
  });
  subscribe('undici:request:headers', (message) => {
    const { request, response } = message as { request: object; response: { statusCode?: number } };
    answered(request, response.statusCode);
  });
}

/** A copy of the counters since the last reset. */
export function snapshotCounters(): CounterSnapshot {
  return {
    takenAt: new Date().toISOString(),
    sinceMs: Date.now() - since,
    entries: structuredClone(Object.fromEntries(entries)),
    webhooks: { attempts: webhooks.attempts, delivered: webhooks.delivered, distinctWebhookIds: webhooks.ids.size },
    spans: takeSpans(false),
  };
}

/** Starts a new measurement window. */
export function resetCounters(): void {
  entries = new Map();
  since = Date.now();
  webhooks = { attempts: 0, delivered: 0, ids: new Set() };
  takeSpans(true);
}
