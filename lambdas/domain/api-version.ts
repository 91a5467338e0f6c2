/**
 * Dated API versions a merchant can pin, Stripe-style: per request with the `Paystep-Version`
 * header, and per webhook endpoint with `api_version` (the version its deliveries are rendered
 * for, sent in the `Paystep-Version` header of each delivery). An unknown version is refused
 * (400 `invalid_api_version`) instead of silently falling back, so a typo never changes shapes.
 */

/** Every version this deployment serves, oldest first; the last one is the default. */
export const API_VERSIONS = ['2026-11-30'] as const;

export type ApiVersion = (typeof API_VERSIONS)[number];

export const LATEST_API_VERSION: ApiVersion = API_VERSIONS[API_VERSIONS.length - 1]!;

/** The request and webhook header that carries the version. */
export const API_VERSION_HEADER = 'Paystep-Version';

export function isApiVersion(value: string): value is ApiVersion {
  return (API_VERSIONS as readonly string[]).includes(value);
}
