import { describe, expect, it } from 'vitest';
import { applySettingsPatch, DEFAULT_MERCHANT_SETTINGS } from '../../../lambdas/domain/merchant-settings';
import { ValidationError } from '../../../lambdas/errors';

describe('applySettingsPatch', () => {
  it('keeps absent fields, clears null ones and sets given ones', () => {
    // Prepare
    const current = { inventoryConfirmationEnabled: false, defaultSuccessUrl: 'https://a/ok', defaultFailureUrl: 'https://a/ko' };
    // Act
    const next = applySettingsPatch(current, { defaultSuccessUrl: null, inventoryConfirmationUrl: 'https://a/inv' });
    // Assess
    expect(next).toEqual({
      inventoryConfirmationEnabled: false,
      defaultFailureUrl: 'https://a/ko',
      inventoryConfirmationUrl: 'https://a/inv',
    });
    expect(current.defaultSuccessUrl).toBe('https://a/ok');
  });

  it('refuses confirmation enabled without a URL with a 422 naming the URL', () => {
    // Act
    let error: unknown;
    try {
      applySettingsPatch(DEFAULT_MERCHANT_SETTINGS, { inventoryConfirmationEnabled: true });
    } catch (caught) {
      error = caught;
    }
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 422, code: 'parameter_missing', param: 'inventory_confirmation_url' });
  });
});
