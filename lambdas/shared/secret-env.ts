/**
 * Secrets in the environment, resolved once per cold start. On AWS the CDK stack gives a function
 * `ADMIN_TOKEN_HASH` / `PAYSTEP_SECRETS_KEY` as `secretsmanager:<secret ARN>` (the plaintext never
 * sits in the function configuration); locally the same variables carry literal values. This
 * module turns either form into what the adapters expect: the admin token's sha256 hex digest
 * (admin-token.ts) and the AES key as base64 (aes-secret-cipher.ts). Literal values pass through
 * untouched, so the local runtime and the tests need no AWS at all.
 */
import { createHash } from 'node:crypto';
import type { AwsJsonCaller } from '../adapters/aws-client-options';

/** Must equal SECRET_REFERENCE_PREFIX in lib/constructs/paystep-function.ts (test/unit checks). */
export const SECRET_REFERENCE_PREFIX = 'secretsmanager:';

/** How the secret string becomes the setting the adapter wants. */
export type SecretKind =
  /** Secrets Manager holds the admin token itself; the setting is its sha256 hex. */
  | 'sha256-hex'
  /** The secret string is the setting (e.g. the base64 AES key). */
  | 'verbatim';

/** The one call the resolver makes; an interface so a test can count calls without AWS. */
export interface SecretSource {
  getSecretString(secretId: string): Promise<string>;
}

/**
 * Secrets Manager's GetSecretValue through the lean AWS JSON client (no SDK package is loaded).
 * The client's module is imported and the client built on the first fetch, not with this module:
 * a function given no secret reference (most of them; every local run and test) reads and builds
 * nothing for it at its cold start.
 * `client`: a Secrets Manager client (createSecretsManagerClient), by default that one.
 */
export function createSecretsManagerSource(client?: AwsJsonCaller): SecretSource {
  return {
    async getSecretString(secretId: string): Promise<string> {
      client ??= (await import('../adapters/secrets-manager-client')).createSecretsManagerClient();
      const answer = await client.call<{ SecretString?: unknown }>('GetSecretValue', { SecretId: secretId });
      if (typeof answer.SecretString !== 'string' || answer.SecretString === '') {
        // Never echo the secret; its id (an ARN) is not secret.
        throw new Error(`Secret ${secretId} has no SecretString`);
      }
      return answer.SecretString;
    },
  };
}

let sharedSource: SecretSource | undefined;

/**
 * The source of every fetch given no source: one client for the container, so the cold start's
 * sequential fetches (secrets key, admin token, connector secrets) share one kept-alive connection.
 */
function defaultSource(): SecretSource {
  sharedSource ??= createSecretsManagerSource();
  return sharedSource;
}

/** True when `value` is a `secretsmanager:<arn>` reference rather than a literal setting. */
export function isSecretReference(value: string): boolean {
  return value.startsWith(SECRET_REFERENCE_PREFIX);
}

/**
 * The usable value of a secret setting. A reference is fetched (once: the caller keeps the result
 * at module scope, i.e. per container) and, for `sha256-hex`, hashed so the plaintext admin token
 * is dropped right here. A literal is returned as configured: locally ADMIN_TOKEN_HASH already is
 * the digest and PAYSTEP_SECRETS_KEY the key.
 */
export async function resolveSecretValue(value: string, kind: SecretKind, source?: SecretSource): Promise<string> {
  if (!isSecretReference(value)) return value;
  const secretId = value.slice(SECRET_REFERENCE_PREFIX.length);
  if (secretId === '') throw new Error('A secretsmanager: reference needs a secret ARN or name after the prefix');
  const secret = (await (source ?? defaultSource()).getSecretString(secretId)).trim();
  return kind === 'sha256-hex' ? createHash('sha256').update(secret, 'utf8').digest('hex') : secret;
}

/**
 * Reads `key` from the environment and resolves it; undefined when the variable is unset (the
 * function was not given that secret: least privilege means most functions are not).
 */
export async function resolveSecretEnv(key: string, kind: SecretKind, source?: SecretSource): Promise<string | undefined> {
  const raw = process.env[key];
  if (raw === undefined || raw.trim() === '') return undefined;
  return await resolveSecretValue(raw.trim(), kind, source);
}
