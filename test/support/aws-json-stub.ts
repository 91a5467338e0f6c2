/**
 * A loopback stand-in for an AWS JSON-protocol service (Step Functions, KMS, Secrets Manager):
 * records each request as it arrives on the wire (X-Amz-Target, Content-Type, Authorization, the
 * JSON body) and answers what the test scripts, as the service would: 200 with a JSON body, or a
 * status with `{"__type", "message"}`. Point a client at `url` (an endpoint override) and close it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedAwsRequest {
  target: string;
  contentType: string;
  authorization: string;
  body: Record<string, unknown>;
  /** The client's port of the connection it came on: equal ports, one kept-alive connection. */
  clientPort: number;
}

/** A scripted answer: a JSON body (200), or a service error. */
export type StubAnswer = { body: Record<string, unknown> } | { status: number; errorType: string; message: string };

export interface AwsJsonStub {
  readonly url: string;
  readonly requests: RecordedAwsRequest[];
  close(): Promise<void>;
}

/** Starts the stand-in on a random loopback port; `answer` decides each reply from the operation and body. */
export async function startAwsJsonStub(
  answer: (operation: string, body: Record<string, unknown>) => StubAnswer,
): Promise<AwsJsonStub> {
  const requests: RecordedAwsRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      requests.push({
        target,
        contentType: String(request.headers['content-type'] ?? ''),
        authorization: String(request.headers.authorization ?? ''),
        body,
        clientPort: request.socket.remotePort ?? 0,
      });
      const reply = answer(target.split('.').pop() ?? '', body);
      const contentType = String(request.headers['content-type'] ?? 'application/x-amz-json-1.1');
      if ('body' in reply) {
        response.writeHead(200, { 'content-type': contentType });
        response.end(JSON.stringify(reply.body));
      } else {
        response.writeHead(reply.status, { 'content-type': contentType });
        response.end(JSON.stringify({ __type: reply.errorType, message: reply.message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Credentials for a client pointed at the stand-in (signed like real ones, never sent anywhere else). */
export const STUB_CREDENTIALS = { accessKeyId: 'AKIDSTUB', secretAccessKey: 'stub-secret' } as const;
