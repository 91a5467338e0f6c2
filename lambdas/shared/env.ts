/**
 * Environment settings, read once at module load with Powertools' getStringFromEnv so a missing
 * setting fails at cold start, not in the middle of a payment.
 */
import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';

export function requireEnv(key: string): string {
  return getStringFromEnv({ key, errorMessage: `Environment variable ${key} is required` });
}

export function optionalEnv(key: string, defaultValue: string): string {
  return getStringFromEnv({ key, defaultValue });
}
