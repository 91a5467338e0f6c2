/**
 * Tiny `node:http` plumbing shared by the two local peer servers (sandbox PSP, demo merchant):
 * bounded body reading, JSON answers, listening on loopback, and a stop() that also ends
 * connections a server is deliberately holding open (hanging PSP cards, slow merchants).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Bodies larger than this are refused with 413: these servers only ever see small JSON. */
export const MAX_BODY_BYTES = 64 * 1024;

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Reads the raw body as UTF-8; the raw text is what Standard Webhooks signatures cover. */
export async function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new BodyTooLargeError(`body larger than ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses JSON without throwing: `undefined` means "not JSON" so callers answer 400 themselves. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Writes a JSON answer unless the client already went away (a held response may outlive it). */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(response, status, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
}

export function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (response.writableEnded || response.destroyed) return;
  response.writeHead(status, { 'content-length': String(Buffer.byteLength(text)), ...headers });
  response.end(text);
}

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export interface RunningServer {
  url: string;
  port: number;
  /** Cancels pending timers, destroys open sockets and closes the listener. */
  stop(): Promise<void>;
}

/**
 * Listens on `host:port` (port 0 = any free port) and tracks sockets so stop() never waits for a
 * response the server is holding on purpose. `onStop` runs first (clear timers there).
 */
export async function listen(
  handler: RequestHandler,
  options: { port?: number; host?: string; onStop?: () => void; onError?: (response: ServerResponse, error: unknown) => void },
): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    handler(request, response).catch((error: unknown) => {
      if (error instanceof BodyTooLargeError) {
        sendJson(response, 413, { error: { code: 'body_too_large', message: error.message } }, { connection: 'close' });
        return;
      }
      if (options.onError) options.onError(response, error);
      else sendJson(response, 500, { error: { code: 'internal_error', message: 'Internal error' } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        options.onStop?.();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}

/** A sleep that stop() can cancel: resolves `false` when cancelled, `true` when it elapsed. */
export class Timers {
  private readonly pending = new Map<NodeJS.Timeout, (elapsed: boolean) => void>();

  sleep(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve(true);
      }, ms);
      this.pending.set(timer, resolve);
    });
  }

  cancelAll(): void {
    for (const [timer, resolve] of this.pending) {
      clearTimeout(timer);
      resolve(false);
    }
    this.pending.clear();
  }
}
