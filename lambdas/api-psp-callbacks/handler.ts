/**
 * `POST /v1/psp/{connector}/callbacks`: signed asynchronous status reports from a PSP. Not behind
 * the bearer-token layer (the PSP has no Paystep key): the signature over the raw body is the
 * authentication, checked in lambdas/use-cases/psp-callbacks.ts before anything is read. Answers
 * 200 for applied, duplicate and stale callbacks alike (the PSP must stop redelivering them),
 * 401 for a bad signature, 400 for a body that is not a callback.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ValidationError } from '../errors';
import { callbackReaders, pspCallbackStore, taskTokens } from '../shared/callback-wiring';
import { decodePathSegment, errorResponse, jsonResponse, MAX_BODY_BYTES, requestIdOf } from '../shared/http';
import { receivePspCallback } from '../use-cases/psp-callbacks';
import { eventPublisher } from '../shared/event-publisher-wiring';
import { instrumentRepository } from '../shared/instrument-wiring';
import { checkoutRepository } from '../shared/checkout-wiring';

const dependencies = {
  callbacks: pspCallbackStore,
  resumer: taskTokens,
  checkouts: checkoutRepository,
  instruments: instrumentRepository,
  events: eventPublisher,
  callbackReaders,
};

/** The raw body exactly as signed (base64 bodies decoded), bounded like every API body. */
function rawBodyOf(event: APIGatewayProxyEventV2): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES)
    throw new ValidationError(`The request body must not exceed ${MAX_BODY_BYTES} bytes`, {
      status: 413,
      code: 'body_too_large',
    });
  return bytes.toString('utf8');
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    const method = event.requestContext?.http?.method?.toUpperCase() ?? 'POST';
    if (method !== 'POST') throw new ValidationError('Only POST is accepted', { status: 400, code: 'method_not_allowed' });
    // API Gateway hands path parameters over decoded: never decode them a second time.
    const connector =
      event.pathParameters?.['connector'] ??
      decodePathSegment(/^\/v1\/psp\/([^/]+)\/callbacks\/?$/.exec(event.rawPath ?? '')?.[1] ?? '');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
    const result = await receivePspCallback(dependencies, { connector, rawBody: rawBodyOf(event), headers });
    return jsonResponse(200, result);
  } catch (error) {
    return errorResponse(error, undefined, 'POST /v1/psp/{connector}/callbacks', requestIdOf(event));
  }
}
