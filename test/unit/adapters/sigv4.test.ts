/**
 * Paystep's SigV4 signer against `aws4` (a widely used implementation, kept as a dev dependency for
 * this check only): the same request, credentials and time give the same Authorization header,
 * with and without a session token, across services, regions and days, for bodies with non-ASCII
 * text.
 */
import aws4 from 'aws4';
import { describe, expect, it } from 'vitest';
import { signedHeaders, type SignableRequest } from '../../../lambdas/adapters/sigv4';
import type { AwsCredentials } from '../../../lambdas/adapters/aws-json-client';

function referenceAuthorization(request: SignableRequest, credentials: AwsCredentials, amzDate: string): string {
  const signed = aws4.sign(
    {
      host: request.host,
      path: '/',
      method: 'POST',
      service: request.service,
      region: request.region,
      headers: { ...request.headers, 'X-Amz-Date': amzDate },
      body: request.body,
    },
    credentials,
  );
  return String((signed.headers as Record<string, string>)['Authorization']);
}

const body = JSON.stringify({ TableName: 'paystep', Key: { pk: { S: 'CHECKOUT#chk_1' }, sk: { S: 'A' } }, note: 'Zürich ✓' });

function request(service: string, region: string, host: string, target: string): SignableRequest {
  return {
    host,
    service,
    region,
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': target,
      'Content-Length': String(Buffer.byteLength(body)),
    },
    body,
  };
}

describe('signedHeaders', () => {
  const cases: [string, SignableRequest, AwsCredentials, Date][] = [
    [
      'DynamoDB Local, static keys',
      request('dynamodb', 'us-east-1', '127.0.0.1:8000', 'DynamoDB_20120810.GetItem'),
      { accessKeyId: 'local', secretAccessKey: 'local' },
      new Date('2026-12-01T18:30:05.123Z'),
    ],
    [
      'a Lambda role with a session token',
      request('dynamodb', 'eu-west-1', 'dynamodb.eu-west-1.amazonaws.com', 'DynamoDB_20120810.UpdateItem'),
      {
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        sessionToken: 'IQoJb3JpZ2luX2VjE//token+/=',
      },
      new Date('2026-12-01T23:59:59.999Z'),
    ],
    [
      'the next day, another service',
      request('states', 'eu-west-1', 'states.eu-west-1.amazonaws.com', 'AWSStepFunctions.StartExecution'),
      {
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        sessionToken: 'IQoJb3JpZ2luX2VjE//token+/=',
      },
      new Date('2026-12-02T00:00:00.000Z'),
    ],
  ];

  it.each(cases)('signs as aws4 does: %s', (_name, signable, credentials, now) => {
    // Act
    const headers = signedHeaders(signable, credentials, now);
    // Assess
    expect(headers['Authorization']).toBe(referenceAuthorization(signable, credentials, headers['X-Amz-Date']!));
    expect(headers['X-Amz-Date']).toBe(now.toISOString().replace(/[:-]|\.\d{3}/g, ''));
    expect(headers['Host']).toBe(signable.host);
    expect(headers['X-Amz-Security-Token']).toBe(credentials.sessionToken);
  });

  it('signs as aws4 does across interleaved secrets, days, regions and services (the derived key cache)', () => {
    // Prepare: 16 scopes, more than the cache keeps, each signed twice in an interleaved order.
    const secrets = ['local', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'];
    const days = [new Date('2026-12-01T10:00:00.000Z'), new Date('2026-12-02T10:00:00.000Z')];
    const targets = [
      ['dynamodb', 'DynamoDB_20120810.GetItem'],
      ['states', 'AWSStepFunctions.StartExecution'],
    ] as const;
    const regions = ['us-east-1', 'eu-west-1'];
    const runs = [1, 2].flatMap(() =>
      secrets.flatMap((secretAccessKey) =>
        days.flatMap((now) =>
          regions.flatMap((region) =>
            targets.map(([service, target]) => ({
              signable: request(service, region, `${service}.${region}.amazonaws.com`, target),
              credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey },
              now,
            })),
          ),
        ),
      ),
    );
    // Act + Assess
    for (const { signable, credentials, now } of runs) {
      const headers = signedHeaders(signable, credentials, now);
      expect(headers['Authorization']).toBe(referenceAuthorization(signable, credentials, headers['X-Amz-Date']!));
    }
  });

  it('gives another signature for another body, secret or time', () => {
    // Prepare
    const [, signable, credentials, now] = cases[0]!;
    const base = signedHeaders(signable, credentials, now)['Authorization'];
    // Act + Assess
    expect(signedHeaders({ ...signable, body: `${body} ` }, credentials, now)['Authorization']).not.toBe(base);
    expect(signedHeaders(signable, { ...credentials, secretAccessKey: 'other' }, now)['Authorization']).not.toBe(base);
    expect(signedHeaders(signable, credentials, new Date(now.getTime() + 1000))['Authorization']).not.toBe(base);
  });
});
