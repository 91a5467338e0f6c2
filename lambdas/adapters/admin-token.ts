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
