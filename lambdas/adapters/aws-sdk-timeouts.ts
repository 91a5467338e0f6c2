/**
 * Request timeouts for every AWS SDK client the functions create. Without them a connection that
 * hangs (a black-holed NAT, a stalled endpoint) waits for the Lambda timeout, and inside
 * CapturePayment's inventory confirmation it would be reported as a merchant timeout though the
 * merchant was never called. With them the call fails fast as an SDK error (`TimeoutError`), which the state machine
 * does not mistake for the merchant's answer. The SDK's own retries (maxAttempts) still apply.
 * Clients pointed at a local endpoint (DynamoDB Local, the Step Functions emulator) keep the SDK's
 * defaults: a JVM on a shared machine can legitimately take seconds.
 */
export const AWS_SDK_TIMEOUTS = {
  /** TCP + TLS connect: tens of milliseconds in a region, even through a NAT. */
  connectionTimeoutMs: 1_000,
  /** No response data for this long: the request is abandoned (and retried by the SDK). */
  requestTimeoutMs: 2_000,
} as const;

/**
 * The `requestHandler` option (NodeHttpHandler settings) every client gets. Recent
 * @smithy/node-http-handler versions only log a warning when requestTimeout passes unless
 * `throwOnRequestTimeout` is set (older ones, as a Lambda runtime may bundle, throw and ignore it).
 */
export function sdkRequestHandler(): { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean } {
  return {
    connectionTimeout: AWS_SDK_TIMEOUTS.connectionTimeoutMs,
    requestTimeout: AWS_SDK_TIMEOUTS.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
}
