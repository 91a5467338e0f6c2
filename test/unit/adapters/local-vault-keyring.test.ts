/**
 * The local stand-in for KMS: data keys wrap and unwrap only under the same context, a tampered
 * wrapped key fails, fingerprints are stable per key and differ across keys, and the key file must
 * be private (0600).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalVaultKeyring } from '../../../lambdas/adapters/local-vault-keyring';
import { loadOrCreateCardVaultKeyFile } from '../../../local/card-vault-key';

const dir = mkdtempSync(join(tmpdir(), 'paystep-keyring-test-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalVaultKeyring', () => {
  const keyring = new LocalVaultKeyring(randomBytes(32));
  const context = { payment_method: 'pm_1', merchant: 'mer_1' };

  it('unwraps a data key under the same context, and refuses another context or a tampered key', async () => {
    // Prepare
    const { plaintext, wrapped } = await keyring.generateDataKey(context);
    const tampered = wrapped.slice(0, -4) + (wrapped.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    // Act + Assess
    expect(plaintext).toHaveLength(32);
    expect(wrapped).toMatch(/^local1:/);
    expect(await keyring.unwrapDataKey(wrapped, { merchant: 'mer_1', payment_method: 'pm_1' })).toEqual(plaintext);
    await expect(keyring.unwrapDataKey(wrapped, { ...context, payment_method: 'pm_2' })).rejects.toThrow();
    await expect(keyring.unwrapDataKey(tampered, context)).rejects.toThrow();
    await expect(new LocalVaultKeyring(randomBytes(32)).unwrapDataKey(wrapped, context)).rejects.toThrow();
  });

  it('computes the same MAC for the same message and key, and another under another key', async () => {
    // Act
    const first = await keyring.mac('card-fingerprint:mer_1:4242424242424242');
    const again = await keyring.mac('card-fingerprint:mer_1:4242424242424242');
    const otherKey = await new LocalVaultKeyring(randomBytes(32)).mac('card-fingerprint:mer_1:4242424242424242');
    // Assess
    expect(first.equals(again)).toBe(true);
    expect(first.equals(otherKey)).toBe(false);
  });

  it('reads a 0600 key file and refuses one that group or others can read', () => {
    // Prepare
    const file = loadOrCreateCardVaultKeyFile(dir);
    const loose = join(dir, 'loose-key');
    writeFileSync(loose, randomBytes(32).toString('base64'));
    chmodSync(loose, 0o644);
    // Act + Assess
    expect(LocalVaultKeyring.fromKeyFile(file)).toBeInstanceOf(LocalVaultKeyring);
    expect(() => LocalVaultKeyring.fromKeyFile(loose)).toThrow(/chmod 600/);
    expect(loadOrCreateCardVaultKeyFile(dir)).toBe(file);
  });
});
