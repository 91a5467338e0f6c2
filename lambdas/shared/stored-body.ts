/**
 * Compact stored bodies for the one-write idempotency path (lambdas/shared/idempotency.ts): the
 * completed record rides in a transaction, where every started KB costs 2 write units, and an
 * encrypted create answer (about 1.1 KB of JSON, base64 twice: once here, once by the cipher)
 * would not fit in 1 KB. Raw deflate with a preset dictionary of the API's own JSON (the checkout
 * view's field names in order, the error shape) takes it to about 300 bytes.
 *
 * The dictionary is part of the stored format: records are replayed for 24 h, so NEVER edit
 * DICTIONARY_V1 (a test pins its hash). To improve it, add DICTIONARY_V2 with encoding
 * `deflate-v2` and keep inflating `deflate-v1`.
 */
import type * as Zlib from 'node:zlib';
import { load } from '../adapters/node-http';

/**
 * node:zlib on the first body packed or unpacked, not at a cold start (about 2 ms of module
 * initialisation on Node 24): most invocations of most functions that bundle this file store or
 * replay no body.
 */
let zlibModule: typeof Zlib | undefined;
const zlib = (): typeof Zlib => (zlibModule ??= load('node:zlib') as typeof Zlib);

export const DICTIONARY_V1 = Buffer.from(
  '{"error":{"code":"","message":"","param":"","request_id":""}}' +
    '{"id":"chk_","object":"checkout","merchant_order_ref":"order_","status":"open","amount":00,"currency":"USD",' +
    '"items":[{"sku":"","name":"","quantity":1,"unit_amount":00}],"customer":{"email":"@example.com","name":null},' +
    '"save_payment_method":false,"success_url":"https://","failure_url":"https://","capture_method":"automatic",' +
    '"metadata":{},"checkout_url":"https:///checkout/chk_#cs_","client_secret":"cs_","payment":null,"failure_reason":null,' +
    '"failure_message":null,"max_payment_attempts":3,"last_payment_error":null,"created_at":"2026-12-01T00:00:00.000Z",' +
    '"updated_at":"2026-12-01T00:00:00.000Z","expires_at":"2026-12-02T00:00:00.000Z","events":[{"type":"created","at":"2026-12-01T00:00:00.000Z","data":{}}]}',
  'utf8',
);

/** How a stored body is encoded; absent = the body as returned. */
export type StoredBodyEncoding = 'deflate-v1';

/** The body as base64 of its raw deflate with DICTIONARY_V1. */
export function compactBody(body: string): { body: string; encoding: StoredBodyEncoding } {
  const packed = zlib().deflateRawSync(Buffer.from(body, 'utf8'), { level: 9, dictionary: DICTIONARY_V1 });
  return { body: packed.toString('base64'), encoding: 'deflate-v1' };
}

/** The body `compactBody` packed, byte for byte. */
export function expandBody(body: string, encoding: StoredBodyEncoding): string {
  if (encoding !== 'deflate-v1') throw new Error(`Unknown stored body encoding ${String(encoding)}`);
  return zlib().inflateRawSync(Buffer.from(body, 'base64'), { dictionary: DICTIONARY_V1 }).toString('utf8');
}
