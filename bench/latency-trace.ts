/**
 * Where a checkout's wall time goes, inside the bench's stack process: one span per handler
 * invocation (entry, start, end), with the time its DynamoDB calls took at the SDK (serialisation,
 * signing, retries and the HTTP round trip) and the time of its outgoing HTTP requests per
 * destination (DynamoDB Local, the Step Functions emulator, the sandbox PSP, the demo merchant...
 * named by nameServices). bench/latency-breakdown.ts turns the serial phase's spans into the
 * per-step figures of the report (handler time, DynamoDB time, PSP/merchant round trips, and the
 * gap before each saga step: the emulator's transition and dispatch). Used only by
 * bench/instrumentation.ts and bench/stack-process.ts; nothing here is bundled into a Lambda.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';

/** One handler invocation as the trace saw it (times in ms since the process started). */
export interface InvocationSpan {
  entry: string;
  kind: string;
  startMs: number;
  endMs: number;
  /** Wall time of its DynamoDB calls at the SDK (the middleware's initialize step to the result), summed. */
  dynamoMs: number;
  dynamoCalls: number;
  /** Outgoing HTTP requests by destination service: requests and wall time to the response, summed. */
  outbound: Record<string, { requests: number; ms: number }>;
}

/** At most this many spans are kept per window (the oldest are dropped first). */
const MAX_SPANS = 2_000;

/**
 * The one AsyncLocalStorage of the bench's instrumentation: the invocation in progress, with its
 * span (here) and its counters (bench/instrumentation.ts, `counting`). One storage, not one per
 * module: on Node 20 every enabled storage adds work to every promise and callback the stack
 * process creates (each storage copies its store into each new async resource).
 */
export interface InvocationScope {
  span?: InvocationSpan;
  counting?: unknown;
}
export const invocationScope = new AsyncLocalStorage<InvocationScope>();
const activeSpan = (): InvocationSpan | undefined => invocationScope.getStore()?.span;
let spans: InvocationSpan[] = [];
const serviceByHost = new Map<string, string>();

/** Names the services by URL (`{ 'DynamoDB Local': 'http://127.0.0.1:8000', ... }`) for the outbound figures. */
export function nameServices(urls: Record<string, string>): void {
  for (const [name, url] of Object.entries(urls)) {
    try {
      serviceByHost.set(new URL(url).host, name);
    } catch {
      // not a URL: left unnamed
    }
  }
}

/**
 * Runs one invocation inside its span; the span is kept once the invocation settles. Inside a
 * scope that has no span yet (the one bench/instrumentation.ts opened for this invocation), the
 * span joins that scope instead of opening a nested one.
 */
export async function traceInvocation<T>(entry: string, kind: string, run: () => Promise<T>): Promise<T> {
  const span: InvocationSpan = {
    entry,
    kind,
    startMs: performance.now(),
    endMs: 0,
    dynamoMs: 0,
    dynamoCalls: 0,
    outbound: {},
  };
  const scope = invocationScope.getStore();
  try {
    if (scope !== undefined && scope.span === undefined) {
      scope.span = span;
      return await run();
    }
    return await invocationScope.run({ span }, run);
  } finally {
    span.endMs = performance.now();
    spans.push(span);
    if (spans.length > MAX_SPANS) spans = spans.slice(-MAX_SPANS);
  }
}

/** The spans closed since the last takeSpans (a copy); `clear` starts a new window. */
export function takeSpans(clear: boolean): InvocationSpan[] {
  const taken = spans.map((span) => ({ ...span, outbound: structuredClone(span.outbound) }));
  if (clear) spans = [];
  return taken;
}

/** The slice of an AWS SDK v3 client we need: its middleware stack. */
interface ClientWithMiddleware {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority?: 'high' },
    ): void;
  };
}

/** Times every DynamoDB call made through `client` at the SDK, attributed to the current invocation. */
export function traceDynamoDbCalls(client: ClientWithMiddleware): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const span = activeSpan();
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        if (span !== undefined) {
          span.dynamoMs += performance.now() - started;
          span.dynamoCalls += 1;
        }
      }
    },
    { step: 'initialize', name: 'paystepBenchDynamoDbTimer', priority: 'high' },
  );
}

let outboundTracing = false;

/** Times every outgoing HTTP request (node:http and fetch) per destination service. Idempotent. */
export function installOutboundHttpTracing(): void {
  if (outboundTracing) return;
  outboundTracing = true;
  const started = new WeakMap<object, { span: InvocationSpan; service: string; at: number }>();
  const serviceOf = (host: string | undefined): string =>
    host === undefined ? 'unknown' : (serviceByHost.get(host) ?? (host.startsWith('127.0.0.1:') ? 'loopback' : host));
  const begin = (request: object, host: string | undefined): void => {
    const span = activeSpan();
    if (span !== undefined) started.set(request, { span, service: serviceOf(host), at: performance.now() });
  };
  const end = (request: object): void => {
    const open = started.get(request);
    if (open === undefined) return;
    started.delete(request);
    const row = (open.span.outbound[open.service] ??= { requests: 0, ms: 0 });
    row.requests += 1;
    row.ms += performance.now() - open.at;
  };
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: { getHeader?: (name: string) => unknown } }).request;
    const host = request.getHeader?.('host');
    begin(request, typeof host === 'string' ? host : undefined);
  });
  subscribe('http.client.response.finish', (message) => end((message as { request: object }).request));
  subscribe('undici:request:create', (message) => {
    const request = (message as { request: { origin?: unknown } }).request;
    let host: string | undefined;
    try {
      host = typeof request.origin === 'string' ? new URL(request.origin).host : undefined;
    } catch {
      host = undefined;
    }
    begin(request, host);
  });
  subscribe('undici:request:headers', (message) => end((message as { request: object }).request));
}
