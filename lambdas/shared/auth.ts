/**
 * Authentication for the public API. One bearer token per request, recognised by its prefix:
 * `sk_test_...` is a merchant secret key (looked up by its sha256, never stored in clear);
 * `cs_...` is a checkout's client secret (the buyer's browser), valid only for the checkout in
 * the path; anything else is checked as the platform admin token. A route lists which kinds it
 * accepts. Missing or invalid credentials are 401; another merchant's resources are 404, never
 * 403, so ids cannot be probed.
 */
import { AuthenticationError, NotFoundError } from '../errors';
import type { AdminTokenVerifier } from '../adapters/admin-token';
import { constantTimeEqual, sha256Hex } from '../domain/ids';
import type { Checkout, Merchant } from '../domain/model';
import type { CheckoutRepository } from '../ports/checkouts';
import type { MerchantRepository } from '../ports/merchants';

export type Principal = { kind: 'admin' } | { kind: 'merchant'; merchant: Merchant } | { kind: 'client'; checkout: Checkout };

export type AuthKind = Principal['kind'];

export interface AuthDependencies {
  merchants: Pick<MerchantRepository, 'findMerchantBySecretKeyHash'>;
  checkouts: Pick<CheckoutRepository, 'getCheckout'>;
  verifyAdminToken: AdminTokenVerifier;
}

/** Resolves the request's principal for a route that accepts `allowed` kinds. */
export type Authenticator = (
  headers: Readonly<Record<string, string | undefined>>,
  allowed: readonly AuthKind[],
  pathParameters: Readonly<Record<string, string | undefined>>,
) => Promise<Principal>;

const SECRET_KEY_PREFIXES = ['sk_test_', 'sk_live_'];
const CLIENT_SECRET_PREFIX = 'cs_';

/** The token from `Authorization: Bearer <token>` (header name and scheme are case-insensitive). */
export function readBearerToken(headers: Readonly<Record<string, string | undefined>>): string {
  let value: string | undefined;
  for (const [name, headerValue] of Object.entries(headers)) {
    if (name.toLowerCase() === 'authorization') value = headerValue;
  }
  if (value === undefined || value.trim() === '') {
    throw new AuthenticationError('Missing credentials: send Authorization: Bearer <key>');
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value.trim());
  if (match === null) throw new AuthenticationError('The Authorization header must use the Bearer scheme');
  return match[1]!;
}

/** Which principal kind a token claims to be, from its prefix alone (not yet verified). */
export function classifyToken(token: string): AuthKind {
  if (SECRET_KEY_PREFIXES.some((prefix) => token.startsWith(prefix))) return 'merchant';
  if (token.startsWith(CLIENT_SECRET_PREFIX)) return 'client';
  return 'admin';
}

const KIND_DESCRIPTIONS: Record<AuthKind, string> = {
  admin: 'the admin token',
  merchant: 'a secret key (sk_test_...)',
  client: 'a checkout client secret (cs_...)',
};

/** Builds the Authenticator used by createApiHandler, over the repositories and admin check. */
export function createAuthenticator(deps: AuthDependencies): Authenticator {
  return async (headers, allowed, pathParameters) => {
    const token = readBearerToken(headers);
    const kind = classifyToken(token);
    if (!allowed.includes(kind)) {
      throw new AuthenticationError(
        `This endpoint requires ${allowed.map((allowedKind) => KIND_DESCRIPTIONS[allowedKind]).join(' or ')}`,
      );
    }
    switch (kind) {
      case 'merchant': {
        const merchant = await deps.merchants.findMerchantBySecretKeyHash(sha256Hex(token));
        if (merchant === undefined) throw new AuthenticationError('Invalid API key');
        return { kind, merchant };
      }
      case 'client': {
        const checkoutId = pathParameters['id'];
        if (checkoutId === undefined) throw new AuthenticationError('A client secret is only valid for its checkout');
        const checkout = await deps.checkouts.getCheckout(checkoutId);
        if (checkout === undefined) throw new NotFoundError('No such checkout');
        if (!constantTimeEqual(sha256Hex(token), checkout.clientSecretHash)) {
          throw new AuthenticationError('Invalid client secret for this checkout');
        }
        return { kind, checkout };
      }
      case 'admin': {
        if (!(await deps.verifyAdminToken(token))) throw new AuthenticationError('Invalid admin token');
        return { kind };
      }
    }
  };
}

/** The merchant behind a merchant principal; for routes that accept only merchants. */
export function requireMerchant(principal: Principal): Merchant {
  if (principal.kind !== 'merchant') throw new AuthenticationError(`This endpoint requires ${KIND_DESCRIPTIONS.merchant}`);
  return principal.merchant;
}

/** The checkout a client secret unlocked; for browser routes (pay, status, public view). */
export function requireClientCheckout(principal: Principal): Checkout {
  if (principal.kind !== 'client') throw new AuthenticationError(`This endpoint requires ${KIND_DESCRIPTIONS.client}`);
  return principal.checkout;
}

/**
 * Loads a checkout for a merchant, as 404 when it does not exist or belongs to someone else
 * (never 403: a merchant must not learn that another merchant's id exists).
 */
export function assertOwnedBy(checkout: Checkout | undefined, merchant: Merchant): Checkout {
  if (checkout === undefined || checkout.merchantId !== merchant.id) throw new NotFoundError('No such checkout', { param: 'id' });
  return checkout;
}

/** The Idempotency-Key scope of a principal: keys never collide across merchants or checkouts. */
export function idempotencyScope(principal: Principal): string {
  switch (principal.kind) {
    case 'admin':
      return 'admin';
    case 'merchant':
      return `merchant:${principal.merchant.id}`;
    case 'client':
      return `checkout:${principal.checkout.id}`;
  }
}
