/**
 * The vault's key service on AWS: KMS. Data keys come from GenerateDataKey under the vault key
 * (AES_256) with the payment method and merchant as encryption context, and are unwrapped with
 * Decrypt, which only the vault's connector-facing functions may call (lib/stateless-stack.ts,
 * checked in test/cdk/card-vault.test.ts). Fingerprints are GenerateMac (HMAC_SHA_256) under a
 * separate HMAC key, so the fingerprint key never leaves KMS either. Wrapped keys are
 * `kms1:<base64 CiphertextBlob>`.
 */
import { DecryptCommand, GenerateDataKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import type { VaultKeyring } from '../ports/card-vault';

const PREFIX = 'kms1:';

export class KmsVaultKeyring implements VaultKeyring {
  constructor(
    private readonly client: KMSClient,
    private readonly dataKeyId: string,
    private readonly fingerprintKeyId: string,
  ) {}

  async generateDataKey(context: Readonly<Record<string, string>>): Promise<{ plaintext: Buffer; wrapped: string }> {
    const answer = await this.client.send(
      new GenerateDataKeyCommand({ KeyId: this.dataKeyId, KeySpec: 'AES_256', EncryptionContext: { ...context } }),
    );
    if (answer.Plaintext === undefined || answer.CiphertextBlob === undefined)
      throw new Error('KMS GenerateDataKey returned no key');
    return {
      plaintext: Buffer.from(answer.Plaintext),
      wrapped: `${PREFIX}${Buffer.from(answer.CiphertextBlob).toString('base64')}`,
    };
  }

  async unwrapDataKey(wrapped: string, context: Readonly<Record<string, string>>): Promise<Buffer> {
    if (!wrapped.startsWith(PREFIX)) throw new Error('Not a KMS-wrapped data key');
    const answer = await this.client.send(
      new DecryptCommand({
        KeyId: this.dataKeyId,
        CiphertextBlob: Buffer.from(wrapped.slice(PREFIX.length), 'base64'),
        EncryptionContext: { ...context },
      }),
    );
    if (answer.Plaintext === undefined) throw new Error('KMS Decrypt returned no key');
    return Buffer.from(answer.Plaintext);
  }

  async mac(message: string): Promise<Buffer> {
    const answer = await this.client.send(
      new GenerateMacCommand({
        KeyId: this.fingerprintKeyId,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: Buffer.from(message, 'utf8'),
      }),
    );
    if (answer.Mac === undefined) throw new Error('KMS GenerateMac returned no MAC');
    return Buffer.from(answer.Mac);
  }
}
