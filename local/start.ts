/**
 * `npm start`: runs all of Paystep locally (see local/stack.ts) and prints one line per service,
 * the credentials, a few curl examples, then `Ready`. Scripts and outside test suites parse these
 * lines, so their wording is part of the local runtime contract. Ctrl-C / SIGTERM stops everything
 * it started (the DynamoDB Local JVM included) and exits 0; a failed start exits 1.
 *
 * Env: PAYSTEP_PORT (3000), PAYSTEP_SANDBOX_PSP_PORT (3001), PAYSTEP_DEMO_MERCHANT_PORT (3002),
 * PAYSTEP_STRIPE_SANDBOX_PORT (3003),
 * PAYSTEP_SFN_PORT (0 = any), PAYSTEP_ADMIN_TOKEN (generated), PAYSTEP_DATA_DIR (.paystep/data).
 * Flag: --in-memory (nothing written to disk).
 */
import './polyfills';
import { randomBytes } from 'node:crypto';
import { LocalStackStartError, startLocalStack, type LocalStack } from './stack';

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new LocalStackStartError(`${name} must be a port number (0-65535), got "${raw}"`);
  }
  return port;
}

/** The demo shop's t-shirt, at its catalogue price (local/demo-merchant/store.ts), for the curl example. */
const EXAMPLE_ITEM = { sku: 'tshirt', amount: 2500, currency: 'USD' };

/** A merchant_order_ref no earlier run used (the API enforces one checkout per ref and merchant). */
export function freshOrderRef(): string {
  return `order-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** The startup banner: exactly one line per service, then examples, then `Ready`. */
export function formatBanner(stack: LocalStack, orderRef = freshOrderRef(), startedInMs?: number): string[] {
  const api = stack.apiUrl;
  return [
    `API: ${api}`,
    `Sandbox PSP: ${stack.pspUrl}`,
    `Stripe sandbox: ${stack.stripeSandboxUrl}`,
    `Demo merchant: ${stack.merchantUrl}`,
    `Step Functions (local): ${stack.sfnUrl}`,
    `DynamoDB Local: ${stack.dynamoDbEndpoint}`,
    `Data: ${stack.dataDir ?? 'in memory (discarded on exit)'}`,
    `Admin token: ${stack.adminToken}`,
    `Demo merchant id: ${stack.demoMerchant.id}`,
    `Demo merchant secret key: ${stack.demoMerchant.secretKey}`,
    '',
    'Open in a browser:',
    `  Demo shop: ${stack.merchantUrl}/ (Buy -> hosted checkout at ${api}/checkout/<chk_id>; test card 4242 4242 4242 4242)`,
    `  Demo orders: ${stack.merchantUrl}/orders`,
    `  Operator dashboard: ${api}/dashboard (enter the demo merchant secret key above)`,
    '',
    'Try:',
    `  curl -s ${api}/v1/settings -H 'Authorization: Bearer ${stack.demoMerchant.secretKey}'`,
    `  curl -s ${api}/v1/checkouts -H 'Authorization: Bearer ${stack.demoMerchant.secretKey}' -H 'Content-Type: application/json' \\`,
    `    -d '{"merchant_order_ref":"${orderRef}","amount":${EXAMPLE_ITEM.amount},"currency":"${EXAMPLE_ITEM.currency}","items":[{"sku":"${EXAMPLE_ITEM.sku}","quantity":1}],"success_url":"${stack.merchantUrl}/thanks","failure_url":"${stack.merchantUrl}/sorry"}'`,
    `  curl -s ${stack.pspUrl}/v1/tokens -H 'Content-Type: application/json' -d '{"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvc":"123"}'`,
    `  curl -s ${api}/v1/checkouts/<chk_id>/pay -H 'Authorization: Bearer <client_secret>' -H 'Content-Type: application/json' -d '{"payment_token":"<tok_id>"}'`,
    `  curl -s ${api}/v1/checkouts/<chk_id>/status -H 'Authorization: Bearer <client_secret>'`,
    `  curl -s ${api}/v1/checkouts/<chk_id> -H 'Authorization: Bearer ${stack.demoMerchant.secretKey}'   # events[] timeline`,
    `  curl -s '${stack.pspUrl}/v1/ledger?reference=<chk_id>'   # what the PSP authorized/captured/voided`,
    `  npm run demo   # walks a success and an out-of-stock purchase on a throwaway stack`,
    '',
    ...(startedInMs !== undefined ? [`Started in ${(startedInMs / 1000).toFixed(1)} s; Ctrl-C stops everything.`] : []),
    'Ready',
  ];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--in-memory');
  if (unknown.length > 0) throw new LocalStackStartError(`Unknown argument(s): ${unknown.join(' ')} (supported: --in-memory)`);

  const running: { stack?: LocalStack } = {};
  let stopping = false;
  let interrupted = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    interrupted = true;
    console.error(`\n${signal} received, stopping...`);
    // Still starting: main() stops the stack as soon as it is up (a failed start stops itself).
    if (running.stack === undefined) {
      setTimeout(() => process.exit(1), 60_000).unref();
      return;
    }
    running.stack.stop().then(
      () => {
        console.error(
          `Stopped: every service and the DynamoDB Local JVM, after ${formatDuration(Date.now() - startedAt)} running.`,
        );
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`Stopping failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const startedAt = Date.now();
  let done = 0;
  console.error(
    'Starting Paystep locally: DynamoDB Local (Java), Step Functions emulator, API, sandbox PSP, Stripe sandbox, demo merchant, webhook dispatcher, reconciliation sweep...',
  );
  const stack = await startLocalStack({
    progress: (service, elapsedMs) => {
      done += 1;
      console.error(`  [${done}/9] ${service}: ready in ${elapsedMs} ms`);
    },
    apiPort: portFromEnv('PAYSTEP_PORT', 3000),
    pspPort: portFromEnv('PAYSTEP_SANDBOX_PSP_PORT', 3001),
    stripeSandboxPort: portFromEnv('PAYSTEP_STRIPE_SANDBOX_PORT', 3003),
    merchantPort: portFromEnv('PAYSTEP_DEMO_MERCHANT_PORT', 3002),
    sfnPort: portFromEnv('PAYSTEP_SFN_PORT', 0),
    ...(process.env.PAYSTEP_ADMIN_TOKEN ? { adminToken: process.env.PAYSTEP_ADMIN_TOKEN } : {}),
    ...(process.env.PAYSTEP_DATA_DIR ? { dataDir: process.env.PAYSTEP_DATA_DIR } : {}),
    inMemory: args.includes('--in-memory'),
  });
  running.stack = stack;
  if (interrupted) {
    // A signal arrived during startup: stop what just started.
    await stack.stop();
    process.exit(0);
  }
  process.stdout.write(`${formatBanner(stack, freshOrderRef(), Date.now() - startedAt).join('\n')}\n`);
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`Paystep failed to start: ${message}`);
  process.exit(1);
});
