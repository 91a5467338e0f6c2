/**
 * Entry point of the DynamoDB adapters: builds the document client the way every Paystep
 * function needs it. The repositories sharing the single table (lib/table-schema.ts) are imported
 * from their own modules, not re-exported here: a re-export would put each of them in every
 * bundle that imports this module, used or not (lambdas/shared/checkout-wiring.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sdkRequestHandler } from './aws-sdk-timeouts';

export interface DocumentClientOptions {
  /** DynamoDB Local endpoint; credentials then come from the usual env variables. */
  endpoint?: string;
  region?: string;
  /**
   * The AWS request timeouts (aws-sdk-timeouts.ts). Default: on AWS only, i.e. without an endpoint
   * override; DynamoDB Local on a busy machine can take seconds and keeps the SDK's defaults.
   */
  requestTimeouts?: boolean;
}

/**
 * One document client per Lambda container. With a local endpoint the region defaults to
 * us-east-1 (DynamoDB Local ignores it, but the SDK refuses to sign without one); requests are
 * SigV4-signed locally as on AWS. The SDK's logger middleware is removed: with
 * no logger configured it only builds a redacted copy of every request and response for a no-op
 * logger (a few percent of each call's CPU).
 */
export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  const region = options.region ?? process.env['AWS_REGION'] ?? (options.endpoint !== undefined ? 'us-east-1' : undefined);
  const client = new DynamoDBClient({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(region !== undefined ? { region } : {}),
    maxAttempts: 3,
    ...((options.requestTimeouts ?? options.endpoint === undefined) ? { requestHandler: sdkRequestHandler() } : {}),
  });
  client.middlewareStack.remove('loggerMiddleware');
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}
