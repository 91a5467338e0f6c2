/**
 * Merchant settings rules, pure: applying a partial update (PUT /v1/settings is a patch; `null`
 * clears a URL) and the invariant that inventory confirmation cannot be enabled without a URL
 * to call.
 */
import { ValidationError } from '../errors';
import type { MerchantSettings } from './model';

/** A settings patch as the API accepts it: absent = keep, null = clear. */
export interface MerchantSettingsPatch {
  inventoryConfirmationUrl?: string | null;
  inventoryConfirmationEnabled?: boolean;
  defaultSuccessUrl?: string | null;
  defaultFailureUrl?: string | null;
  /** Manual capture: the action at authorization expiry (absent = keep). */
  expiredAuthorizationAction?: 'void' | 'capture';
  /** Extra ports for the merchant's URLs (absent = keep, empty = none). */
  allowedPorts?: number[];
}

export const DEFAULT_MERCHANT_SETTINGS: MerchantSettings = { inventoryConfirmationEnabled: false };

/**
 * Returns the settings after `patch`, or throws a 422 ValidationError (param
 * `inventory_confirmation_url`) when confirmation would be enabled with nowhere to send it.
 */
export function applySettingsPatch(current: MerchantSettings, patch: MerchantSettingsPatch): MerchantSettings {
  const next: MerchantSettings = { ...current };
  assign(next, 'inventoryConfirmationUrl', patch.inventoryConfirmationUrl);
  assign(next, 'defaultSuccessUrl', patch.defaultSuccessUrl);
  assign(next, 'defaultFailureUrl', patch.defaultFailureUrl);
  if (patch.inventoryConfirmationEnabled !== undefined) next.inventoryConfirmationEnabled = patch.inventoryConfirmationEnabled;
  if (patch.expiredAuthorizationAction !== undefined) next.expiredAuthorizationAction = patch.expiredAuthorizationAction;
  if (patch.allowedPorts !== undefined) {
    if (patch.allowedPorts.length === 0) delete next.allowedPorts;
    else next.allowedPorts = [...patch.allowedPorts];
  }
  if (next.inventoryConfirmationEnabled && next.inventoryConfirmationUrl === undefined) {
    throw new ValidationError('inventory_confirmation_url is required while inventory_confirmation_enabled is true', {
      param: 'inventory_confirmation_url',
      code: 'parameter_missing',
      status: 422,
    });
  }
  return next;
}

function assign(
  target: MerchantSettings,
  key: 'inventoryConfirmationUrl' | 'defaultSuccessUrl' | 'defaultFailureUrl',
  value: string | null | undefined,
): void {
  if (value === null) delete target[key];
  else if (value !== undefined) target[key] = value;
}
