/**
 * Every AWS client the functions build gives up on a silent endpoint (a black-holed NAT): the
 * DynamoDB document client (aws-json-client.ts) against a loopback server that accepts connections
 * and never answers fails with TimeoutError after its attempts, instead of hanging until the Lambda timeout.
 * (The functions' clients on AWS get these timeouts by default; pointed at a local endpoint, only
 * when asked.)
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_SDK_TIMEOUTS } from '../../../lambdas/adapters/aws-sdk-timeouts';
import { createDocumentClient, GetCommand } from '../../../lambdas/adapters/dynamo-client';

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

describe('AWS request timeouts', () => {
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
    // Assess: 3 attempts of at most requestTimeoutMs each, plus the back-off between them.
    expect(outcome).toBe('TimeoutError');
    expect(elapsed).toBeGreaterThanOrEqual(AWS_SDK_TIMEOUTS.requestTimeoutMs);
    expect(elapsed).toBeLessThan(3 * AWS_SDK_TIMEOUTS.requestTimeoutMs + 3_000);
  }, 20_000);

  it('are on by default for the client the functions use on AWS (no endpoint override)', async () => {
    // Act
    const onAws = createDocumentClient({ region: 'eu-west-1' });
    const local = createDocumentClient({ endpoint: `http://127.0.0.1:${port}`, region: 'eu-west-1' });
    onAws.destroy();
    local.destroy();
    // Assess
    expect(onAws.requestTimeouts).toBe(true);
    expect(local.requestTimeouts).toBe(false);
  });
});
