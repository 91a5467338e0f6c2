/**
 * The vault's key service for the local runtime and tests: a 32-byte master key read from a key
 * file (mode 0600, in the git-ignored data dir), standing in for KMS. Two keys are derived from it
 * with HKDF-SHA256: one wraps data keys (AES-256-GCM, the context as additional data), one computes
 * fingerprints (HMAC-SHA256). Wrapped keys are `local1:<iv>:<tag>:<ciphertext>` (base64 parts), so
 * a locally wrapped key is never mistaken for a KMS one.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { VaultKeyring } from '../ports/card-vault';

const PREFIX = 'local1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Canonical form of an encryption context (sorted keys), so the same context always binds the same bytes. */
export function canonicalContext(context: Readonly<Record<string, string>>): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}

export class LocalVaultKeyring implements VaultKeyring {
  readonly #wrapKey: Buffer;
  readonly #macKey: Buffer;

  /** `masterKey` must be 32 bytes. */
  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('The local card vault key must be 32 bytes (base64 in the key file)');
    this.#wrapKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'paystep card vault: wrap data keys v1', 32));
    this.#macKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'paystep card vault: fingerprints v1', 32));
  }

  /**
   * Reads the key file (base64 of 32 bytes). Refuses a file that group or others can read: the key
   * decrypts every stored card.
   */
  static fromKeyFile(path: string): LocalVaultKeyring {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `The card vault key file ${path} must be readable by its owner only (chmod 600; it is ${mode.toString(8)})`,
      );
    }
    return new LocalVaultKeyring(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'));
  }

  async generateDataKey(context: Readonly<Record<string, string>>): Promise<{ plaintext: Buffer; wrapped: string }> {
    const plaintext = randomBytes(32);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#wrapKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(canonicalContext(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const wrapped = [PREFIX, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
    return { plaintext, wrapped };
  }

  async unwrapDataKey(wrapped: string, context: Readonly<Record<string, string>>): Promise<Buffer> {
    const parts = wrapped.split(':');
    if (parts.length !== 4 || parts[0] !== PREFIX) throw new Error('Not a locally wrapped data key');
    const decipher = createDecipheriv('aes-256-gcm', this.#wrapKey, Buffer.from(parts[1]!, 'base64'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(canonicalContext(context));
    decipher.setAuthTag(Buffer.from(parts[2]!, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64')), decipher.final()]);
  }

  async mac(message: string): Promise<Buffer> {
    return createHmac('sha256', this.#macKey).update(message, 'utf8').digest();
  }
}
