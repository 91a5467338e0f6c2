/**
 * The AWS JSON clients (aws-json-client.ts) for the services Paystep calls besides DynamoDB, with
 * the protocol settings each one speaks: Step Functions (StartExecution and the task-token
 * callbacks of the saga), KMS (the card vault's data keys and fingerprints), Secrets Manager (the
 * cold-start secret references). None of them loads an AWS SDK package (issue 14: module
 * initialisation <= 50 ms).
 *
 * Endpoints: the regional one unless overridden. Besides Paystep's own SFN_ENDPOINT (the local
 * emulator), the SDK's standard variables still apply as they did with the SDK clients:
 * AWS_ENDPOINT_URL_<SERVICE> (SFN, KMS, SECRETS_MANAGER), then AWS_ENDPOINT_URL.
 */
import { AwsJsonClient, type AwsJsonClientOptions } from './aws-json-client';

/** What an adapter needs of the client: one call per operation (a test can hand a stub). */
export type AwsJsonCaller = Pick<AwsJsonClient, 'call'>;

/** The SDK's endpoint override for a service (`SFN`, `KMS`, `SECRETS_MANAGER`), if any is set. */
export function endpointFromEnv(serviceId: string): string | undefined {
  const specific = process.env[`AWS_ENDPOINT_URL_${serviceId}`];
  if (specific !== undefined && specific !== '') return specific;
  const global = process.env['AWS_ENDPOINT_URL'];
  return global !== undefined && global !== '' ? global : undefined;
}

/** What a caller may set besides the service's protocol: an endpoint, region, credentials, retries, timeouts. */
export type AwsClientOverrides = Pick<AwsJsonClientOptions, 'endpoint' | 'region' | 'credentials' | 'maxAttempts' | 'timeouts'>;

/** `overrides` with the endpoint from the environment when it names none. */
function withEndpoint(serviceId: string, overrides: AwsClientOverrides): AwsClientOverrides {
  const endpoint = overrides.endpoint ?? endpointFromEnv(serviceId);
  return endpoint !== undefined ? { ...overrides, endpoint } : overrides;
}

/**
 * Step Functions (JSON 1.0). The functions pass SFN_ENDPOINT as `endpoint` when it is set (the
 * local emulator): then no AWS timeouts (a shared machine may take seconds); else AWS, with them.
 */
export function createSfnClient(overrides: AwsClientOverrides = {}): AwsJsonClient {
  return new AwsJsonClient({
    service: 'states',
    targetPrefix: 'AWSStepFunctions',
    jsonVersion: '1.0',
    timeouts: overrides.endpoint === undefined,
    ...withEndpoint('SFN', overrides),
  });
}

/** KMS (JSON 1.1), only ever on AWS (locally the vault uses a key file instead): AWS timeouts on. */
export function createKmsClient(overrides: AwsClientOverrides = {}): AwsJsonClient {
  return new AwsJsonClient({
    service: 'kms',
    targetPrefix: 'TrentService',
    jsonVersion: '1.1',
    timeouts: true,
    ...withEndpoint('KMS', overrides),
  });
}

/** Secrets Manager (JSON 1.1), AWS timeouts on (a hung fetch would stall the cold start until the Lambda's init timeout). */
export function createSecretsManagerClient(overrides: AwsClientOverrides = {}): AwsJsonClient {
  return new AwsJsonClient({
    service: 'secretsmanager',
    targetPrefix: 'secretsmanager',
    jsonVersion: '1.1',
    timeouts: true,
    ...withEndpoint('SECRETS_MANAGER', overrides),
  });
}
