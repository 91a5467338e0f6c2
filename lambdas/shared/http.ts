/**
 * The HTTP layer every API Lambda shares (API Gateway HTTP API, payload v2): a router keyed by
 * `event.routeKey` (`POST /v1/checkouts/{id}/cancel`, as in lib/api-routes.ts) so one Lambda
 * serves several routes; authentication per route; JSON body parsing with clear 4xx errors
 * (64 KiB limit, base64 bodies decoded); Idempotency-Key on POSTs; and the mapping of
 * PaystepError to `{"error":{"code","message","param"}}`. Anything unexpected becomes a 500
 * `internal_error` with a generic message: logged (without request data or secrets), never
 * returned with a stack. Every response is JSON.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import {
  ConcurrentModificationError,
  IdempotencyKeyTakenError,
  isPaystepError,
  NotFoundError,
  RouteNotFoundError,
  ValidationError,
} from '../errors';
import type { StoredResponse, TransactionCompanion } from '../ports/idempotency';
import { idempotencyScope, type Authenticator, type AuthKind, type Principal } from './auth';
import {
  executeIdempotently,
  executeWithResourceRecord,
  executeWithInlineRecord,
  IDEMPOTENT_REPLAYED_HEADER,
  readIdempotencyKey,
  requestBinding,
  type IdempotencyDependencies,
  type IdempotentExecution,
  type InlineRecording,
} from './idempotency';
import { observability, observeInvocation } from './observability';
import { API_VERSION_HEADER, isApiVersion, LATEST_API_VERSION, type ApiVersion } from '../domain/api-version';

/** Largest accepted request body (after base64 decoding). */
export const MAX_BODY_BYTES = 64 * 1024;

export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
};

/** What a route function receives: the authenticated principal and the parsed request. */
export interface ApiRequest {
  readonly event: APIGatewayProxyEventV2;
  readonly routeKey: string;
  readonly principal: Principal;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON body, always an object (`{}` when empty); undefined-free for GET/DELETE. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Request time, one clock reading per request. */
  readonly now: Date;
  /** The API version the request pinned with `Paystep-Version`, else the latest. */
  readonly apiVersion: ApiVersion;
  /**
   * Set on a route with `carriesIdempotencyRecord` when the request has an Idempotency-Key: the
   * completed record of `result` for the route's own write to carry (then return that very
   * `result`). Absent: write without it.
   */
  readonly idempotency?: { recordWith(result: ApiResult): Promise<TransactionCompanion> };
  /**
   * Set on a route with `recordsIdempotencyOnResource` when the request has an Idempotency-Key:
   * its scope and key, for the route's own conditional write to record (then answer with
   * `ApiResult.idempotency`).
   */
  readonly idempotencyKey?: { scope: string; key: string };
}

/** What a route function returns; the body is serialised to JSON by the layer. */
export interface ApiResult {
  statusCode: number;
  body: unknown;
  headers?: Record<string, string>;
  /**
   * Routes with `recordsIdempotencyOnResource`: `recorded` when the route's write recorded the
   * request's key, `replayed` when the resource already held it and this is the first answer again
   * (sent with `idempotent-replayed: true`). Neither is stored as an idempotency record.
   */
  idempotency?: 'recorded' | 'replayed';
}

export interface RouteDefinition {
  /** Principal kinds this route accepts. */
  readonly auth: readonly AuthKind[];
  /** Honour Idempotency-Key (default: true for POST, false otherwise). */
  readonly idempotent?: boolean;
  /**
   * The one-write path (lambdas/shared/idempotency.ts executeWithInlineRecord): the route's own
   * write carries the completed idempotency record (`request.idempotency`) instead of a claim
   * before and a completion after. Only for routes with no side effect before that write.
   */
  readonly carriesIdempotencyRecord?: boolean;
  /**
   * The no-record path (lambdas/shared/idempotency.ts executeWithResourceRecord): the route's own
   * conditional write records the key on the resource it changes (`request.idempotencyKey`), and
   * the route answers a key it finds recorded again itself (`ApiResult.idempotency`).
   */
  readonly recordsIdempotencyOnResource?: boolean;
  readonly handle: (request: ApiRequest) => Promise<ApiResult>;
  /**
   * For a route without `{id}` in its path that accepts a client secret (POST /v1/payment_methods):
   * names the checkout the `cs_` secret must belong to, read from the JSON body (parsed before
   * authentication for this route only). Return undefined for anything that is not a well-formed id.
   */
  readonly clientCheckoutFromBody?: (body: Readonly<Record<string, unknown>>) => string | undefined;
}

/** Route key (`METHOD /path/{param}`) -> definition. */
export type RouteTable = Readonly<Record<string, RouteDefinition>>;

