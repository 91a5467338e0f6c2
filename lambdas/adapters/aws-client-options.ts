/**
 * What the AWS JSON clients of the services Paystep calls besides DynamoDB share (sfn-client.ts,
 * kms-client.ts, secrets-manager-client.ts, each a module of its own so that a function's bundle
 * reads at its cold start only the clients it calls there): the narrow `{ call }` view the adapters
 * take, the options a caller may set, and the endpoint overrides the SDK honoured. None of them
 * loads an AWS SDK package (issue 14: module initialisation <= 50 ms).
 *
 * Endpoints: the regional one unless overridden: by the caller (SFN_ENDPOINT, the local emulator;
 * a test's stand-in), else by the SDK's standard variables AWS_ENDPOINT_URL_<SERVICE> (SFN, KMS,
 * SECRETS_MANAGER), then AWS_ENDPOINT_URL, as the SDK clients did.
 */
import { AwsJsonClient, endpointFromEnv, type AwsJsonClientOptions } from './aws-json-client';

/** What an adapter needs of the client: one call per operation (a test can hand a stub). */
export type AwsJsonCaller = Pick<AwsJsonClient, 'call'>;

/** What a caller may set besides the service's protocol: endpoint, region, credentials, retries, timeouts. */
export type AwsClientOverrides = Pick<AwsJsonClientOptions, 'endpoint' | 'region' | 'credentials' | 'maxAttempts' | 'timeouts'>;

/**
 * A client for one service: its protocol settings, the timeouts it gets unless the caller says
 * otherwise, and the caller's overrides, the endpoint defaulting to the environment's override.
 */
export function createServiceClient(
  protocol: Pick<AwsJsonClientOptions, 'service' | 'targetPrefix' | 'jsonVersion'> & { envServiceId: string; timeouts: boolean },
  overrides: AwsClientOverrides,
): AwsJsonClient {
  const { envServiceId, ...settings } = protocol;
  const endpoint = overrides.endpoint ?? endpointFromEnv(envServiceId);
  return new AwsJsonClient({ ...settings, ...overrides, ...(endpoint !== undefined ? { endpoint } : {}) });
}
