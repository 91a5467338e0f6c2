import { describe, expect, it, vi } from 'vitest';
import {
  assertOwnedBy,
  classifyToken,
  createAuthenticator,
  idempotencyScope,
  readBearerToken,
} from '../../../lambdas/shared/auth';
import { sha256Hex } from '../../../lambdas/domain/ids';
import type { Checkout, Merchant } from '../../../lambdas/domain/model';
import { AuthenticationError, NotFoundError } from '../../../lambdas/errors';

const merchant: Merchant = {
  id: 'mer_1',
  name: 'Shop',
  merchantKey: 'mk_1',
  secretKeyHash: sha256Hex('sk_test_good'),
  signingSecretCiphertext: 'c',
  settings: { inventoryConfirmationEnabled: false },
  createdAt: '2030-01-01T00:00:00.000Z',
  version: 1,
};

const checkout = { id: 'chk_1', merchantId: 'mer_1', clientSecretHash: sha256Hex('cs_good') } as Checkout;

function authenticator() {
  const findMerchantBySecretKeyHash = vi.fn(async (hash: string) => (hash === merchant.secretKeyHash ? merchant : undefined));
  const getCheckout = vi.fn(async (id: string) => (id === checkout.id ? checkout : undefined));
  const verifyAdminToken = vi.fn(async (token: string) => token === 'admin-secret');
  return {
    authenticate: createAuthenticator({
      merchants: { findMerchantBySecretKeyHash },
      checkouts: { getCheckout },
      verifyAdminToken,
    }),
    findMerchantBySecretKeyHash,
    verifyAdminToken,
  };
}

describe('readBearerToken', () => {
  it('reads the token case-insensitively and rejects other schemes', () => {
    expect(readBearerToken({ Authorization: 'bearer sk_test_a' })).toBe('sk_test_a');
    expect(() => readBearerToken({})).toThrow(AuthenticationError);
    expect(() => readBearerToken({ authorization: 'Basic dXNlcg==' })).toThrow(AuthenticationError);
    expect(() => readBearerToken({ authorization: 'Bearer a b' })).toThrow(AuthenticationError);
  });

  it('classifies tokens by prefix', () => {
    expect(['sk_test_x', 'cs_x', 'anything'].map(classifyToken)).toEqual(['merchant', 'client', 'admin']);
  });
});

describe('createAuthenticator', () => {
  it('resolves a merchant by the sha256 of its key', async () => {
    // Prepare
    const { authenticate, findMerchantBySecretKeyHash } = authenticator();
    // Act
    const principal = await authenticate({ authorization: 'Bearer sk_test_good' }, ['merchant'], {});
    // Assess
    expect(principal).toEqual({ kind: 'merchant', merchant });
    expect(findMerchantBySecretKeyHash).toHaveBeenCalledWith(sha256Hex('sk_test_good'));
  });

  it('accepts a client secret only for its own checkout', async () => {
    // Prepare
    const { authenticate } = authenticator();
    // Act
    const ok = await authenticate({ authorization: 'Bearer cs_good' }, ['client'], { id: 'chk_1' });
    const wrong = authenticate({ authorization: 'Bearer cs_bad' }, ['client'], { id: 'chk_1' });
    const missing = authenticate({ authorization: 'Bearer cs_good' }, ['client'], { id: 'chk_2' });
    // Assess
    expect(ok).toEqual({ kind: 'client', checkout });
    await expect(wrong).rejects.toBeInstanceOf(AuthenticationError);
    await expect(missing).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a token kind the route does not accept without checking it', async () => {
    // Prepare
    const { authenticate, verifyAdminToken } = authenticator();
    // Act
    const attempt = authenticate({ authorization: 'Bearer admin-secret' }, ['merchant'], {});
    // Assess
    await expect(attempt).rejects.toThrow('This endpoint requires a secret key (sk_test_...)');
    expect(verifyAdminToken).not.toHaveBeenCalled();
  });

  it('checks the admin token', async () => {
    // Prepare
    const { authenticate } = authenticator();
    // Act / Assess
    await expect(authenticate({ authorization: 'Bearer admin-secret' }, ['admin'], {})).resolves.toEqual({ kind: 'admin' });
    await expect(authenticate({ authorization: 'Bearer admin-wrong' }, ['admin'], {})).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    await expect(authenticate({ authorization: 'Bearer sk_test_unknown' }, ['merchant'], {})).rejects.toThrow('Invalid API key');
  });
});

describe('ownership and scopes', () => {
  it("hides another merchant's checkout as 404", () => {
    expect(() => assertOwnedBy({ ...checkout, merchantId: 'mer_2' }, merchant)).toThrow(NotFoundError);
    expect(() => assertOwnedBy(undefined, merchant)).toThrow(NotFoundError);
    expect(assertOwnedBy(checkout, merchant)).toBe(checkout);
  });

  it('scopes idempotency keys per principal', () => {
    expect(idempotencyScope({ kind: 'admin' })).toBe('admin');
    expect(idempotencyScope({ kind: 'merchant', merchant })).toBe('merchant:mer_1');
    expect(idempotencyScope({ kind: 'client', checkout })).toBe('checkout:chk_1');
  });
});