/** Structured logger subset (Powertools Logger fits); never handed request bodies or headers. */
export interface ApiLogger {
  error(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface ApiDependencies {
  authenticate: Authenticator;
  idempotency: IdempotencyDependencies;
  logger?: ApiLogger;
}

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * How long before the function's own timeout an invocation still running is answered with a 500
 * `internal_error` (what `@middy/core`'s `timeoutEarly` did before issue 14's round 7): the caller
 * gets the API's JSON error instead of API Gateway's own answer to a timed-out function.
 */
export const TIMEOUT_EARLY_MS = 5;

const defaultLogger: ApiLogger = {
  error: (message, extra) => observability.logger.error(message, extra ?? {}),
  warn: (message, extra) => observability.logger.warn(message, extra ?? {}),
};

/**
 * The correlation id of an API request: the checkout id on the checkout routes
 * (`/v1/checkouts/{id}...`, `/checkout/{id}`), so API, saga and webhook logs of one payment join up.
 */
export function correlationIdOf(
  event: Pick<APIGatewayProxyEventV2, 'routeKey' | 'rawPath' | 'pathParameters'>,
): string | undefined {
  const fromRoute = /\/checkouts?\/\{id\}/.test(event.routeKey ?? '') ? event.pathParameters?.id : undefined;
  return fromRoute ?? /^\/(?:v1\/checkouts|checkout)\/(chk_[A-Za-z0-9_-]+)/.exec(event.rawPath ?? '')?.[1];
}

/** A JSON response in the API Gateway v2 shape (also the shape idempotency stores). */
export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): StoredResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/**
 * The public error response for anything thrown: PaystepError keeps its status, code, message
 * and param; everything else is a logged 500 with a generic message. `requestId` (API Gateway's
 * request id, also the `apigw-requestid` header) goes into the body as `request_id`, so a merchant
 * who logs only bodies can still quote it to support.
 */
export function errorResponse(
  error: unknown,
  logger: ApiLogger = defaultLogger,
  routeKey?: string,
  requestId?: string,
): StoredResponse {
  const withRequestId = requestId !== undefined && requestId !== '' ? { request_id: requestId } : {};
  if (isPaystepError(error)) {
    if (error.status >= 500) {
      logger.warn('Request failed with a service error', { routeKey, errorName: error.name, errorCode: error.code });
    }
    return jsonResponse(error.status, {
      error: {
        code: error.code,
        message: error.message,
        ...(error.param !== undefined ? { param: error.param } : {}),
        ...withRequestId,
      },
    });
  }
  const failure = error instanceof Error ? error : new Error(String(error));
  logger.error('Unhandled error', { routeKey, errorName: failure.name, errorMessage: failure.message, stack: failure.stack });
  return jsonResponse(500, {
    error: { code: 'internal_error', message: 'An unexpected error occurred. Please retry later.', ...withRequestId },
  });
}

/** API Gateway's id of this request (the `apigw-requestid` response header). */
export function requestIdOf(event: Pick<APIGatewayProxyEventV2, 'requestContext'>): string | undefined {
  return event.requestContext?.requestId;
}

/**
 * The version a request pins with `Paystep-Version` (headers lower-cased), else the latest.
 * An unknown version is a 400 rather than a silent fallback.
 */
export function readApiVersion(headers: Readonly<Record<string, string>>): ApiVersion {
  const value = headers[API_VERSION_HEADER.toLowerCase()];
  if (value === undefined) return LATEST_API_VERSION;
  const version = value.trim();
  if (!isApiVersion(version)) {
    throw new ValidationError(`Unknown API version ${JSON.stringify(version.slice(0, 32))}; supported: ${LATEST_API_VERSION}`, {
      code: 'invalid_api_version',
      param: API_VERSION_HEADER,
    });
  }
  return version;
}

/**
 * The request body as a JSON object. Empty body = `{}`. Base64 bodies are decoded. Errors: 413
 * `body_too_large` over 64 KiB, 400 `invalid_json` for malformed JSON or invalid UTF-8, 400
 * `invalid_request` for JSON that is not an object.
 */
export function parseJsonBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Record<string, unknown> {
  const raw = event.body;
  if (raw === undefined || raw === null || raw === '') return {};
  const tooLarge = (): ValidationError =>
    new ValidationError(`The request body must not exceed ${MAX_BODY_BYTES} bytes`, { status: 413, code: 'body_too_large' });
  // Cheap pre-check before decoding: base64 is 4/3 of the bytes, UTF-8 at least 1 byte per char.
  if (raw.length > (event.isBase64Encoded ? Math.ceil(MAX_BODY_BYTES / 3) * 4 + 4 : MAX_BODY_BYTES)) throw tooLarge();
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError('The request body is not valid UTF-8', { code: 'invalid_json' });
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('The request body is not valid JSON', { code: 'invalid_json' });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError('The request body must be a JSON object', { code: 'invalid_request' });
  }
  return parsed as Record<string, unknown>;
}

