/**
 * The vault's KMS key service, against a mocked KMS client: data keys are generated under the
 * vault key with the payment method as encryption context and unwrapped with the same context;
 * fingerprints are GenerateMac under the HMAC key; a locally wrapped key is refused before any call.
 */
import { DecryptCommand, GenerateDataKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { KmsVaultKeyring } from '../../../lambdas/adapters/kms-vault-keyring';

const kms = mockClient(KMSClient);
const DATA_KEY = 'arn:aws:kms:eu-west-1:000000000000:key/data';
const MAC_KEY = 'arn:aws:kms:eu-west-1:000000000000:key/mac';
const context = { purpose: 'paystep-card-vault', payment_method: 'pm_1', merchant: 'mer_1' };

beforeEach(() => kms.reset());

describe('KmsVaultKeyring', () => {
  it('wraps with GenerateDataKey and unwraps with Decrypt, both under the payment method context', async () => {
    // Prepare
    const plaintext = new Uint8Array(32).fill(7);
    const blob = new Uint8Array([1, 2, 3]);
    kms.on(GenerateDataKeyCommand).resolves({ Plaintext: plaintext, CiphertextBlob: blob });
    kms.on(DecryptCommand).resolves({ Plaintext: plaintext });
    const keyring = new KmsVaultKeyring(new KMSClient({ region: 'eu-west-1' }), DATA_KEY, MAC_KEY);
    // Act
    const generated = await keyring.generateDataKey(context);
    const unwrapped = await keyring.unwrapDataKey(generated.wrapped, context);
    // Assess
    expect(generated.wrapped).toBe(`kms1:${Buffer.from(blob).toString('base64')}`);
    expect(unwrapped.equals(Buffer.from(plaintext))).toBe(true);
    expect(kms.commandCalls(GenerateDataKeyCommand)[0]!.args[0].input).toEqual({
      KeyId: DATA_KEY,
      KeySpec: 'AES_256',
      EncryptionContext: context,
    });
    const decrypt = kms.commandCalls(DecryptCommand)[0]!.args[0].input;
    expect(decrypt).toMatchObject({ KeyId: DATA_KEY, EncryptionContext: context });
    expect(Buffer.from(decrypt.CiphertextBlob!)).toEqual(Buffer.from(blob));
  });

  it('computes fingerprints with GenerateMac HMAC_SHA_256 under the fingerprint key', async () => {
    // Prepare
    kms.on(GenerateMacCommand).resolves({ Mac: new Uint8Array([9, 9]) });
    const keyring = new KmsVaultKeyring(new KMSClient({ region: 'eu-west-1' }), DATA_KEY, MAC_KEY);
    // Act
    const mac = await keyring.mac('card-fingerprint:mer_1:4242424242424242');
    // Assess
    expect([...mac]).toEqual([9, 9]);
    expect(kms.commandCalls(GenerateMacCommand)[0]!.args[0].input).toMatchObject({
      KeyId: MAC_KEY,
      MacAlgorithm: 'HMAC_SHA_256',
    });
  });

  it('refuses a locally wrapped key without calling KMS', async () => {
    // Prepare
    const keyring = new KmsVaultKeyring(new KMSClient({ region: 'eu-west-1' }), DATA_KEY, MAC_KEY);
    // Act + Assess
    await expect(keyring.unwrapDataKey('local1:a:b:c', context)).rejects.toThrow(/Not a KMS-wrapped/);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(0);
  });
});
