/**
 * Platform-admin authentication. Today the expected token is configured as its sha256 hex
 * (env `ADMIN_TOKEN_HASH`, set by the local runtime); on AWS it will come from Secrets Manager
 * (issue 7). Callers only see the AdminTokenVerifier function type, so swapping the source is a
 * change to wiring, not to the HTTP layer.
 */
import { constantTimeEqual, sha256Hex } from '../domain/ids';

/** Resolves true when `presentedToken` is the admin token. Async so a remote source fits. */
export type AdminTokenVerifier = (presentedToken: string) => Promise<boolean>;

/**
 * Verifier against a sha256 hex digest of the admin token, compared in constant time (the
 * plaintext token is never stored or configured anywhere but the operator's hands).
 */
export function createHashedAdminTokenVerifier(expectedSha256Hex: string): AdminTokenVerifier {
  const expected = expectedSha256Hex.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new Error('ADMIN_TOKEN_HASH must be a sha256 hex digest (64 hex characters)');
  return async (presentedToken: string) => constantTimeEqual(sha256Hex(presentedToken), expected);
}

/** Admin token format: `adm_` then at least 20 URL-safe characters (the generated default has 32). */
export const ADMIN_TOKEN_PREFIX = 'adm_';
export const ADMIN_TOKEN_MIN_SECRET_CHARS = 20;
const ADMIN_TOKEN_PATTERN = new RegExp(`^${ADMIN_TOKEN_PREFIX}[A-Za-z0-9_-]{${ADMIN_TOKEN_MIN_SECRET_CHARS},}$`);

/**
 * Why a configured admin token (PAYSTEP_ADMIN_TOKEN) is refused, or undefined when it is valid.
 * A short or prefix-less token is refused at start: it could be guessed, and without the prefix it
 * is not recognisable in logs and secret scanners.
 */
export function adminTokenProblem(token: string): string | undefined {
  if (!token.startsWith(ADMIN_TOKEN_PREFIX)) return `must start with ${ADMIN_TOKEN_PREFIX}`;
  if (!ADMIN_TOKEN_PATTERN.test(token)) {
    return `must be ${ADMIN_TOKEN_PREFIX} followed by at least ${ADMIN_TOKEN_MIN_SECRET_CHARS} characters from A-Z, a-z, 0-9, _ and -`;
  }
  return undefined;
}
