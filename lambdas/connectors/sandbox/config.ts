/**
 * The sandbox connector's configuration, read from the environment once at cold start: where the
 * PSP's API is (SANDBOX_PSP_URL, only on the functions that call the PSP), how long a call may take
 * (PSP_TIMEOUT_MS) and the callback signing secrets (SANDBOX_PSP_CALLBACK_SECRET and, during a
 * rotation, SANDBOX_PSP_CALLBACK_PREVIOUS_SECRET; `secretsmanager:<arn>` references on AWS).
 */
import { optionalEnv } from '../../shared/env';
import { resolveSecretEnv } from '../../shared/secret-env';
import { DEFAULT_PSP_TIMEOUT_MS, type SandboxPspGatewayOptions } from './gateway';

/** The gateway's settings, or undefined when this function was given no SANDBOX_PSP_URL. */
export function sandboxGatewayOptionsFromEnv(): SandboxPspGatewayOptions | undefined {
  const baseUrl = optionalEnv('SANDBOX_PSP_URL', '');
  if (baseUrl === '') return undefined;
  return { baseUrl, timeoutMs: Number(optionalEnv('PSP_TIMEOUT_MS', String(DEFAULT_PSP_TIMEOUT_MS))) };
}

/** The accepted callback secrets (current first); empty when none is configured. */
export async function sandboxCallbackSecretsFromEnv(): Promise<string[]> {
  const current = await resolveSecretEnv('SANDBOX_PSP_CALLBACK_SECRET', 'verbatim');
  const previous = await resolveSecretEnv('SANDBOX_PSP_CALLBACK_PREVIOUS_SECRET', 'verbatim');
  return [current, previous].filter((secret): secret is string => secret !== undefined && secret !== '');
}
