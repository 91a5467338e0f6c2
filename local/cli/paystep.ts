/**
 * `npx paystep <command>`: the developer CLI (package.json `bin`, started by bin/paystep.mjs).
 *
 * - `listen --forward-to URL`: polls the merchant's events (`GET /v1/events`, newest first) and
 *   POSTs each new one to URL with Standard Webhooks headers, signed with a `whsec_` secret of your
 *   choice (or one printed at start), exactly as Paystep's dispatcher would. Made for developing a
 *   webhook receiver on a laptop against a deployed (or local) stack that cannot reach it.
 * - `fast-forward CHECKOUT_ID`: local stack only; makes the checkout's authorization expiry and its
 *   pending webhook retries due now (POST /local/checkouts/{id}/fast_forward with the admin token).
 *
 * Every command prints progress and ends with one summary line.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signWebhook } from '../../lambdas/adapters/standard-webhooks';
import { renderEventBody } from '../../lambdas/domain/webhook-events';

const USAGE = `Usage:
  paystep listen --forward-to URL [--api URL] [--key sk_...] [--secret whsec_...] [--interval MS] [--since now|all] [--max-events N]
      env: PAYSTEP_API_URL (default http://127.0.0.1:3000), PAYSTEP_SECRET_KEY, PAYSTEP_FORWARD_SECRET
  paystep fast-forward CHECKOUT_ID [--api URL] [--admin-token TOKEN]      (local stack only)
      env: PAYSTEP_API_URL, PAYSTEP_ADMIN_TOKEN`;

class UsageError extends Error {}

interface ApiEvent {
  id: string;
  type: string;
  created: number;
  data: Record<string, unknown>;
}

function apiBase(value: string | undefined): string {
  return (value ?? process.env.PAYSTEP_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
}

async function getJson<T>(url: string, token: string): Promise<T> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url} answered HTTP ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** New events since the last poll, oldest first: pages back until it meets one already seen. */
async function newEvents(api: string, key: string, seen: Set<string>, firstPoll: boolean): Promise<ApiEvent[]> {
  const found: ApiEvent[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page: { data: ApiEvent[]; next_cursor: string | null } = await getJson(
      `${api}/v1/events?limit=100${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      key,
    );
    let metSeen = false;
    for (const event of page.data) {
      if (seen.has(event.id)) {
        metSeen = true;
        break;
      }
      found.push(event);
    }
    // The first poll with --since now only needs the newest page to set the watermark.
    if (metSeen || firstPoll || page.next_cursor === null) break;
    cursor = page.next_cursor;
  }
  return found.reverse();
}

async function forward(url: string, secret: string, event: ApiEvent): Promise<{ ok: boolean; detail: string; ms: number }> {
  const body = renderEventBody(event);
  const started = Date.now();
  let detail = '';
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'paystep-listen',
          ...signWebhook(secret, event.id, new Date(), body),
        },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      await response.arrayBuffer();
      detail = `HTTP ${response.status}`;
      if (response.ok) return { ok: true, detail, ms: Date.now() - started };
    } catch (error) {
      detail = error instanceof Error ? error.message : String(error);
    }
    if (attempt < 3) await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return { ok: false, detail: `${detail} after 3 attempts`, ms: Date.now() - started };
}

async function listen(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'forward-to': { type: 'string' },
      api: { type: 'string' },
      key: { type: 'string' },
      secret: { type: 'string' },
      interval: { type: 'string', default: '2000' },
      since: { type: 'string', default: 'now' },
      'max-events': { type: 'string' },
    },
  });
  const target = values['forward-to'];
  if (target === undefined || !/^https?:\/\//.test(target))
    throw new UsageError('listen needs --forward-to http://localhost:PORT/path');
  const key = values.key ?? process.env.PAYSTEP_SECRET_KEY;
  if (key === undefined || key === '')
    throw new UsageError('listen needs the merchant secret key: --key sk_... or PAYSTEP_SECRET_KEY');
  const interval = Number(values.interval);
  if (!Number.isInteger(interval) || interval < 100)
    throw new UsageError('--interval must be a whole number of milliseconds, at least 100');
  if (values.since !== 'now' && values.since !== 'all') throw new UsageError('--since must be now or all');
  const maxEvents = values['max-events'] === undefined ? Infinity : Number(values['max-events']);
  if (!(maxEvents >= 1)) throw new UsageError('--max-events must be a positive number');
  const secret = values.secret ?? process.env.PAYSTEP_FORWARD_SECRET ?? `whsec_${randomBytes(24).toString('base64')}`;
  if (!secret.startsWith('whsec_')) throw new UsageError('--secret must be a whsec_ secret (Standard Webhooks)');
  const api = apiBase(values.api);

  const seen = new Set<string>();
  const started = Date.now();
  let ok = 0;
  let failed = 0;
  let stop = false;
  const wake: { resolve?: () => void } = {};
  const onSignal = (): void => {
    stop = true;
    wake.resolve?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (values.since === 'now') for (const event of await newEvents(api, key, seen, true)) seen.add(event.id);
  console.log(
    `Listening to ${api}/v1/events every ${interval} ms, forwarding ${values.since === 'now' ? 'new events' : 'every event'} to ${target}`,
  );
  console.log(`Signing secret (verify with any Standard Webhooks library): ${secret}`);
  console.log('Ready');

  while (!stop) {
    try {
      for (const event of await newEvents(api, key, seen, false)) {
        seen.add(event.id);
        const result = await forward(target, secret, event);
        if (result.ok) ok += 1;
        else failed += 1;
        console.log(`${result.ok ? '->' : '!!'} ${event.type} ${event.id} ${result.detail} (${result.ms} ms)`);
        if (ok + failed >= maxEvents) {
          stop = true;
          break;
        }
      }
    } catch (error) {
      console.error(`Polling failed, retrying: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!stop) await new Promise<void>((resolve) => ((wake.resolve = resolve), setTimeout(resolve, interval)));
  }
  console.log(
    `paystep listen: forwarded ${ok + failed} events (${ok} delivered, ${failed} failed) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return failed > 0 ? 1 : 0;
}

async function fastForward(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { api: { type: 'string' }, 'admin-token': { type: 'string' } },
  });
  const checkoutId = positionals[0];
  if (checkoutId === undefined || !/^chk_/.test(checkoutId)) throw new UsageError('fast-forward needs a checkout id (chk_...)');
  const token = values['admin-token'] ?? process.env.PAYSTEP_ADMIN_TOKEN;
  if (token === undefined || token === '')
    throw new UsageError('fast-forward needs the admin token: --admin-token or PAYSTEP_ADMIN_TOKEN (npm start prints it)');
  const api = apiBase(values.api);
  console.log(`Fast-forwarding ${checkoutId} on ${api} ...`);
  const response = await fetch(`${api}/local/checkouts/${encodeURIComponent(checkoutId)}/fast_forward`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  if (!response.ok) {
    console.log(`paystep fast-forward: failed, HTTP ${response.status}: ${text.slice(0, 300)}`);
    return 1;
  }
  const result = JSON.parse(text) as {
    authorization_expiry: string;
    webhook_deliveries_due_now: number;
    webhook_deliveries_skipped: number;
  };
  console.log(
    `paystep fast-forward: ${checkoutId}: authorization expiry ${result.authorization_expiry.replace('_', ' ')}, ` +
      `${result.webhook_deliveries_due_now} webhook deliveries due now, ${result.webhook_deliveries_skipped} skipped`,
  );
  return 0;
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'listen') return await listen(rest);
  if (command === 'fast-forward') return await fastForward(rest);
  console.error(USAGE);
  return command === undefined || command === '--help' || command === 'help' ? 0 : 2;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`paystep: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
