/**
 * Read the merchant's settings (GET /v1/settings).
 *
 * Primary course:
 * 1. Return the settings of the merchant read at authentication (no second read).
 */
import type { Merchant, MerchantSettings } from '../../domain/model';

export function getSettings(input: { merchant: Merchant }): MerchantSettings {
  return input.merchant.settings;
}