interface ResolvedRoute {
  routeKey: string;
  route: RouteDefinition;
  pathParameters: Record<string, string>;
}

/**
 * Finds the route: by `event.routeKey` (API Gateway fills it), else by matching method and path
 * against the templates (for hosts that only forward the raw request).
 */
export function resolveRoute(routes: RouteTable, event: APIGatewayProxyEventV2): ResolvedRoute {
  const direct = event.routeKey !== undefined ? routes[event.routeKey] : undefined;
  if (direct !== undefined) {
    return { routeKey: event.routeKey, route: direct, pathParameters: definedValues(event.pathParameters) };
  }
  const method = event.requestContext?.http?.method?.toUpperCase();
  const path = event.rawPath ?? event.requestContext?.http?.path;
  if (method !== undefined && path !== undefined) {
    const segments = path.replace(/\/+$/, '').split('/');
    for (const [key, route] of Object.entries(routes)) {
      const [routeMethod, template] = key.split(' ');
      if (routeMethod !== method || template === undefined) continue;
      const params = matchTemplate(template.split('/'), segments);
      if (params !== undefined) return { routeKey: key, route, pathParameters: params };
    }
  }
  throw new RouteNotFoundError(`No route for ${method ?? '?'} ${path ?? '?'}`);
}

/** Longest path id Paystep ever issues or accepts (ids are far shorter; DynamoDB keys stop at 2 KB). */
export const MAX_PATH_ID_LENGTH = 255;
/** Printable ASCII only: every id Paystep issues is far narrower; control or non-ASCII characters name nothing. */
const PATH_ID_PATTERN = /^[\x20-\x7e]+$/;

/**
 * Hardening rule: an over-long or malformed path id is 404 before anything (authentication
 * included) uses it as a key, so no request can reach DynamoDB with a key it refuses (a 5xx).
 */
export function assertWellFormedPathIds(pathParameters: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(pathParameters)) {
    if (value.length === 0 || value.length > MAX_PATH_ID_LENGTH || !PATH_ID_PATTERN.test(value)) {
      throw new NotFoundError(`No such ${name === 'id' ? 'resource' : name}`, { param: name });
    }
  }
}

/** decodeURIComponent that turns malformed percent-encoding into a 404 rather than a URIError (500). */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RouteNotFoundError('The path is not valid percent-encoding');
  }
}

function matchTemplate(template: string[], segments: string[]): Record<string, string> | undefined {
  if (template.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i += 1) {
    const part = template[i]!;
    const segment = segments[i]!;
    if (part.startsWith('{') && part.endsWith('}')) {
      if (segment === '') return undefined;
      params[part.slice(1, -1)] = decodePathSegment(segment);
    } else if (part !== segment) {
      return undefined;
    }
  }
  return params;
}

function definedValues(record: Record<string, string | undefined> | undefined | null): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {})) if (value !== undefined) result[key] = value;
  return result;
}

function lowerCaseHeaders(headers: Record<string, string | undefined> | undefined | null): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) if (value !== undefined) result[key.toLowerCase()] = value;
  return result;
}

/** Lost races are answered but never stored, so the client's retry with the same key runs again. */
function isStorable(error: unknown): boolean {
  return !(error instanceof ConcurrentModificationError) && !(isPaystepError(error) && error.status >= 500);
}

/**
 * Builds a Lambda handler for a set of routes. Reuse it for every API entry:
 *
 *   export const handler = createApiHandler({
 *     'POST /v1/checkouts/{id}/pay': { auth: ['client'], handle: payCheckout },
 *   }, apiDependencies);
 */
