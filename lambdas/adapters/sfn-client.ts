/**
 * The Step Functions client (AWS JSON 1.0, `AWSStepFunctions.*`) of the functions that start the
 * saga (api-pay) or resume and inspect its executions (task-token-wiring.ts).
 */
import type { AwsJsonClient } from './aws-json-client';
import { createServiceClient, type AwsClientOverrides } from './aws-client-options';

/**
 * The functions pass SFN_ENDPOINT as `endpoint` when it is set (the local emulator): then no AWS
 * timeouts (a shared machine may take seconds); else AWS, with them (aws-sdk-timeouts.ts).
 */
export function createSfnClient(overrides: AwsClientOverrides = {}): AwsJsonClient {
  return createServiceClient(
    {
      service: 'states',
      targetPrefix: 'AWSStepFunctions',
      jsonVersion: '1.0',
      envServiceId: 'SFN',
      timeouts: overrides.endpoint === undefined,
    },
    overrides,
  );
}
