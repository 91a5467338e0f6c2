/**
 * Onboard a merchant (POST /v1/merchants, platform admin).
 *
 * Primary course:
 * 1. Apply the requested settings to the defaults; an inventory-confirmation URL passes the same
 *    save-time SSRF check as PUT /v1/settings (Paystep calls it).
 * 2. Generate the secret key (`sk_test_`, kept as its sha256) and the inventory-confirmation
 *    signing secret (`whsec_`, kept encrypted).
 * 3. Store the merchant with its secret-key lookup item.
 * 4. Return the merchant and both secrets: the only copy the merchant ever gets.
 */
import { generateMerchantId, generateMerchantKey, generateSecretKey, generateSigningSecret, sha256Hex } from '../../domain/ids';
import { applySettingsPatch, DEFAULT_MERCHANT_SETTINGS, type MerchantSettingsPatch } from '../../domain/merchant-settings';
import type { Merchant } from '../../domain/model';
import type { MerchantRepository } from '../../ports/merchants';
import type { SecretCipher } from '../../ports/secrets';
import type { MerchantUrlGuard } from '../../ports/url-guard';

export interface CreateMerchantDependencies {
  merchants: MerchantRepository;
  cipher: SecretCipher;
  urlGuard: MerchantUrlGuard;
}

export interface CreateMerchantOutput {
  merchant: Merchant;
  secretKey: string;
  signingSecret: string;
}

export async function createMerchant(
  deps: CreateMerchantDependencies,
  input: { name: string; settings: MerchantSettingsPatch; now: Date },
): Promise<CreateMerchantOutput> {
  const settings = applySettingsPatch(DEFAULT_MERCHANT_SETTINGS, input.settings);
  if (typeof input.settings.inventoryConfirmationUrl === 'string') {
    await deps.urlGuard.assertSafe(input.settings.inventoryConfirmationUrl, {
      allowedPorts: settings.allowedPorts,
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
    signingSecretCiphertext: await deps.cipher.encrypt(signingSecret),
    settings,
    createdAt: input.now.toISOString(),
    version: 1,
  };
  await deps.merchants.createMerchant(merchant);
  return { merchant, secretKey, signingSecret };
}
