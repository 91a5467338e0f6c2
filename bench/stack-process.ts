/**
 * The local stack as the benchmarks run it: `npm start`'s stack (local/stack.ts) in its own
 * process, with bench/instrumentation.ts installed, plus a tiny loopback server that hands the
 * counters to the load generator (`GET /counters`, `POST /reset`, `POST /sizing/on|off` for the
 * AWS write-unit sizing of bench/instrumentation.ts, `GET /delivered/<checkoutId>?timeoutMs=N`
 * answering once a result webhook for that checkout was delivered, so the load generator need
 * not poll the API to learn it). It prints the same
 * `Name: value` lines as `npm start` (and `Bench counters: <url>`), then `Ready`.
 *
 * Env: the ports of `npm start` (PAYSTEP_PORT, PAYSTEP_SANDBOX_PSP_PORT, PAYSTEP_STRIPE_SANDBOX_PORT, PAYSTEP_DEMO_MERCHANT_PORT,
 * PAYSTEP_SFN_PORT), PAYSTEP_BENCH_COUNTERS_PORT, PAYSTEP_DATA_DIR; flag --in-memory.
 * SIGTERM stops everything it started; the chaos run SIGKILLs it on purpose.
 */
import '../local/polyfills';
import { createServer } from 'node:http';
import { startLocalStack } from '../local/stack';
import { GetCommand } from '../lambdas/adapters/dynamo-client';
import { createDocumentClient } from '../lambdas/adapters/dynamo-client';
import { TABLE_SCHEMA } from '../lib/table-schema';
import {
  countDynamoDbCalls,
  installInvocationCounting,
  installWebhookDeliveryCounting,
  resetCounters,
  setWriteSizing,
  snapshotCounters,
  whenResultWebhookDelivered,
  type ItemReader,
} from './instrumentation';
import { installOutboundHttpTracing, nameServices, traceDynamoDbCalls } from './latency-trace';

async function main(): Promise<void> {
  const port = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
  installInvocationCounting();
  installWebhookDeliveryCounting();
  const stack = await startLocalStack({
    apiPort: port('PAYSTEP_PORT', 0),
    pspPort: port('PAYSTEP_SANDBOX_PSP_PORT', 0),
    stripeSandboxPort: port('PAYSTEP_STRIPE_SANDBOX_PORT', 0),
    merchantPort: port('PAYSTEP_DEMO_MERCHANT_PORT', 0),
    sfnPort: port('PAYSTEP_SFN_PORT', 0),
    inMemory: process.argv.includes('--in-memory'),
    ...(process.env.PAYSTEP_DATA_DIR ? { dataDir: process.env.PAYSTEP_DATA_DIR } : {}),
  });
  // The handlers are loaded (startLocalStack set their environment first), so this is the very
  // module instance they use: count its DynamoDB calls from now on.
  const wiring = await import('../lambdas/shared/wiring');
  countDynamoDbCalls(wiring.documentClient as unknown as Parameters<typeof countDynamoDbCalls>[0]);
  traceDynamoDbCalls(wiring.documentClient as unknown as Parameters<typeof traceDynamoDbCalls>[0]);
  installOutboundHttpTracing();
  nameServices({
    'DynamoDB Local': stack.dynamoDbEndpoint,
    'Step Functions emulator': stack.sfnUrl,
    'sandbox PSP': stack.pspUrl,
    'Stripe sandbox': stack.stripeSandboxUrl,
    'demo merchant': stack.merchantUrl,
    API: stack.apiUrl,
  });

  // Sizing reads go through their own (uncounted) client.
  const sizingClient = createDocumentClient({ endpoint: stack.dynamoDbEndpoint });
  const readItem: ItemReader = async (tableName, key) =>
    (await sizingClient.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

  const counters = createServer((request, response) => {
    const delivered = /^\/delivered\/([^/?]+)(?:\?timeoutMs=(\d+))?$/.exec(request.url ?? '');
    if (request.method === 'GET' && delivered !== null) {
      void whenResultWebhookDelivered(decodeURIComponent(delivered[1] as string), Number(delivered[2] ?? '30000')).then(
        (seen) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ delivered: seen }));
        },
      );
      return;
    }
    const snapshot = snapshotCounters();
    if (request.method === 'POST' && request.url === '/reset') resetCounters();
    if (request.method === 'POST' && request.url === '/sizing/on')
      setWriteSizing(
        readItem,
        TABLE_SCHEMA.globalSecondaryIndexes.map((index) => ({ ...index })),
      );
    if (request.method === 'POST' && request.url === '/sizing/off') setWriteSizing(undefined);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(snapshot));
  });
  await new Promise<void>((resolve) => counters.listen(port('PAYSTEP_BENCH_COUNTERS_PORT', 0), '127.0.0.1', resolve));
  const address = counters.address();
  const countersUrl = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : '';

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    counters.close();
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  process.stdout.write(
    [
      `API: ${stack.apiUrl}`,
      `Sandbox PSP: ${stack.pspUrl}`,
      `Stripe sandbox: ${stack.stripeSandboxUrl}`,
      `Demo merchant: ${stack.merchantUrl}`,
      `Step Functions (local): ${stack.sfnUrl}`,
      `DynamoDB Local: ${stack.dynamoDbEndpoint}`,
      `Admin token: ${stack.adminToken}`,
      `Demo merchant id: ${stack.demoMerchant.id}`,
      `Demo merchant secret key: ${stack.demoMerchant.secretKey}`,
      `Bench counters: ${countersUrl}`,
      'Ready',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(`bench stack failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
