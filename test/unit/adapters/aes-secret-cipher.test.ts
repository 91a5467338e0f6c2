import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { AesSecretCipher } from '../../../lambdas/adapters/aes-secret-cipher';

const key = randomBytes(32).toString('base64');

describe('AesSecretCipher', () => {
  it('round-trips and uses a fresh IV each time', async () => {
    // Prepare
    const cipher = new AesSecretCipher(key);
    // Act
    const a = await cipher.encrypt('whsec_secret');
    const b = await cipher.encrypt('whsec_secret');
    // Assess
    expect(a).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('secret');
    expect(await cipher.decrypt(a)).toBe('whsec_secret');
  });

  it('refuses tampered data, a wrong key and unknown formats', async () => {
    // Prepare
    const cipher = new AesSecretCipher(key);
    const sealed = await cipher.encrypt('payload');
    const [v, iv, tag, ct] = sealed.split(':');
    const flipped = Buffer.from(ct!, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    // Act / Assess
    await expect(cipher.decrypt([v, iv, tag, flipped.toString('base64')].join(':'))).rejects.toThrow();
    await expect(new AesSecretCipher(randomBytes(32).toString('base64')).decrypt(sealed)).rejects.toThrow();
    await expect(cipher.decrypt('v2:a:b:c')).rejects.toThrow('Unsupported ciphertext format');
  });

  it('needs a 32-byte key', () => {
    expect(() => new AesSecretCipher(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
