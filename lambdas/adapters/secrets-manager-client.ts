/** The Secrets Manager client (AWS JSON 1.1, `secretsmanager.*`) of the cold-start secret resolver (secret-env.ts). */
import type { AwsJsonClient } from './aws-json-client';
import { createServiceClient, type AwsClientOverrides } from './aws-client-options';

/** AWS timeouts on (aws-sdk-timeouts.ts): a hung fetch would stall the cold start until the init timeout. */
export function createSecretsManagerClient(overrides: AwsClientOverrides = {}): AwsJsonClient {
  return createServiceClient(
    {
      service: 'secretsmanager',
      targetPrefix: 'secretsmanager',
      jsonVersion: '1.1',
      envServiceId: 'SECRETS_MANAGER',
      timeouts: true,
    },
    overrides,
  );
}