export function createApiHandler(routes: RouteTable, deps: ApiDependencies): ApiHandler {
  const logger = deps.logger ?? defaultLogger;

  const serve = async (event: APIGatewayProxyEventV2): Promise<StoredResponse> => {
    const { routeKey, route, pathParameters } = resolveRoute(routes, event);
    assertWellFormedPathIds(pathParameters);
    const headers = lowerCaseHeaders(event.headers);
    const apiVersion = readApiVersion(headers);
    const requestId = requestIdOf(event);
    const method = routeKey.split(' ')[0];
    const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
    let earlyBody: Record<string, unknown> | undefined;
    let authParameters: Readonly<Record<string, string>> = pathParameters;
    if (route.clientCheckoutFromBody !== undefined && pathParameters['id'] === undefined) {
      earlyBody = hasBody ? parseJsonBody(event) : {};
      const checkoutId = route.clientCheckoutFromBody(earlyBody);
      if (checkoutId !== undefined) authParameters = { ...pathParameters, id: checkoutId };
    }
    const principal = await deps.authenticate(headers, route.auth, authParameters);
    const idempotencyKey = (route.idempotent ?? method === 'POST') ? readIdempotencyKey(headers) : undefined;

    const onResource =
      route.recordsIdempotencyOnResource === true && idempotencyKey !== undefined && deps.idempotency.store.inline !== undefined
        ? { idempotencyKey: { scope: idempotencyScope(principal), key: idempotencyKey } }
        : {};
    const run = async (recording?: InlineRecording): Promise<IdempotentExecution> => {
      let carried: { result: ApiResult; response: StoredResponse } | undefined;
      const idempotency =
        recording === undefined
          ? {}
          : {
              idempotency: {
                recordWith: async (result: ApiResult) => {
                  const response = jsonResponse(result.statusCode, result.body, result.headers);
                  const companion = await recording.recordWith(response);
                  carried = { result, response };
                  return companion;
                },
              },
            };
      try {
        const result = await route.handle({
          event,
          routeKey,
          principal,
          pathParameters,
          query: definedValues(event.queryStringParameters),
          headers,
          body: earlyBody ?? (hasBody ? parseJsonBody(event) : {}),
          now: new Date(),
          apiVersion,
          ...idempotency,
          ...onResource,
        });
        if (result.idempotency !== undefined && onResource.idempotencyKey !== undefined) {
          const replay: Record<string, string> =
            result.idempotency === 'replayed' ? { [IDEMPOTENT_REPLAYED_HEADER]: 'true' } : {};
          return {
            response: jsonResponse(result.statusCode, result.body, { ...result.headers, ...replay }),
            storable: true,
            carried: true,
          };
        }
        // The record the route's write carried holds exactly these bytes.
        if (carried !== undefined && carried.result === result)
          return { response: carried.response, storable: true, carried: true };
        const response = jsonResponse(result.statusCode, result.body, result.headers);
        return { response, storable: response.statusCode < 500 };
      } catch (error) {
        if (error instanceof IdempotencyKeyTakenError && recording !== undefined) throw error;
        const response = errorResponse(error, logger, routeKey, requestId);
        // 5xx answers are never stored: the claim is released so the retry runs again.
        return { response, storable: isStorable(error) && response.statusCode < 500 };
      }
    };

    const inline = route.carriesIdempotencyRecord === true ? deps.idempotency.store.inline : undefined;
    const resourceInline = onResource.idempotencyKey !== undefined ? deps.idempotency.store.inline : undefined;
    const response =
      idempotencyKey === undefined
        ? (await run()).response
        : resourceInline !== undefined
          ? await executeWithResourceRecord(
              deps.idempotency,
              resourceInline,
              idempotencyScope(principal),
              idempotencyKey,
              requestBinding(routeKey, pathParameters),
              () => run(),
            )
          : inline !== undefined
            ? await executeWithInlineRecord(
                deps.idempotency,
                inline,
                idempotencyScope(principal),
                idempotencyKey,
                requestBinding(routeKey, pathParameters),
                run,
              )
            : await executeIdempotently(
                deps.idempotency,
                idempotencyScope(principal),
                idempotencyKey,
                () => run(),
                requestBinding(routeKey, pathParameters),
              );
    return { ...response, headers: { ...response.headers, [API_VERSION_HEADER.toLowerCase()]: apiVersion } };
  };

  /** An error that escaped the route pipeline's own answers, or the function's imminent timeout, as JSON. */
  const lastResort = (error: unknown, event: APIGatewayProxyEventV2 | undefined): APIGatewayProxyStructuredResultV2 =>
    errorResponse(error, logger, event?.routeKey, event ? requestIdOf(event) : undefined);

  const answer = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      // Routing and authentication errors are answered inside the scope too, so their log lines
      // carry the correlation id; the outer catch is the last resort.
      return await observeInvocation({ context, correlationId: correlationIdOf(event) }, async () => {
        try {
          return await serve(event);
        } catch (error) {
          return errorResponse(error, logger, event.routeKey, requestIdOf(event));
        }
      });
    } catch (error) {
      return lastResort(error, event);
    }
  };

  return async (event, context) => {
    const remainingMs = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
    if (remainingMs === undefined) return await answer(event, context);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<APIGatewayProxyStructuredResultV2>((resolveTimeout) => {
      timer = setTimeout(() => {
        resolveTimeout(
          lastResort(Object.assign(new Error('The function is about to time out'), { name: 'TimeoutError' }), event),
        );
      }, remainingMs - TIMEOUT_EARLY_MS);
    });
    try {
      return await Promise.race([answer(event, context), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
}
