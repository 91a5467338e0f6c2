/**
 * The service clients' settings: each reaches its regional endpoint unless overridden, by the
 * caller first, then by the SDK's AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL (as the SDK
 * clients did); KMS and Secrets Manager always get the AWS timeouts, Step Functions and DynamoDB
 * unless the caller points them at a local emulator (SFN_ENDPOINT, DYNAMODB_ENDPOINT).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsJsonClient } from '../../../lambdas/adapters/aws-json-client';
import { createDocumentClient, GetCommand } from '../../../lambdas/adapters/dynamo-client';
import { endpointFromEnv } from '../../../lambdas/adapters/aws-json-client';
import { createKmsClient } from '../../../lambdas/adapters/kms-client';
import { createSecretsManagerClient } from '../../../lambdas/adapters/secrets-manager-client';
import { createSfnClient } from '../../../lambdas/adapters/sfn-client';

const ENDPOINT_VARIABLES = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SFN',
  'AWS_ENDPOINT_URL_KMS',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
];

/** Where a client sends its requests and whether they time out (the client is closed at once). */
function settingsOf(client: AwsJsonClient): [string, boolean] {
  client.destroy();
  return [client.endpoint.href, client.timeouts];
}

describe('AWS service clients', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reach the regional endpoints with the AWS timeouts when nothing overrides them', () => {
    // Prepare
    for (const key of ENDPOINT_VARIABLES) delete process.env[key];
    // Act
    const clients = [
      createSfnClient({ region: 'eu-west-1' }),
      createKmsClient({ region: 'eu-west-1' }),
      createSecretsManagerClient({ region: 'eu-west-1' }),
    ].map(settingsOf);
    // Assess
    expect(clients).toEqual([
      ['https://states.eu-west-1.amazonaws.com/', true],
      ['https://kms.eu-west-1.amazonaws.com/', true],
      ['https://secretsmanager.eu-west-1.amazonaws.com/', true],
    ]);
  });

  it("take the SDK's endpoint variables, the service's own before the global one, and keep the timeouts", () => {
    // Prepare
    for (const key of ENDPOINT_VARIABLES) delete process.env[key];
    process.env.AWS_ENDPOINT_URL = 'https://global.example.test';
    process.env.AWS_ENDPOINT_URL_KMS = 'https://kms.example.test';
    // Act
    const clients = [
      createSfnClient({ region: 'eu-west-1' }),
      createKmsClient({ region: 'eu-west-1' }),
      createSecretsManagerClient({ region: 'eu-west-1' }),
    ].map(settingsOf);
    // Assess
    expect(endpointFromEnv('KMS')).toBe('https://kms.example.test');
    expect(endpointFromEnv('SFN')).toBe('https://global.example.test');
    expect(clients).toEqual([
      ['https://global.example.test/', true],
      ['https://kms.example.test/', true],
      ['https://global.example.test/', true],
    ]);
  });

  it("send DynamoDB's calls to AWS_ENDPOINT_URL_DYNAMODB with the AWS timeouts; the caller's endpoint wins and turns them off", async () => {
    // Prepare: a stand-in DynamoDB endpoint that answers one item
    for (const key of ENDPOINT_VARIABLES) delete process.env[key];
    const targets: string[] = [];
    const server = createServer((request, response) => {
      targets.push(String(request.headers['x-amz-target']));
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ Item: { pk: { S: 'a' } } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.AWS_ENDPOINT_URL = 'https://global.example.test';
    process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
    const client = createDocumentClient({ region: 'eu-west-1', credentials });
    const own = createDocumentClient({ region: 'eu-west-1', credentials, endpoint: 'http://127.0.0.1:1' });
    try {
      // Act
      const answer = await client.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }));
      // Assess
      expect(answer.Item).toEqual({ pk: 'a' });
      expect(targets).toEqual(['DynamoDB_20120810.GetItem']);
      expect([client.requestTimeouts, own.requestTimeouts]).toEqual([true, false]);
    } finally {
      client.destroy();
      own.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("let the caller's endpoint win; Step Functions pointed at the emulator gets no timeouts", () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL_SFN = 'https://sfn.example.test';
    // Act
    const emulator = settingsOf(createSfnClient({ endpoint: 'http://127.0.0.1:8083' }));
    // Assess
    expect(emulator).toEqual(['http://127.0.0.1:8083/', false]);
  });
});
