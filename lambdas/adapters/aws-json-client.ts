/**
 * A small client for AWS's JSON protocols (DynamoDB, Step Functions, KMS, Secrets Manager):
 * the request is a JSON body POSTed to the service's regional endpoint with an `X-Amz-Target`
 * header, signed with SigV4 by `aws4`, sent with node:http(s) over a keep-alive agent.
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
import http from 'node:http';
import https from 'node:https';
import aws4 from 'aws4';
import { AWS_SDK_TIMEOUTS } from './aws-sdk-timeouts';

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
  /** A JSON.parse reviver for answers (DynamoDB: base64 `B` values back to bytes)... */
  reviver?: (key: string, value: unknown) => unknown;
  /** ...used only for an answer this matches (a reviver makes JSON.parse several times slower). */
  reviveIf?: RegExp;
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
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string; attempts: number };
  constructor(name: string, message: string, status: number, requestId: string | undefined, attempts: number, fields: Record<string, unknown>) {
    super(message);
    Object.assign(this, fields);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, ...(requestId !== undefined ? { requestId } : {}), attempts };
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionInProgressException',
]);
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/** Whether the SDK's standard retry strategy would retry this failure, and with which base delay. */
function retryDelayBase(error: unknown): number | undefined {
  if (error instanceof AwsServiceError) {
    if (THROTTLING.has(error.name) || error.$metadata.httpStatusCode === 429) return 500;
    return [500, 502, 503, 504].includes(error.$metadata.httpStatusCode) ? 100 : undefined;
  }
  const code = (error as { code?: string }).code;
  if (error instanceof Error && (error.name === 'TimeoutError' || (code !== undefined && TRANSIENT_NETWORK.has(code)))) return 100;
  return undefined;
}

export class AwsJsonClient {
  readonly endpoint: URL;
  /** Whether the connect and no-response timeouts apply. */
  readonly timeouts: boolean;
  private readonly options: AwsJsonClientOptions;
  private readonly region: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(options: AwsJsonClientOptions) {
    this.options = options;
    const region = options.region ?? process.env['AWS_REGION'] ?? (options.endpoint !== undefined ? 'us-east-1' : undefined);
    if (region === undefined) throw new Error(`AWS_REGION is not set (needed to reach ${options.service})`);
    this.region = region;
    this.endpoint = new URL(options.endpoint ?? `https://${options.service}.${region}.amazonaws.com/`);
    this.timeouts = options.timeouts ?? options.endpoint === undefined;
    this.transport = this.endpoint.protocol === 'http:' ? http : https;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 50 });
  }

  /** Calls `operation` with `body`; resolves with the parsed answer, rejects with an AwsServiceError or a network error. */
  async call<T = Record<string, unknown>>(operation: string, body: unknown): Promise<T> {
    const payload = JSON.stringify(body);
    const maxAttempts = this.options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.once(operation, payload, attempt)) as T;
      } catch (error) {
        const base = retryDelayBase(error);
        if (base === undefined || attempt >= maxAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * Math.min(20_000, base * 2 ** attempt))));
      }
    }
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.agent.destroy();
  }

  private once(operation: string, payload: string, attempt: number): Promise<unknown> {
    const { endpoint } = this;
    const request = aws4.sign(
      {
        host: endpoint.hostname,
        ...(endpoint.port !== '' ? { port: Number(endpoint.port) } : {}),
        path: endpoint.pathname,
        method: 'POST',
        service: this.options.service,
        region: this.region,
        headers: {
          'Content-Type': `application/x-amz-json-${this.options.jsonVersion}`,
          'X-Amz-Target': `${this.options.targetPrefix}.${operation}`,
        },
        body: payload,
      },
      this.credentials(),
    );
    const { timeouts } = this;
    return new Promise((resolve, reject) => {
      const req = this.transport.request(
        {
          protocol: endpoint.protocol,
          hostname: endpoint.hostname,
          port: endpoint.port === '' ? undefined : Number(endpoint.port),
          path: endpoint.pathname,
          method: 'POST',
          headers: request.headers as http.OutgoingHttpHeaders,
          agent: this.agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> = {};
            try {
              const { reviver, reviveIf } = this.options;
              const revive = status < 300 && reviver !== undefined && (reviveIf === undefined || reviveIf.test(text));
              parsed = text === '' ? {} : (JSON.parse(text, revive ? reviver : undefined) as Record<string, unknown>);
            } catch {
              if (status >= 200 && status < 300) {
                reject(new Error(`${this.options.service} ${operation}: the answer is not JSON (HTTP ${status})`));
                return;
              }
            }
            if (status >= 200 && status < 300) {
              resolve(parsed);
              return;
            }
            reject(serviceError(parsed, response.headers, status, attempt));
          });
        },
      );
      req.on('error', reject);
      if (timeouts) {
        req.setTimeout(AWS_SDK_TIMEOUTS.requestTimeoutMs, () => {
          req.destroy(Object.assign(new Error(`${this.options.service} ${operation}: no answer in ${AWS_SDK_TIMEOUTS.requestTimeoutMs} ms`), { name: 'TimeoutError' }));
        });
        req.on('socket', (socket) => {
          if (!socket.connecting) return;
          const timer = setTimeout(() => {
            req.destroy(Object.assign(new Error(`${this.options.service}: not connected in ${AWS_SDK_TIMEOUTS.connectionTimeoutMs} ms`), { name: 'TimeoutError' }));
          }, AWS_SDK_TIMEOUTS.connectionTimeoutMs);
          socket.once('connect', () => clearTimeout(timer));
          socket.once('secureConnect', () => clearTimeout(timer));
          socket.once('close', () => clearTimeout(timer));
        });
      }
      req.end(payload);
    });
  }

  private resolvedCredentials: AwsCredentials | undefined;

  /** The given credentials, else the environment's, read at the first call (a Lambda's do not change while it runs). */
  private credentials(): AwsCredentials {
    this.resolvedCredentials ??= this.options.credentials ?? credentialsFromEnv();
    return this.resolvedCredentials;
  }
}

function credentialsFromEnv(): AwsCredentials {
  const accessKeyId = process.env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = process.env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new Error('AWS credentials are not set (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)');
  }
  const sessionToken = process.env['AWS_SESSION_TOKEN'];
  return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined && sessionToken !== '' ? { sessionToken } : {}) };
}

/** The service's error answer as an AwsServiceError: the type after '#' (and before ':'), its message and fields. */
function serviceError(body: Record<string, unknown>, headers: http.IncomingHttpHeaders, status: number, attempts: number): AwsServiceError {
  const rawType = String(body['__type'] ?? headers['x-amzn-errortype'] ?? `HTTP${status}`);
  const name = rawType.split('#').pop()!.split(':')[0]!;
  const { __type: _type, message, Message, ...fields } = body;
  const text = typeof message === 'string' ? message : typeof Message === 'string' ? Message : name;
  const requestId = headers['x-amzn-requestid'];
  return new AwsServiceError(name, text, status, typeof requestId === 'string' ? requestId : undefined, attempts, fields);
}
