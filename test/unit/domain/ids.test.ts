import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  generateCheckoutId,
  generateClientSecret,
  generateMerchantId,
  generateMerchantKey,
  generateSecretKey,
  generateSigningSecret,
  sha256Hex,
} from '../../../lambdas/domain/ids';

describe('ids and secrets', () => {
  it('uses the documented prefixes and url-safe random parts', () => {
    // Act
    const values = {
      merchant: generateMerchantId(),
      checkout: generateCheckoutId(),
      merchantKey: generateMerchantKey(),
      secretKey: generateSecretKey(),
      clientSecret: generateClientSecret(),
    };
    // Assess
    expect(values.merchant).toMatch(/^mer_[A-Za-z0-9_-]{22}$/);
    expect(values.checkout).toMatch(/^chk_[A-Za-z0-9_-]{22}$/);
    expect(values.merchantKey).toMatch(/^mk_[A-Za-z0-9_-]{22}$/);
    expect(values.secretKey).toMatch(/^sk_test_[A-Za-z0-9_-]{43}$/);
    expect(values.clientSecret).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);
  });

  it('makes Standard Webhooks secrets: whsec_ + base64 of 32 random bytes', () => {
    // Act
    const secret = generateSigningSecret();
    // Assess
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
  });

  it('never repeats an id', () => {
    const ids = new Set(Array.from({ length: 1000 }, generateCheckoutId));
    expect(ids.size).toBe(1000);
  });

  it('hashes with sha256 hex and compares in constant time', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret-longer')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});
