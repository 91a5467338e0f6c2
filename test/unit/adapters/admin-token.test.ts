import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { adminTokenProblem, createHashedAdminTokenVerifier } from '../../../lambdas/adapters/admin-token';
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

describe('adminTokenProblem (PAYSTEP_ADMIN_TOKEN format)', () => {
  it('accepts adm_ followed by at least 20 URL-safe characters, like the generated default', () => {
    expect(adminTokenProblem(`adm_${randomBytes(24).toString('base64url')}`)).toBeUndefined();
    expect(adminTokenProblem('adm_e2e_start_test_token')).toBeUndefined();
  });

  it.each([
    ['secret', 'must start with adm_'],
    ['admin_0123456789abcdefghij', 'must start with adm_'],
    ['adm_short', 'at least 20'],
    ['adm_0123456789abcdefghi', 'at least 20'],
    ['adm_0123456789 abcdefghijk', 'at least 20'],
  ])('refuses %s', (token, why) => {
    expect(adminTokenProblem(token)).toContain(why);
  });
});
