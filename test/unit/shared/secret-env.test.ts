/**
 * The cold-start secret resolver: `secretsmanager:<arn>` references are fetched with
 * GetSecretValue (the admin token hashed on the spot, the AES key passed through), literal values
 * (local runs, tests) are returned untouched without any AWS call, and a secret-less answer fails
 * without echoing anything secret. Fetches go on the wire to a loopback Secrets Manager stand-in
 * (a signed JSON 1.1 request, `secretsmanager.GetSecretValue`); the default source builds its
 * client on the first fetch only and honours AWS_ENDPOINT_URL_SECRETS_MANAGER, as the SDK did.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHashedAdminTokenVerifier } from '../../../lambdas/adapters/admin-token';
import { AesSecretCipher } from '../../../lambdas/adapters/aes-secret-cipher';
import {
  createSecretsManagerSource,
  isSecretReference,
  resolveSecretEnv,
  resolveSecretValue,
  SECRET_REFERENCE_PREFIX,
} from '../../../lambdas/shared/secret-env';
import { SECRET_REFERENCE_PREFIX as CDK_SECRET_REFERENCE_PREFIX } from '../../../lib/constructs/paystep-function';
import { SECRETS_KEY_LENGTH } from '../../../lib/stateful-stack';
import { createSecretsManagerClient } from '../../../lambdas/adapters/secrets-manager-client';
import type { AwsJsonClient } from '../../../lambdas/adapters/aws-json-client';
import { startAwsJsonStub, STUB_CREDENTIALS, type AwsJsonStub, type StubAnswer } from '../../support/aws-json-stub';

const ADMIN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AdminTokenSecret-AbCdEf';
const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SecretsKeySecret-GhIjKl';

let secretsManager: AwsJsonStub;
/** The stand-in's answer per SecretId (anything else: ResourceNotFoundException). */
let answers: Record<string, StubAnswer>;

beforeAll(async () => {
  secretsManager = await startAwsJsonStub(
    (_operation, body) =>
      answers[String(body.SecretId)] ?? { status: 400, errorType: 'ResourceNotFoundException', message: 'not found' },
  );
});

afterAll(async () => {
  await secretsManager.close();
});

beforeEach(() => {
  secretsManager.requests.length = 0;
  answers = {};
});

