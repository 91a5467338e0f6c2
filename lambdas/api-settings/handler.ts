/**
 * GET/PUT /v1/settings (merchant): the inventory-confirmation endpoint and switch, and the default
 * buyer return URLs. PUT is a partial update (absent keeps, null clears) written conditionally
 * on the merchant's version, so two concurrent edits cannot silently overwrite each other
 * (the loser gets 409 `concurrent_modification` and re-reads).
 */
import { applySettingsPatch } from '../domain/merchant-settings';
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { parseInput, settingsInputSchema, toSettingsPatch } from '../shared/validation';
import { toSettingsView } from '../shared/views';
import { merchantRepository, merchantUrlPolicy } from '../shared/wiring';
import { assertSafeUrl, withMerchantPorts } from '../adapters/url-guard';

const settingsSchema = settingsInputSchema({ allowHttpUrls: apiConfig.allowHttpMerchantUrls });

/** The authenticated merchant's settings (read with the merchant at authentication). */
async function getSettings(request: ApiRequest): Promise<ApiResult> {
  return { statusCode: 200, body: toSettingsView(requireMerchant(request.principal).settings) };
}

/** Applies the patch to the settings read at authentication, conditional on that version. */
async function updateSettings(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const patch = toSettingsPatch(parseInput(settingsSchema, request.body));
  const next = applySettingsPatch(merchant.settings, patch);
  // SSRF guard: Paystep calls this URL, so it must be https and public (local mode: see url-guard.ts),
  // on 443, 80 or one of the merchant's allowed_ports (checked against the ports after this patch).
  if (typeof patch.inventoryConfirmationUrl === 'string') {
    await assertSafeUrl(patch.inventoryConfirmationUrl, withMerchantPorts(merchantUrlPolicy, next.allowedPorts), {
      param: 'inventory_confirmation_url',
    });
  }
  const updated = await merchantRepository.updateSettings(merchant.id, next, merchant.version);
  return { statusCode: 200, body: toSettingsView(updated.settings) };
}

export const handler = createApiHandler(
  {
    'GET /v1/settings': { auth: ['merchant'], handle: getSettings },
    'PUT /v1/settings': { auth: ['merchant'], handle: updateSettings },
  },
  apiDependencies,
);
