/**
 * The cold-start secret resolver: `secretsmanager:<arn>` references are fetched with
 * GetSecretValue (the admin token hashed on the spot, the AES key passed through), literal values
 * (local runs, tests) are returned untouched without any AWS call, and a secret-less answer fails
 * without echoing anything secret.
 */
import { createHash } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

const ADMIN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AdminTokenSecret-AbCdEf';
const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SecretsKeySecret-GhIjKl';

describe('resolveSecretValue', () => {
  const client = new SecretsManagerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const sdk = mockClient(client);
  const source = createSecretsManagerSource(client);

  beforeEach(() => sdk.reset());

  it('uses the prefix the CDK stack writes', () => {
    expect(SECRET_REFERENCE_PREFIX).toBe(CDK_SECRET_REFERENCE_PREFIX);
    expect(isSecretReference(`${SECRET_REFERENCE_PREFIX}${ADMIN_ARN}`)).toBe(true);
    expect(isSecretReference('0'.repeat(64))).toBe(false);
  });

  it('fetches the admin token by ARN and returns its sha256 hex, which the admin verifier accepts', async () => {
    // Prepare
    sdk.on(GetSecretValueCommand, { SecretId: ADMIN_ARN }).resolves({ SecretString: 'adm_operator-token\n' });
    // Act
    const hash = await resolveSecretValue(`secretsmanager:${ADMIN_ARN}`, 'sha256-hex', source);
    // Assess
    expect(hash).toBe(createHash('sha256').update('adm_operator-token').digest('hex'));
    expect(await createHashedAdminTokenVerifier(hash)('adm_operator-token')).toBe(true);
    expect(await createHashedAdminTokenVerifier(hash)('adm_other')).toBe(false);
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('fetches the secrets key verbatim: 43 generated alphanumerics make a working AES-256 key', async () => {
    // Prepare
    const generated = 'Q'.repeat(SECRETS_KEY_LENGTH);
    sdk.on(GetSecretValueCommand, { SecretId: KEY_ARN }).resolves({ SecretString: generated });
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
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('fails on a secret without a string, naming the ARN only', async () => {
    // Prepare
    sdk.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    // Act
    const attempt = resolveSecretValue(`secretsmanager:${KEY_ARN}`, 'verbatim', source);
    // Assess
    await expect(attempt).rejects.toThrow(`Secret ${KEY_ARN} has no SecretString`);
    await expect(resolveSecretValue('secretsmanager:', 'verbatim', source)).rejects.toThrow(/needs a secret ARN/);
  });

  it('propagates an access failure (a missing grant fails the cold start, not a payment)', async () => {
    // Prepare
    sdk.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('User is not authorized to perform secretsmanager:GetSecretValue'), {
        name: 'AccessDeniedException',
      }),
    );
    // Act
    const attempt = resolveSecretValue(`secretsmanager:${ADMIN_ARN}`, 'sha256-hex', source);
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'AccessDeniedException' });
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
