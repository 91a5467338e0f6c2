/**
 * POST /v1/merchants (platform admin): onboards a merchant. Returns its secret key (`sk_test_`)
 * and inventory-confirmation signing secret (`whsec_`) exactly once; Paystep keeps only the key's
 * sha256 and the signing secret encrypted.
 */
import { generateMerchantId, generateMerchantKey, generateSecretKey, generateSigningSecret, sha256Hex } from '../domain/ids';
import { applySettingsPatch, DEFAULT_MERCHANT_SETTINGS } from '../domain/merchant-settings';
import type { Merchant } from '../domain/model';
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { createMerchantInputSchema, parseInput, toSettingsPatch } from '../shared/validation';
import { toCreatedMerchantView } from '../shared/views';
import { merchantRepository, merchantUrlPolicy, secretCipher } from '../shared/wiring';
import { assertSafeUrl, withMerchantPorts } from '../adapters/url-guard';

const createMerchantSchema = createMerchantInputSchema({ allowHttpUrls: apiConfig.allowHttpMerchantUrls });

/** Creates the merchant with fresh credentials; the response is the only copy of the secrets. */
async function createMerchant(request: ApiRequest): Promise<ApiResult> {
  const input = parseInput(createMerchantSchema, request.body);
  const patch = toSettingsPatch(input.settings ?? {});
  const settings = applySettingsPatch(DEFAULT_MERCHANT_SETTINGS, patch);
  // The same save-time SSRF check as PUT /v1/settings: Paystep calls this URL.
  if (typeof patch.inventoryConfirmationUrl === 'string') {
    await assertSafeUrl(patch.inventoryConfirmationUrl, withMerchantPorts(merchantUrlPolicy, settings.allowedPorts), {
      param: 'settings.inventory_confirmation_url',
    });
  }
  const secretKey = generateSecretKey();
  const signingSecret = generateSigningSecret();
  const merchant: Merchant = {
    id: generateMerchantId(),
    name: input.name,
    merchantKey: generateMerchantKey(),
    secretKeyHash: sha256Hex(secretKey),
    signingSecretCiphertext: await secretCipher.encrypt(signingSecret),
    settings,
    createdAt: request.now.toISOString(),
    version: 1,
  };
  await merchantRepository.createMerchant(merchant);
  return { statusCode: 201, body: toCreatedMerchantView(merchant, { secretKey, signingSecret }) };
}

export const handler = createApiHandler({ 'POST /v1/merchants': { auth: ['admin'], handle: createMerchant } }, apiDependencies);
