/**
 * GET/PUT /v1/settings (merchant): the inventory-confirmation endpoint and switch, and the default
 * buyer return URLs. PUT is a partial update (absent keeps, null clears) written conditionally
 * on the merchant's version, so two concurrent edits cannot silently overwrite each other
 * (the loser gets 409 `concurrent_modification` and re-reads). Use cases: lambdas/use-cases/settings/.
 */
import { createMerchantUrlGuard } from '../adapters/url-guard';
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { builtOnFirstUse, parseInput, settingsInputSchema, toSettingsPatch } from '../shared/validation';
import { toSettingsView } from '../shared/views';
import { merchantRepository, merchantUrlPolicy } from '../shared/wiring';
import { getSettings } from '../use-cases/settings/get-settings';
import { updateSettings } from '../use-cases/settings/update-settings';

const settingsSchema = builtOnFirstUse(() => settingsInputSchema({ allowHttpUrls: apiConfig.allowHttpMerchantUrls }));
const deps = { merchants: merchantRepository, urlGuard: createMerchantUrlGuard(merchantUrlPolicy) };

async function get(request: ApiRequest): Promise<ApiResult> {
  return { statusCode: 200, body: toSettingsView(getSettings({ merchant: requireMerchant(request.principal) })) };
}

async function update(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const patch = toSettingsPatch(parseInput(settingsSchema(), request.body));
  return { statusCode: 200, body: toSettingsView(await updateSettings(deps, { merchant, patch })) };
}

export const handler = createApiHandler(
  {
    'GET /v1/settings': { auth: ['merchant'], handle: get },
    'PUT /v1/settings': { auth: ['merchant'], handle: update },
  },
  apiDependencies,
);