describe('resolveSecretValue', () => {
  let client: AwsJsonClient;
  let source: ReturnType<typeof createSecretsManagerSource>;

  beforeAll(() => {
    client = createSecretsManagerClient({ endpoint: secretsManager.url, region: 'eu-west-1', credentials: STUB_CREDENTIALS });
    source = createSecretsManagerSource(client);
  });

  afterAll(() => client.destroy());

  it('uses the prefix the CDK stack writes', () => {
    expect(SECRET_REFERENCE_PREFIX).toBe(CDK_SECRET_REFERENCE_PREFIX);
    expect(isSecretReference(`${SECRET_REFERENCE_PREFIX}${ADMIN_ARN}`)).toBe(true);
    expect(isSecretReference('0'.repeat(64))).toBe(false);
  });

  it('fetches the admin token by ARN and returns its sha256 hex, which the admin verifier accepts', async () => {
    // Prepare
    answers[ADMIN_ARN] = { body: { ARN: ADMIN_ARN, Name: 'AdminTokenSecret', SecretString: 'adm_operator-token\n' } };
    // Act
    const hash = await resolveSecretValue(`secretsmanager:${ADMIN_ARN}`, 'sha256-hex', source);
    // Assess
    expect(hash).toBe(createHash('sha256').update('adm_operator-token').digest('hex'));
    expect(await createHashedAdminTokenVerifier(hash)('adm_operator-token')).toBe(true);
    expect(await createHashedAdminTokenVerifier(hash)('adm_other')).toBe(false);
    expect(secretsManager.requests).toHaveLength(1);
    expect(secretsManager.requests[0]).toMatchObject({
      target: 'secretsmanager.GetSecretValue',
      contentType: 'application/x-amz-json-1.1',
      body: { SecretId: ADMIN_ARN },
    });
    expect(secretsManager.requests[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDSTUB\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
    );
  });

  it('fetches the secrets key verbatim: 43 generated alphanumerics make a working AES-256 key', async () => {
    // Prepare
    const generated = 'Q'.repeat(SECRETS_KEY_LENGTH);
    answers[KEY_ARN] = { body: { ARN: KEY_ARN, SecretString: generated } };
    // Act
    const key = await resolveSecretValue(`secretsmanager:${KEY_ARN}`, 'verbatim', source);
    const cipher = new AesSecretCipher(key);
    // Assess
    expect(key).toBe(generated);
    expect(await cipher.decrypt(await cipher.encrypt('whsec_roundtrip'))).toBe('whsec_roundtrip');
  });

  it('returns literal values untouched and calls no AWS API', async () => {
    // Prepare
    const literalHash = 'a'.repeat(64);
    // Act
    const results = [
      await resolveSecretValue(literalHash, 'sha256-hex', source),
      await resolveSecretValue('c2VjcmV0', 'verbatim', source),
    ];
    // Assess
    expect(results).toEqual([literalHash, 'c2VjcmV0']);
    expect(secretsManager.requests).toHaveLength(0);
  });

  it('fails on a secret without a string or with an empty one, naming the ARN only', async () => {
    // Prepare
    answers[KEY_ARN] = { body: { ARN: KEY_ARN, SecretBinary: Buffer.from([1, 2, 3]).toString('base64') } };
    answers[ADMIN_ARN] = { body: { ARN: ADMIN_ARN, SecretString: '' } };
    // Act
    const attempt = resolveSecretValue(`secretsmanager:${KEY_ARN}`, 'verbatim', source);
    const empty = resolveSecretValue(`secretsmanager:${ADMIN_ARN}`, 'sha256-hex', source);
    // Assess
    await expect(attempt).rejects.toThrow(`Secret ${KEY_ARN} has no SecretString`);
    await expect(empty).rejects.toThrow(`Secret ${ADMIN_ARN} has no SecretString`);
    await expect(resolveSecretValue('secretsmanager:', 'verbatim', source)).rejects.toThrow(/needs a secret ARN/);
  });

  it('propagates an access failure (a missing grant fails the cold start, not a payment)', async () => {
    // Prepare
    answers[ADMIN_ARN] = {
      status: 400,
      errorType: 'AccessDeniedException',
      message: 'User is not authorized to perform secretsmanager:GetSecretValue',
    };
    // Act
    const attempt = resolveSecretValue(`secretsmanager:${ADMIN_ARN}`, 'sha256-hex', source);
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
  });
});

describe('the default Secrets Manager source', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('builds its client on the first fetch only: a literal value needs no region, endpoint or credentials', async () => {
    // Prepare: nothing to build a client from (no region, no endpoint override).
    for (const key of ['AWS_REGION', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SECRETS_MANAGER']) delete process.env[key];
    const source = createSecretsManagerSource();
    // Act
    const literal = await resolveSecretValue('c2VjcmV0', 'verbatim', source);
    const reference = resolveSecretValue(`secretsmanager:${KEY_ARN}`, 'verbatim', source);
    // Assess: the literal passes; the reference is the first fetch, which needs a region.
    expect(literal).toBe('c2VjcmV0');
    await expect(reference).rejects.toThrow(/AWS_REGION is not set/);
    expect(secretsManager.requests).toHaveLength(0);
  });

  it("fetches from AWS_ENDPOINT_URL_SECRETS_MANAGER with the environment's region and credentials, one client for all fetches", async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsManager.url;
    process.env.AWS_REGION = 'eu-central-1';
    process.env.AWS_ACCESS_KEY_ID = 'AKIDENV';
    process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
    answers[KEY_ARN] = { body: { ARN: KEY_ARN, SecretString: 'from-the-endpoint' } };
    answers[ADMIN_ARN] = { body: { ARN: ADMIN_ARN, SecretString: 'adm_token' } };
    // Act
    const key = await resolveSecretValue(`secretsmanager:${KEY_ARN}`, 'verbatim');
    const adminHash = await resolveSecretValue(`secretsmanager:${ADMIN_ARN}`, 'sha256-hex');
    // Assess: both fetched, over one kept-alive connection (one client for the container).
    expect(key).toBe('from-the-endpoint');
    expect(adminHash).toBe(createHash('sha256').update('adm_token').digest('hex'));
    expect(secretsManager.requests.map((request) => request.target)).toEqual([
      'secretsmanager.GetSecretValue',
      'secretsmanager.GetSecretValue',
    ]);
    expect(secretsManager.requests[1]!.clientPort).toBe(secretsManager.requests[0]!.clientPort);
    expect(secretsManager.requests[0]!.authorization).toMatch(/Credential=AKIDENV\/\d{8}\/eu-central-1\/secretsmanager\//);
  });
});

describe('resolveSecretEnv', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('is undefined for an unset or blank variable (the function was not given that secret)', async () => {
    // Prepare
    delete process.env.PAYSTEP_TEST_SECRET;
    const unset = await resolveSecretEnv('PAYSTEP_TEST_SECRET', 'verbatim');
    process.env.PAYSTEP_TEST_SECRET = '  ';
    // Act
    const blank = await resolveSecretEnv('PAYSTEP_TEST_SECRET', 'verbatim');
    // Assess
    expect([unset, blank]).toEqual([undefined, undefined]);
  });

  it('resolves a reference from the environment through the given source, once per call', async () => {
    // Prepare
    process.env.PAYSTEP_TEST_SECRET = ` secretsmanager:${ADMIN_ARN} `;
    const asked: string[] = [];
    const source = { getSecretString: async (id: string) => (asked.push(id), 'token') };
    // Act
    const value = await resolveSecretEnv('PAYSTEP_TEST_SECRET', 'sha256-hex', source);
    // Assess
    expect(value).toBe(createHash('sha256').update('token').digest('hex'));
    expect(asked).toEqual([ADMIN_ARN]);
  });
});
