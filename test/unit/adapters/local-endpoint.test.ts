/**
 * Clients pointed at a loopback stand-in (DynamoDB Local, the Step Functions emulator) skip SigV4
 * and send a fixed Authorization header of SigV4's shape; every other endpoint, and AWS itself,
 * keeps the SDK's SigV4 signer. The document client carries no logger middleware.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../lambdas/adapters/dynamo-store';
import { isLoopbackEndpoint, localEndpointClientOptions, unsignedLocalSigner } from '../../../lambdas/adapters/local-endpoint';

let server: Server;
let endpoint: string;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ Item: { pk: { S: 'x' }, sk: { S: 'y' }, amount: { N: '1250' } } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('local endpoint client options', () => {
  it('tells loopback endpoints from every other endpoint', () => {
    // Act + Assess
    expect(
      ['http://127.0.0.1:8000', 'http://localhost:4566', 'http://[::1]:8000', 'http://127.5.0.1'].map(isLoopbackEndpoint),
    ).toEqual([true, true, true, true]);
    expect(
      [
        undefined,
        '',
        'https://dynamodb.eu-west-1.amazonaws.com',
        'http://10.0.0.5:8000',
        'http://127.0.0.1.example.com',
        'not a url',
      ].map(isLoopbackEndpoint),
    ).toEqual([false, false, false, false, false, false]);
    expect(localEndpointClientOptions('https://dynamodb.eu-west-1.amazonaws.com')).toEqual({});
  });

  it('sends DynamoDB Local requests with an unsigned header naming the access key and region', async () => {
    // Prepare
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    const client = createDocumentClient({ endpoint, region: 'eu-west-1' });
    seen.length = 0;
    // Act
    const { Item } = await client.send(new GetCommand({ TableName: 'paystep', Key: { pk: 'x', sk: 'y' } }));
    client.destroy();
    // Assess
    expect(Item).toEqual({ pk: 'x', sk: 'y', amount: 1250 });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=${process.env.AWS_ACCESS_KEY_ID}/19700101/eu-west-1/local/aws4_request, SignedHeaders=host, Signature=unsigned`,
    );
  });

  it('keeps the SDK SigV4 signer on AWS and drops the no-op logger middleware', async () => {
    // Act
    const client = createDocumentClient({ region: 'eu-west-1' });
    const schemes = client.config.httpAuthSchemes as { schemeId: string; signer: unknown }[];
    const middleware = client.middlewareStack.identify().join('\n');
    client.destroy();
    // Assess
    expect(schemes.map((scheme) => scheme.schemeId)).toContain('aws.auth#sigv4');
    expect(schemes.some((scheme) => scheme.signer === unsignedLocalSigner)).toBe(false);
    expect(middleware).toContain('httpSigningMiddleware');
    expect(middleware).not.toContain('loggerMiddleware');
  });
});
