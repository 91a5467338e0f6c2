/**
 * Change the merchant's settings (PUT /v1/settings): a partial update (absent keeps, null clears).
 *
 * Primary course:
 * 1. Apply the patch to the settings read at authentication.
 * 2. A new inventory-confirmation URL passes the save-time SSRF check, against the allowed ports
 *    after this patch (Paystep calls it).
 * 3. Write conditionally on the merchant's version, so two concurrent edits cannot silently
 *    overwrite each other (the loser gets ConcurrentModificationError and re-reads).
 * 4. Return the stored settings.
 */
import { applySettingsPatch, type MerchantSettingsPatch } from '../../domain/merchant-settings';
import type { Merchant, MerchantSettings } from '../../domain/model';
import type { MerchantRepository } from '../../ports/merchants';
import type { MerchantUrlGuard } from '../../ports/url-guard';

export interface UpdateSettingsDependencies {
  merchants: MerchantRepository;
  urlGuard: MerchantUrlGuard;
}

export async function updateSettings(
  deps: UpdateSettingsDependencies,
  input: { merchant: Merchant; patch: MerchantSettingsPatch },
): Promise<MerchantSettings> {
  const { merchant, patch } = input;
  const next = applySettingsPatch(merchant.settings, patch);
  if (typeof patch.inventoryConfirmationUrl === 'string') {
    await deps.urlGuard.assertSafe(patch.inventoryConfirmationUrl, {
      allowedPorts: next.allowedPorts,
      param: 'inventory_confirmation_url',
    });
  }
  const updated = await deps.merchants.updateSettings(merchant.id, next, merchant.version);
  return updated.settings;
}
