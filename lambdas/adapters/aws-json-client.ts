/**
 * A small client for AWS's JSON protocols (DynamoDB, Step Functions, KMS, Secrets Manager):
 * the request is a JSON body POSTed to the service's regional endpoint with an `X-Amz-Target`
 * header, signed with SigV4 (sigv4.ts), sent with node:http(s) over a keep-alive agent.
 *
 * Why not AWS SDK v3 (issue 14): importing `@aws-sdk/client-dynamodb` alone costs 104-153 ms of
 * every cold start, and each call through the document client about 1.1-1.5 ms of CPU (its
 * middleware stack, endpoint rules and schema serde), against 9-11 ms and 0.4-0.6 ms here.
 * What the SDK did for these calls and this client keeps:
 * - credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (on Lambda the
 *   SDK's default chain resolves the same variables first);
 * - up to 3 attempts on throttling, 5xx and dropped connections, with the SDK's full-jitter
 *   backoff (100 ms base, 500 ms for throttling);
 * - on AWS, a 1 s connect and 2 s no-response timeout (aws-sdk-timeouts.ts);
 * - errors named by the service's error type (`ConditionalCheckFailedException`, ...), with the
 *   service's fields (`CancellationReasons`, ...) and `$metadata.httpStatusCode`, as the SDK's
 *   exceptions are, so dynamo-support.ts reads them unchanged.
 * Redirects are not followed (AWS endpoints do not send them). Bodies are sent as given: a caller
 * puts blobs in them as base64 (bytesBase64).
 */
import type { Agent } from 'node:http';
import { AWS_SDK_TIMEOUTS } from './aws-sdk-timeouts';
import { http, https } from './node-http';
import { signedHeaders } from './sigv4';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsJsonClientOptions {
  /** The signing name and endpoint prefix: dynamodb, states, kms, secretsmanager. */
  service: string;
  /** `X-Amz-Target` prefix: DynamoDB_20120810, AWSStepFunctions, TrentService, secretsmanager. */
  targetPrefix: string;
  jsonVersion: '1.0' | '1.1';
  /** An endpoint override (DynamoDB Local, the Step Functions emulator); else the regional endpoint. */
  endpoint?: string;
  region?: string;
  credentials?: AwsCredentials;
  /** Attempts per call, the first included (default 3, the SDK's). */
  maxAttempts?: number;
  /** Connect and no-response timeouts; default on AWS only (no endpoint override), as the SDK was configured. */
  timeouts?: boolean;
}

/**
 * The SDK's endpoint override for a service (`DYNAMODB`, `SFN`, `KMS`, `SECRETS_MANAGER`):
 * AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, if one is set.
 */
export function endpointFromEnv(serviceId: string): string | undefined {
  const specific = process.env[`AWS_ENDPOINT_URL_${serviceId}`];
  if (specific !== undefined && specific !== '') return specific;
  const global = process.env['AWS_ENDPOINT_URL'];
  return global !== undefined && global !== '' ? global : undefined;
}

/** Bytes as base64, the AWS JSON protocols' form of a blob. */
export function bytesBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A base64 string as a Uint8Array (not a Buffer: what the SDK gave for blobs). */
export function base64Bytes(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An error answered by the service, shaped like the SDK's service exceptions. */
export class AwsServiceError extends Error {
  declare readonly $metadata: { httpStatusCode: number; requestId?: string; attempts: number };
  constructor(
    name: string,
    message: string,
    status: number,
    requestId: string | undefined,
    attempts: number,
    fields: Record<string, unknown>,
  ) {
    super(message);
    Object.assign(this, fields, { name, $metadata: { httpStatusCode: status, requestId, attempts } });
  }
}

/**
 * The throttling errors these four services answer (the SDK's list has more, for other services),
 * retried with a 500 ms base; 5xx, timeouts and dropped connections with a 100 ms base.
 */
const THROTTLING =
  /^(ThrottlingException|ProvisionedThroughputExceededException|RequestLimitExceeded|TransactionInProgressException|TooManyRequestsException)$/;
const TRANSIENT_NETWORK = /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)$/;

/** The base delay when the SDK's standard retry strategy would retry this failure, else undefined. */
function retryDelayBase(error: unknown): number | undefined {
  if (error instanceof AwsServiceError) {
    const status = error.$metadata.httpStatusCode;
    return THROTTLING.test(error.name) || status === 429 ? 500 : status >= 500 && status !== 501 ? 100 : undefined;
  }
  const { name, code } = error as { name?: string; code?: string };
  return name === 'TimeoutError' || TRANSIENT_NETWORK.test(code ?? '') ? 100 : undefined;
}

