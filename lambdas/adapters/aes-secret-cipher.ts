/**
 * SecretCipher with AES-256-GCM and a 32-byte key (env `PAYSTEP_SECRETS_KEY`, base64). Used for
 * secrets Paystep must use again later (merchant signing secrets) and for stored idempotent
 * responses, which may contain secret keys and client secrets. Output format:
 * `v1:<iv>:<tag>:<ciphertext>`, each part base64, with a fresh 12-byte IV per message; the
 * version prefix leaves room for a KMS-backed v2 without re-encrypting old data first.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretCipher } from '../ports/secrets';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class AesSecretCipher implements SecretCipher {
  private readonly key: Buffer;

  /** `keyBase64` must decode to exactly 32 bytes; anything else fails at cold start. */
  constructor(keyBase64: string) {
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length !== 32) {
      throw new Error('PAYSTEP_SECRETS_KEY must be 32 bytes, base64 encoded (e.g. `openssl rand -base64 32`)');
    }
    this.key = key;
  }

  async encrypt(plaintext: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `v1:${iv.toString('base64')}:${tag.toString('base64')}:${ciphertext.toString('base64')}`;
  }

  /** Throws on a wrong key, a tampered message or an unknown format; never returns garbage. */
  async decrypt(ciphertext: string): Promise<string> {
    const parts = ciphertext.split(':');
    if (parts.length !== 4 || parts[0] !== 'v1') throw new Error('Unsupported ciphertext format');
    const iv = Buffer.from(parts[1]!, 'base64');
    const tag = Buffer.from(parts[2]!, 'base64');
    const body = Buffer.from(parts[3]!, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('Malformed ciphertext');
    const decipher = createDecipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
}
