/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): matches each request against
 * the same route table the CDK stack deploys (lib/api-routes.ts), builds the event API Gateway
 * would build, invokes the same Lambda handler, and writes the handler's v2 result back. It adds
 * nothing a real HTTP API would not (no CORS, no redirects followed, no body rewriting).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { routeKey, type ApiEntry, type ApiRoute } from '../lib/api-routes';
import { createLambdaContext, functionNameFor, LOCAL_ACCOUNT_ID, type ApiHandler } from './handlers';

/** Lambda's synchronous invocation payload limit; API Gateway would fail the request past it. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
/** API Gateway HTTP API's maximum integration timeout. */
export const INTEGRATION_TIMEOUT_MS = 29_000;
const LOCAL_API_ID = 'local';

export interface StartApiHostOptions {
  port: number;
  host?: string;
  routes: readonly ApiRoute[];
  loadHandler: (entry: ApiEntry) => Promise<ApiHandler>;
  maxBodyBytes?: number;
  /** Serves non-API pages (the hosted checkout); return true when it handled the request. */
  staticHandler?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Where error log lines go (defaults to console.error). */
  log?: (line: string) => void;
}

export interface ApiHost {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface CompiledRoute {
  route: ApiRoute;
  key: string;
  segments: string[];
  literalCount: number;
}

interface RouteMatch {
  route: ApiRoute;
  key: string;
  pathParameters?: Record<string, string>;
}

/**
 * Starts the API host. Resolves once it listens; rejects (e.g. EADDRINUSE) if it cannot, so the
 * caller can stop what it already started and report the port clash.
 */
export async function startApiHost(options: StartApiHostOptions): Promise<ApiHost> {
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log ?? ((line: string) => console.error(line));
  const compiled = compileRoutes(options.routes);

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((error: unknown) => {
      log(JSON.stringify({ level: 'ERROR', message: 'local API host failed', error: describeError(error) }));
      if (!res.headersSent) writeError(res, 500, 'internal_error', 'Internal server error');
      else res.destroy();
    });
  });
  // Keep-alive sockets must not keep stop() waiting.
  server.keepAliveTimeout = 5_000;

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestTime = new Date();
    const rawUrl = req.url ?? '/';
    const queryIndex = rawUrl.indexOf('?');
    const rawPath = queryIndex === -1 ? rawUrl : rawUrl.slice(0, queryIndex);
    const rawQueryString = queryIndex === -1 ? '' : rawUrl.slice(queryIndex + 1);
    const method = (req.method ?? 'GET').toUpperCase();

    const match = matchRoute(compiled, method, rawPath);
    if (match === undefined) {
      if (options.staticHandler !== undefined && (await options.staticHandler(req, res))) return;
      req.resume();
      // Never echo the raw path (reflected content); nosniff is on every error (writeError).
      writeError(res, 404, 'route_not_found', 'No route matches this method and path');
      return;
    }

    const body = await readBody(req, maxBodyBytes);
    if (body === 'too_large') {
      writeError(res, 413, 'payload_too_large', `Request body exceeds ${maxBodyBytes} bytes`);
      return;
    }

    const requestId = apiGatewayRequestId();
    const event = buildEvent({ req, method, rawPath, rawQueryString, match, body, requestId, requestTime });
    const functionName = functionNameFor(match.route.entry);
    const context = createLambdaContext({ functionName, timeoutMs: INTEGRATION_TIMEOUT_MS });

    let result: unknown;
    try {
      const handler = await options.loadHandler(match.route.entry);
      result = await withTimeout(handler(event, context), INTEGRATION_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof IntegrationTimeoutError) {
        log(JSON.stringify({ level: 'ERROR', message: 'handler timed out', routeKey: match.key, requestId, functionName }));
        writeError(res, 503, 'service_unavailable', 'Service unavailable', requestId);
        return;
      }
      log(
        JSON.stringify({
          level: 'ERROR',
          message: 'handler threw',
          routeKey: match.key,
          requestId,
          functionName,
          error: describeError(error),
        }),
      );
      writeError(res, 500, 'internal_error', 'Internal server error', requestId);
      return;
    }
    writeResult(res, result, requestId, log, match.key);
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port, host, () => {
      server.removeListener('error', rejectListen);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return { url, port: address.port, stop: () => closeServer(server) };
}

/** Closes the server and every idle or open socket so stop() never hangs on keep-alive. */
export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((done) => {
    server.close(() => done());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1_000).unref();
  });
}

// ---- Routing ------------------------------------------------------------------------------------

function compileRoutes(routes: readonly ApiRoute[]): CompiledRoute[] {
  const compiled = routes.map((route) => {
    const segments = route.path.split('/').slice(1);
    return { route, key: routeKey(route), segments, literalCount: segments.filter((s) => !isParam(s)).length };
  });
  // API Gateway prefers the most specific route: literal segments beat {param} segments.
  return compiled.sort((a, b) => b.literalCount - a.literalCount);
}

