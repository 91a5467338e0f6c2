/**
 * The vault's key service on AWS: KMS. Data keys come from GenerateDataKey under the vault key
 * (AES_256) with the payment method and merchant as encryption context, and are unwrapped with
 * Decrypt, which only the vault's connector-facing functions may call (lib/stateless-stack.ts,
 * checked in test/cdk/card-vault.test.ts). Fingerprints are GenerateMac (HMAC_SHA_256) under a
 * separate HMAC key, so the fingerprint key never leaves KMS either. Wrapped keys are
 * `kms1:<base64 CiphertextBlob>`. Sent through the lean AWS JSON client (kms-client.ts), where
 * every blob travels as base64.
 */
import { base64Bytes, bytesBase64 } from './aws-json-client';
import type { AwsJsonCaller } from './aws-client-options';
import type { VaultKeyring } from '../ports/card-vault';

const PREFIX = 'kms1:';

/** A base64 blob of a KMS answer as a Buffer (what the keyring's callers take), or undefined. */
function blob(value: unknown): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  const bytes = base64Bytes(value);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class KmsVaultKeyring implements VaultKeyring {
  /** `client`: a KMS client (kms-client.ts). */
  constructor(
    private readonly client: AwsJsonCaller,
    private readonly dataKeyId: string,
    private readonly fingerprintKeyId: string,
  ) {}

  async generateDataKey(context: Readonly<Record<string, string>>): Promise<{ plaintext: Buffer; wrapped: string }> {
    const answer = await this.client.call<{ Plaintext?: unknown; CiphertextBlob?: unknown }>('GenerateDataKey', {
      KeyId: this.dataKeyId,
      KeySpec: 'AES_256',
      EncryptionContext: { ...context },
    });
    const plaintext = blob(answer.Plaintext);
    const ciphertext = blob(answer.CiphertextBlob);
    if (plaintext === undefined || ciphertext === undefined) throw new Error('KMS GenerateDataKey returned no key');
    return { plaintext, wrapped: `${PREFIX}${bytesBase64(ciphertext)}` };
  }

  async unwrapDataKey(wrapped: string, context: Readonly<Record<string, string>>): Promise<Buffer> {
    if (!wrapped.startsWith(PREFIX)) throw new Error('Not a KMS-wrapped data key');
    const answer = await this.client.call<{ Plaintext?: unknown }>('Decrypt', {
      KeyId: this.dataKeyId,
      CiphertextBlob: bytesBase64(base64Bytes(wrapped.slice(PREFIX.length))),
      EncryptionContext: { ...context },
    });
    const plaintext = blob(answer.Plaintext);
    if (plaintext === undefined) throw new Error('KMS Decrypt returned no key');
    return plaintext;
  }

  async mac(message: string): Promise<Buffer> {
    const answer = await this.client.call<{ Mac?: unknown }>('GenerateMac', {
      KeyId: this.fingerprintKeyId,
      MacAlgorithm: 'HMAC_SHA_256',
      Message: bytesBase64(Buffer.from(message, 'utf8')),
    });
    const mac = blob(answer.Mac);
    if (mac === undefined) throw new Error('KMS GenerateMac returned no MAC');
    return mac;
  }
}
