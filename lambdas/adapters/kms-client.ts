/** The KMS client (AWS JSON 1.1, `TrentService.*`) of the card vault's keyring (kms-vault-keyring.ts). */
import type { AwsJsonClient } from './aws-json-client';
import { createServiceClient, type AwsClientOverrides } from './aws-client-options';

/** Only ever on AWS (locally the vault uses a key file instead): AWS timeouts on (aws-sdk-timeouts.ts). */
export function createKmsClient(overrides: AwsClientOverrides = {}): AwsJsonClient {
  return createServiceClient(
    { service: 'kms', targetPrefix: 'TrentService', jsonVersion: '1.1', envServiceId: 'KMS', timeouts: true },
    overrides,
  );
}
