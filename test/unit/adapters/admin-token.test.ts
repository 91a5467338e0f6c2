import { describe, expect, it } from 'vitest';
import { createHashedAdminTokenVerifier } from '../../../lambdas/adapters/admin-token';
import { sha256Hex } from '../../../lambdas/domain/ids';

describe('createHashedAdminTokenVerifier', () => {
  it('accepts only the token whose sha256 is configured', async () => {
    // Prepare
    const verify = createHashedAdminTokenVerifier(sha256Hex('admin-token').toUpperCase());
    // Act / Assess
    await expect(verify('admin-token')).resolves.toBe(true);
    await expect(verify('admin-token ')).resolves.toBe(false);
    await expect(verify('')).resolves.toBe(false);
  });

  it('fails at cold start on a malformed hash', () => {
    expect(() => createHashedAdminTokenVerifier('not-a-hash')).toThrow(/sha256 hex/);
  });
});
