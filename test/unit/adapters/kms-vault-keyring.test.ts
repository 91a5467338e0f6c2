/**
 * The vault's KMS key service, on the wire against a loopback KMS stand-in: data keys are
 * generated under the vault key with the payment method as encryption context and unwrapped with
 * the same context; fingerprints are GenerateMac under the HMAC key; every blob travels as base64
 * in a signed JSON 1.1 request (TrentService.*); a locally wrapped key is refused before any call,
 * and a KMS error reaches the caller with its name.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKmsClient } from '../../../lambdas/adapters/kms-client';
import type { AwsJsonClient } from '../../../lambdas/adapters/aws-json-client';
import { KmsVaultKeyring } from '../../../lambdas/adapters/kms-vault-keyring';
import { startAwsJsonStub, STUB_CREDENTIALS, type AwsJsonStub, type StubAnswer } from '../../support/aws-json-stub';

const DATA_KEY = 'arn:aws:kms:eu-west-1:000000000000:key/data';
const MAC_KEY = 'arn:aws:kms:eu-west-1:000000000000:key/mac';
const context = { purpose: 'paystep-card-vault', payment_method: 'pm_1', merchant: 'mer_1' };
const plaintext = Buffer.alloc(32, 7);
const blob = Buffer.from([1, 2, 3, 250, 251]);

let kms: AwsJsonStub;
let client: AwsJsonClient;
let keyring: KmsVaultKeyring;
let script: (operation: string) => StubAnswer;

beforeAll(async () => {
  kms = await startAwsJsonStub((operation) => script(operation));
  client = createKmsClient({ endpoint: kms.url, region: 'eu-west-1', credentials: STUB_CREDENTIALS });
  keyring = new KmsVaultKeyring(client, DATA_KEY, MAC_KEY);
});

afterAll(async () => {
  client.destroy();
  await kms.close();
});

beforeEach(() => {
  kms.requests.length = 0;
  script = (operation) => {
    if (operation === 'GenerateDataKey')
      return { body: { KeyId: DATA_KEY, Plaintext: plaintext.toString('base64'), CiphertextBlob: blob.toString('base64') } };
    if (operation === 'Decrypt') return { body: { KeyId: DATA_KEY, Plaintext: plaintext.toString('base64') } };
    if (operation === 'GenerateMac')
      return { body: { KeyId: MAC_KEY, MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.from([9, 9]).toString('base64') } };
    return { status: 400, errorType: 'UnsupportedOperationException', message: operation };
  };
});

describe('KmsVaultKeyring', () => {
  it('wraps with GenerateDataKey and unwraps with Decrypt, both under the payment method context', async () => {
    // Act
    const generated = await keyring.generateDataKey(context);
    const unwrapped = await keyring.unwrapDataKey(generated.wrapped, context);
    // Assess
    expect(generated.wrapped).toBe(`kms1:${blob.toString('base64')}`);
    expect(Buffer.isBuffer(generated.plaintext) && generated.plaintext.equals(plaintext)).toBe(true);
    expect(Buffer.isBuffer(unwrapped) && unwrapped.equals(plaintext)).toBe(true);
    expect(kms.requests.map((request) => request.target)).toEqual(['TrentService.GenerateDataKey', 'TrentService.Decrypt']);
    expect(kms.requests[0]!.body).toEqual({ KeyId: DATA_KEY, KeySpec: 'AES_256', EncryptionContext: context });
    expect(kms.requests[1]!.body).toEqual({
      KeyId: DATA_KEY,
      CiphertextBlob: blob.toString('base64'),
      EncryptionContext: context,
    });
    for (const request of kms.requests) {
      expect(request.contentType).toBe('application/x-amz-json-1.1');
      expect(request.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDSTUB\/\d{8}\/eu-west-1\/kms\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
      );
    }
  });

  it('computes fingerprints with GenerateMac HMAC_SHA_256 under the fingerprint key, the message as base64', async () => {
    // Prepare
    const message = 'card-fingerprint:mer_1:4242424242424242';
    // Act
    const mac = await keyring.mac(message);
    // Assess
    expect(Buffer.isBuffer(mac)).toBe(true);
    expect([...mac]).toEqual([9, 9]);
    expect(kms.requests.map((request) => request.target)).toEqual(['TrentService.GenerateMac']);
    expect(kms.requests[0]!.body).toEqual({
      KeyId: MAC_KEY,
      MacAlgorithm: 'HMAC_SHA_256',
      Message: Buffer.from(message, 'utf8').toString('base64'),
    });
  });

  it('refuses a locally wrapped key without calling KMS', async () => {
    // Act + Assess
    await expect(keyring.unwrapDataKey('local1:a:b:c', context)).rejects.toThrow(/Not a KMS-wrapped/);
    expect(kms.requests).toHaveLength(0);
  });

  it('fails when KMS answers without the key, and passes a KMS error on by name', async () => {
    // Prepare
    script = (operation) =>
      operation === 'GenerateDataKey'
        ? { body: { KeyId: DATA_KEY } }
        : { status: 400, errorType: 'InvalidCiphertextException', message: 'The ciphertext is invalid' };
    // Act
    const generating = keyring.generateDataKey(context);
    const unwrapping = keyring.unwrapDataKey(`kms1:${blob.toString('base64')}`, context);
    // Assess
    await expect(generating).rejects.toThrow('KMS GenerateDataKey returned no key');
    await expect(unwrapping).rejects.toMatchObject({
      name: 'InvalidCiphertextException',
      message: 'The ciphertext is invalid',
      $metadata: { httpStatusCode: 400 },
    });
  });
});