/** Whether a failed call was worth retrying (and so was retried): throttling, 5xx, a timeout, a dropped connection. */
export const isRetryable = (error: unknown): boolean => retryDelayBase(error) !== undefined;

const timeoutError = (message: string): Error => Object.assign(new Error(message), { name: 'TimeoutError' });

export class AwsJsonClient {
  readonly endpoint: URL;
  /** Whether the connect and no-response timeouts apply. */
  readonly timeouts: boolean;
  private readonly region: string;
  private readonly agent: Agent;
  /** node:http or node:https, by the endpoint's protocol (the two parts the client uses). */
  private readonly transport: Pick<typeof http, 'request' | 'Agent'>;
  private resolvedCredentials: AwsCredentials | undefined;

  constructor(private readonly options: AwsJsonClientOptions) {
    const region = options.region ?? process.env['AWS_REGION'] ?? (options.endpoint !== undefined ? 'us-east-1' : undefined);
    if (region === undefined) throw new Error('AWS_REGION is not set');
    this.region = region;
    this.endpoint = new URL(options.endpoint ?? `https://${options.service}.${region}.amazonaws.com/`);
    // The JSON protocols POST to `/`; sigv4.ts signs that path only.
    if (this.endpoint.pathname !== '/' || this.endpoint.search !== '')
      throw new Error(`Not an AWS endpoint: ${this.endpoint.href}`);
    this.timeouts = options.timeouts ?? options.endpoint === undefined;
    this.transport = this.endpoint.protocol === 'http:' ? http : https;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 50 });
  }

  /** Calls `operation` with `body`; resolves with the parsed answer, rejects with an AwsServiceError or a network error. */
  async call<T = Record<string, unknown>>(operation: string, body: unknown): Promise<T> {
    const payload = JSON.stringify(body);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.once(operation, payload, attempt)) as T;
      } catch (error) {
        const base = retryDelayBase(error);
        if (base === undefined || attempt >= (this.options.maxAttempts ?? 3)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20_000, base * 2 ** attempt)));
      }
    }
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.agent.destroy();
  }

  private once(operation: string, payload: string, attempt: number): Promise<unknown> {
    const { endpoint, options } = this;
    this.resolvedCredentials ??= options.credentials ?? credentialsFromEnv();
    const headers = signedHeaders(
      {
        host: endpoint.host,
        service: options.service,
        region: this.region,
        headers: {
          'Content-Type': `application/x-amz-json-${options.jsonVersion}`,
          'X-Amz-Target': `${options.targetPrefix}.${operation}`,
          'Content-Length': String(Buffer.byteLength(payload)),
        },
        body: payload,
      },
      this.resolvedCredentials,
    );
    const { timeouts } = this;
    return new Promise((resolve, reject) => {
      const req = this.transport.request(
        {
          hostname: endpoint.hostname,
          port: endpoint.port || undefined,
          path: '/',
          method: 'POST',
          headers,
          agent: this.agent,
          ...(timeouts ? { timeout: AWS_SDK_TIMEOUTS.connectionTimeoutMs } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            const ok = status < 300;
            let parsed: Record<string, unknown> = {};
            try {
              if (text !== '') parsed = JSON.parse(text) as Record<string, unknown>;
            } catch {
              if (ok) return reject(new Error(`${operation}: not JSON`));
            }
            if (ok) return resolve(parsed);
            // The type after '#' (and before ':'), its message and the service's fields.
            const { __type, message, Message, ...fields } = parsed;
            const name = String(__type ?? response.headers['x-amzn-errortype'] ?? `HTTP${status}`)
              .split('#')
              .pop()!
              .split(':')[0]!;
            const requestId = response.headers['x-amzn-requestid'];
            reject(
              new AwsServiceError(
                name,
                String(message ?? Message ?? name),
                status,
                requestId as string | undefined,
                attempt,
                fields,
              ),
            );
          });
        },
      );
      req.on('error', reject);
      // A connect timeout (the request option applies until the socket connects), then a no-answer one.
      if (timeouts) req.setTimeout(AWS_SDK_TIMEOUTS.requestTimeoutMs, () => req.destroy(timeoutError(`${operation}: timed out`)));
      req.end(payload);
    });
  }
}

/** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as Lambda sets them (read once per client). */
function credentialsFromEnv(): AwsCredentials {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new Error('AWS credentials are not set');
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}