function isParam(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

function matchRoute(routes: CompiledRoute[], method: string, rawPath: string): RouteMatch | undefined {
  const requestSegments = rawPath.split('/').slice(1);
  for (const candidate of routes) {
    if (candidate.route.method !== method || candidate.segments.length !== requestSegments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < candidate.segments.length; i++) {
      const expected = candidate.segments[i] as string;
      const actual = requestSegments[i] as string;
      if (isParam(expected)) {
        if (actual === '') {
          ok = false;
          break;
        }
        params[expected.slice(1, -1)] = safeDecode(actual);
      } else if (expected !== safeDecode(actual)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    const match: RouteMatch = { route: candidate.route, key: candidate.key };
    if (Object.keys(params).length > 0) match.pathParameters = params;
    return match;
  }
  return undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// ---- Event --------------------------------------------------------------------------------------

interface BuildEventInput {
  req: IncomingMessage;
  method: string;
  rawPath: string;
  rawQueryString: string;
  match: RouteMatch;
  body: Buffer | undefined;
  requestId: string;
  requestTime: Date;
}

function buildEvent(input: BuildEventInput): APIGatewayProxyEventV2 {
  const { req, method, rawPath, rawQueryString, match, body, requestId, requestTime } = input;
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name === 'cookie') {
      // HTTP API moves cookies out of the headers into `cookies`.
      for (const part of value.split(';')) if (part.trim() !== '') cookies.push(part.trim());
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const sourceIp = normalizeIp(req.socket.remoteAddress ?? '127.0.0.1');
  const localPort = req.socket.localPort ?? 80;
  // Headers API Gateway itself adds in front of the integration.
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-port'] = String(localPort);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] =
    `Root=1-${Math.floor(requestTime.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

  const domainName = headers.host ?? `127.0.0.1:${localPort}`;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: match.key,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: LOCAL_API_ID,
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method,
        path: safeDecode(rawPath),
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: match.key,
      stage: '$default',
      time: formatApiGatewayTime(requestTime),
      timeEpoch: requestTime.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  const query = parseQuery(rawQueryString);
  if (query !== undefined) event.queryStringParameters = query;
  if (match.pathParameters !== undefined) event.pathParameters = match.pathParameters;
  if (body !== undefined && body.length > 0) {
    if (isTextContentType(headers['content-type'])) {
      event.body = body.toString('utf8');
    } else {
      event.body = body.toString('base64');
      event.isBase64Encoded = true;
    }
  }
  return event;
}

/** Query parameters as HTTP API gives them: decoded, repeated keys joined with commas. */
function parseQuery(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const result: Record<string, string> = {};
  for (const part of rawQueryString.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = safeDecode((eq === -1 ? part : part.slice(0, eq)).replaceAll('+', ' '));
    const value = eq === -1 ? '' : safeDecode(part.slice(eq + 1).replaceAll('+', ' '));
    result[key] = result[key] === undefined ? value : `${result[key]},${value}`;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

/**
 * HTTP API passes text bodies as UTF-8 and everything else base64-encoded (form posts included),
 * so handlers must honour `isBase64Encoded`, locally as on AWS.
 */
function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/graphql'
  );
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `21/Nov/2025:05:42:00 +0000`, the format of requestContext.time. */
function formatApiGatewayTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** API Gateway request ids look like `Kd8Z3jRyoAMEVsg=`. */
function apiGatewayRequestId(): string {
  return randomBytes(10).toString('base64');
}

// ---- Body and result ----------------------------------------------------------------------------

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined | 'too_large'> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return 'too_large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  if (tooLarge) return 'too_large';
  return chunks.length === 0 ? undefined : Buffer.concat(chunks);
}

/**
 * Writes a payload-2.0 result the way API Gateway interprets it: a structured result is used as
 * is; anything else (string, object without statusCode) becomes a 200 JSON response.
 */
function writeResult(res: ServerResponse, result: unknown, requestId: string, log: (line: string) => void, key: string): void {
  if (!isStructuredResult(result)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'apigw-requestid': requestId });
    res.end(body);
    return;
  }
  const statusCode = result.statusCode ?? NaN;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    log(
      JSON.stringify({
        level: 'ERROR',
        message: 'handler returned an invalid statusCode',
        routeKey: key,
        requestId,
        statusCode: result.statusCode,
      }),
    );
    writeError(res, 500, 'internal_error', 'Internal server error', requestId);
    return;
  }
  if ('multiValueHeaders' in result) {
    // Payload format 2.0 has no multiValueHeaders: API Gateway ignores the field, so do we.
    log(
      JSON.stringify({
        level: 'WARN',
        message: 'multiValueHeaders is ignored by HTTP API payload 2.0; use headers (comma-joined) or cookies',
        routeKey: key,
      }),
    );
  }
  const headers: Record<string, string | string[]> = { 'apigw-requestid': requestId };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies !== undefined && result.cookies.length > 0) headers['set-cookie'] = [...result.cookies];
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : Buffer.from(result.body, 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(statusCode, headers);
  res.end(body);
}

function isStructuredResult(value: unknown): value is APIGatewayProxyStructuredResultV2 {
  return typeof value === 'object' && value !== null && 'statusCode' in value;
}

/** The public error shape, for errors the host itself raises (no route, too large, crash). */
function writeError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string = apiGatewayRequestId(),
): void {
  const body = JSON.stringify({ error: { code, message, request_id: requestId } });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-content-type-options': 'nosniff',
  };
  headers['apigw-requestid'] = requestId;
  res.writeHead(status, headers);
  res.end(body);
}

class IntegrationTimeoutError extends Error {
  override readonly name = 'IntegrationTimeoutError';
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new IntegrationTimeoutError(`no answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { value: String(error) };
}
