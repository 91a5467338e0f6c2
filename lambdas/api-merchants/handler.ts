/**
 * POST /v1/merchants (platform admin): onboards a merchant. Returns its secret key (`sk_test_`)
 * and inventory-confirmation signing secret (`whsec_`) exactly once; Paystep keeps only the key's
 * sha256 and the signing secret encrypted (lambdas/use-cases/merchants/create-merchant.ts).
 */
import { createMerchantUrlGuard } from '../adapters/url-guard';
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { builtOnFirstUse, createMerchantInputSchema, parseInput, toSettingsPatch } from '../shared/validation';
import { toCreatedMerchantView } from '../shared/views';
import { merchantRepository, merchantUrlPolicy, secretCipher } from '../shared/wiring';
import { createMerchant } from '../use-cases/merchants/create-merchant';

const createMerchantSchema = builtOnFirstUse(() => createMerchantInputSchema({ allowHttpUrls: apiConfig.allowHttpMerchantUrls }));
const deps = { merchants: merchantRepository, cipher: secretCipher, urlGuard: createMerchantUrlGuard(merchantUrlPolicy) };

/** Creates the merchant with fresh credentials; the response is the only copy of the secrets. */
async function create(request: ApiRequest): Promise<ApiResult> {
  const input = parseInput(createMerchantSchema(), request.body);
  const { merchant, secretKey, signingSecret } = await createMerchant(deps, {
    name: input.name,
    settings: toSettingsPatch(input.settings ?? {}),
    now: request.now,
  });
  return { statusCode: 201, body: toCreatedMerchantView(merchant, { secretKey, signingSecret }) };
}

export const handler = createApiHandler({ 'POST /v1/merchants': { auth: ['admin'], handle: create } }, apiDependencies);
