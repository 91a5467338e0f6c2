/**
 * Every AWS SDK client the functions build gives up on a silent endpoint (a black-holed NAT): the
 * DynamoDB document client against a loopback server that accepts connections and never answers
 * fails with the SDK's TimeoutError after its attempts, instead of hanging until the Lambda timeout.
 * (The functions' clients on AWS get these timeouts by default; pointed at a local endpoint, only
 * when asked.)
 */
import { createServer, type Server, type Socket } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_SDK_TIMEOUTS } from '../../../lambdas/adapters/aws-sdk-timeouts';
import { createDocumentClient } from '../../../lambdas/adapters/dynamo-store';

let blackHole: Server;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  blackHole = createServer((socket) => sockets.push(socket)); // accepts, reads nothing, answers nothing
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  port = (blackHole.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => blackHole.close(() => resolve()));
});

describe('AWS SDK request timeouts', () => {
  it('the DynamoDB client fails a request to a silent endpoint with TimeoutError within its attempts', async () => {
    // Prepare
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    const client = createDocumentClient({ endpoint: `http://127.0.0.1:${port}`, region: 'eu-west-1', requestTimeouts: true });
    const started = Date.now();
    // Act
    const outcome = await client.send(new GetCommand({ TableName: 'paystep', Key: { pk: 'x', sk: 'y' } })).then(
      () => 'answered',
      (error: unknown) => (error as Error).name,
    );
    const elapsed = Date.now() - started;
    client.destroy();
    // Assess: 3 attempts of at most requestTimeoutMs each, plus the SDK's back-off between them.
    expect(outcome).toBe('TimeoutError');
    expect(elapsed).toBeGreaterThanOrEqual(AWS_SDK_TIMEOUTS.requestTimeoutMs);
    expect(elapsed).toBeLessThan(3 * AWS_SDK_TIMEOUTS.requestTimeoutMs + 3_000);
  }, 20_000);

  it('are on by default for the client the functions use on AWS (no endpoint override)', async () => {
    // Act
    const client = createDocumentClient({ region: 'eu-west-1' });
    const handler = client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> };
    const config = await handler.configProvider;
    client.destroy();
    // Assess
    expect(config).toMatchObject({
      connectionTimeout: AWS_SDK_TIMEOUTS.connectionTimeoutMs,
      requestTimeout: AWS_SDK_TIMEOUTS.requestTimeoutMs,
      throwOnRequestTimeout: true,
    });
  });
});
