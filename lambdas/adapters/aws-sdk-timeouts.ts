/**
 * Request timeouts for every AWS client the functions create (aws-json-client.ts applies them:
 * DynamoDB, Step Functions, KMS, Secrets Manager). Without them a connection that
 * hangs (a black-holed NAT, a stalled endpoint) waits for the Lambda timeout, and inside
 * CapturePayment's inventory confirmation it would be reported as a merchant timeout though the
 * merchant was never called. With them the call fails fast as a `TimeoutError`, which the state machine
 * does not mistake for the merchant's answer. The client's retries (maxAttempts, as the SDK's) still apply.
 * Clients pointed at a local endpoint (DynamoDB Local, the Step Functions emulator) get no timeouts:
 * a JVM on a shared machine can legitimately take seconds.
 */
export const AWS_SDK_TIMEOUTS = {
  /** TCP + TLS connect: tens of milliseconds in a region, even through a NAT. */
  connectionTimeoutMs: 1_000,
  /** No response data for this long: the request is abandoned (and retried by aws-json-client.ts). */
  requestTimeoutMs: 2_000,
} as const;
