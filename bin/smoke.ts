/**
 * `npm run smoke -- <ApiUrl> --psp-url <sandbox PSP URL>` with PAYSTEP_ADMIN_TOKEN in the
 * environment: the first-deploy smoke test. Creates a throwaway merchant (inventory confirmation
 * off: no merchant backend is needed), then one payment per kind of test card through the public
 * API and the PSP, and checks each outcome:
 *
 * - approve (4242...)            -> succeeded: authorize and capture through the NAT
 * - decline (4000...0002)        -> failed, payment_declined
 * - unavailable_once (4000...0119) -> succeeded after the saga's retry with the same key
 * - async_callback (4000...0770) -> succeeded once the PSP's signed callback reached
 *   `<ApiUrl>/v1/psp/sandbox/callbacks` (proves the callback secret and URL are configured)
 *
 * Exit code 0 when every payment ended as expected, 1 otherwise. No card number is printed.
 */
import '../local/polyfills';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { PaystepClient } from '../local/paystep-client';
import { tokenizeTestCard } from '../local/sandbox-psp/client';

export interface SmokeCase {
  kind: string;
  card: string;
  expect: { status: 'succeeded' | 'failed'; failureReason?: string };
}

export const SMOKE_CASES: readonly SmokeCase[] = [
  { kind: 'approve', card: '4242424242424242', expect: { status: 'succeeded' } },
  { kind: 'decline', card: '4000000000000002', expect: { status: 'failed', failureReason: 'payment_declined' } },
  { kind: 'unavailable_once', card: '4000000000000119', expect: { status: 'succeeded' } },
  { kind: 'async_callback', card: '4000000000000770', expect: { status: 'succeeded' } },
];

export interface SmokeOptions {
  apiUrl: string;
  pspUrl: string;
  adminToken: string;
  /** Per payment, until terminal; default 120 s (the PSP's async callback comes ~30 s later). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface SmokeResult {
  kind: string;
  checkoutId?: string;
  status?: string;
  failureReason?: string | null;
  ok: boolean;
  error?: string;
}

/** Runs every case (sequentially, so a failure reads clearly); never throws for a failed payment. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeResult[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const api = new PaystepClient(apiUrl);
  const merchant = await api.call<{ id: string; secret_key: string }>('POST', '/v1/merchants', {
    token: options.adminToken,
    body: { name: `Smoke test ${new Date().toISOString()}` },
  });
  if (merchant.status !== 201) throw new Error(`POST /v1/merchants answered ${merchant.status}: ${merchant.text}`);
  log(`merchant ${merchant.body.id} created`);
  const results: SmokeResult[] = [];
  for (const smokeCase of SMOKE_CASES) {
    try {
      const created = await api.call<{ id: string; client_secret: string }>('POST', '/v1/checkouts', {
        token: merchant.body.secret_key,
        idempotencyKey: `smoke-${randomBytes(8).toString('hex')}`,
        body: {
          merchant_order_ref: `smoke_${smokeCase.kind}_${randomBytes(4).toString('hex')}`,
          amount: 1000,
          currency: 'USD',
          items: [{ sku: 'SMOKE-1', name: 'Smoke test item', quantity: 1, unit_amount: 1000 }],
          success_url: 'https://shop.example/success',
          failure_url: 'https://shop.example/failure',
        },
      });
      if (created.status !== 201) throw new Error(`POST /v1/checkouts answered ${created.status}: ${created.text}`);
      const token = await tokenizeTestCard(options.pspUrl, smokeCase.card);
      const paid = await api.pay(created.body.id, created.body.client_secret, token);
      if (paid.status !== 202) throw new Error(`pay answered ${paid.status}: ${paid.text}`);
      const terminal = await api.waitForTerminal(created.body.id, created.body.client_secret, options.timeoutMs ?? 120_000, 500);
      const ok =
        terminal.status === smokeCase.expect.status &&
        (smokeCase.expect.failureReason ?? null) === (terminal.failure_reason ?? null);
      results.push({
        kind: smokeCase.kind,
        checkoutId: created.body.id,
        status: terminal.status,
        failureReason: terminal.failure_reason ?? null,
        ok,
      });
    } catch (error) {
      results.push({ kind: smokeCase.kind, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
    const last = results.at(-1)!;
    log(
      `${last.ok ? 'ok  ' : 'FAIL'} ${last.kind.padEnd(17)} ${last.checkoutId ?? '-'} ${last.status ?? ''}${last.failureReason ? ` (${last.failureReason})` : ''}` +
        `${last.ok ? '' : ` expected ${smokeCase.expect.status}${smokeCase.expect.failureReason ? ` (${smokeCase.expect.failureReason})` : ''}`}${last.error ? `: ${last.error}` : ''}`,
    );
  }
  return results;
}

/** `<ApiUrl> --psp-url <url>`; the admin token from PAYSTEP_ADMIN_TOKEN (never on the command line). */
export function parseSmokeArgs(argv: string[], env: NodeJS.ProcessEnv): SmokeOptions {
  const usage = 'usage: PAYSTEP_ADMIN_TOKEN=<token> npm run smoke -- <ApiUrl> --psp-url <sandbox PSP URL>';
  const positional: string[] = [];
  let pspUrl = env.PAYSTEP_SMOKE_PSP_URL;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--psp-url') pspUrl = argv[++i];
    else if (arg.startsWith('--psp-url=')) pspUrl = arg.slice('--psp-url='.length);
    else positional.push(arg);
  }
  const apiUrl = positional[0];
  const adminToken = env.PAYSTEP_ADMIN_TOKEN;
  for (const [name, value] of [
    ['<ApiUrl>', apiUrl],
    ['--psp-url', pspUrl],
  ] as const) {
    if (value === undefined || !/^https?:\/\/\S+$/.test(value)) throw new Error(`${name} must be an http(s) URL\n${usage}`);
  }
  if (adminToken === undefined || adminToken === '') throw new Error(`PAYSTEP_ADMIN_TOKEN is not set\n${usage}`);
  return { apiUrl: apiUrl!, pspUrl: pspUrl!, adminToken };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const results = await runSmoke(parseSmokeArgs(process.argv.slice(2), process.env));
    const failed = results.filter((result) => !result.ok);
    console.log(
      failed.length === 0
        ? `smoke test passed: ${results.length} payments`
        : `smoke test FAILED: ${failed.length} of ${results.length}`,
    );
    process.exitCode = failed.length === 0 ? 0 : 1;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  }
}
