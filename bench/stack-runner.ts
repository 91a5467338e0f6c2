/**
 * Starts bench/stack-process.ts as a child process (its own Node process and DynamoDB Local JVM,
 * like `npm start`), on fixed-per-run random loopback ports so a restart comes back at the same
 * URLs. `kill()` is the crash the chaos run injects: SIGKILL to the child and every descendant
 * (the JVM included), nothing flushed, nothing stopped cleanly. `stop()` is the clean shutdown.
 */
import { spawn } from 'node:child_process';
import { freePort } from '../local/net';
import { REPO_ROOT } from '../local/handlers';
import { waitForReadyLines } from '../local/ready';
import { isAlive, listDescendants, type StackProcess } from '../test/e2e/harness';
import type { CounterSnapshot } from './instrumentation';
import { keepAliveFetch } from './keep-alive-fetch';

export interface BenchStackPorts {
  api: number;
  psp: number;
  /** The Stripe-protocol sandbox. */
  stripe: number;
  merchant: number;
  sfn: number;
  counters: number;
}

/** The stack's addresses and credentials as the e2e harness reads them, plus the bench's counters. */
export interface BenchStack extends Pick<
  StackProcess,
  | 'apiUrl'
  | 'pspUrl'
  | 'stripeSandboxUrl'
  | 'merchantUrl'
  | 'sfnUrl'
  | 'dynamoDbEndpoint'
  | 'adminToken'
  | 'merchantId'
  | 'secretKey'
> {
  countersUrl: string;
  ports: BenchStackPorts;
  pid: number;
  /** Counters since the last reset (bench/instrumentation.ts). */
  counters(): Promise<CounterSnapshot>;
  /** Starts a new counting window; resolves the counters of the closed one. */
  resetCounters(): Promise<CounterSnapshot>;
  /**
   * Resolves true once a `checkout.*` result webhook for the checkout was delivered (answered 2xx),
   * whoever sent it; false after `timeoutMs`.
   */
  waitForResultWebhook(checkoutId: string, timeoutMs: number): Promise<boolean>;
  /** Turns the AWS write-unit sizing on or off (extra reads around every write: not for timing). */
  setWriteSizing(on: boolean): Promise<void>;
  /** Crash: SIGKILL the child and all its descendants; resolves once every one is gone. */
  kill(): Promise<void>;
  /** Clean stop (SIGTERM, wait); kills whatever is left after 20 s. */
  stop(): Promise<void>;
  stderr(): string;
}

export interface StartBenchStackOptions {
  /** Keep data here (DynamoDB Local files, PSP ledger, merchant keys); omitted = in memory. */
  dataDir?: string;
  /** Reuse these ports (a restart); fresh random ones when omitted. */
  ports?: BenchStackPorts;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/**
 * Node flags of the bench's stack process, before PAYSTEP_BENCH_STACK_NODE_ARGS (a later flag
 * wins). One process hosts every function, the API host, the Step Functions emulator, the sandbox
 * PSP and the demo merchant, so its allocation rate is theirs together: with V8's default young
 * generation (semi-spaces growing to 16 MB) it spends several ms of CPU per checkout in scavenges.
 * 64 MB semi-spaces cut that (issue 14, round 4, 300 checkouts: 177 scavenges / about 2 s -> 24 /
 * 0.18 s, stack CPU per checkout about 15 % lower). A host setting like DynamoDB Local's JVM
 * flags: no Lambda code path changes.
 */
export const STACK_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** The stack process's Node flags: STACK_NODE_FLAGS, then PAYSTEP_BENCH_STACK_NODE_ARGS (space separated). */
export function stackNodeArgs(env: Record<string, string | undefined> = process.env): string[] {
  return [...STACK_NODE_FLAGS, ...(env.PAYSTEP_BENCH_STACK_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')];
}

/** Spawns the instrumented stack and waits for `Ready`. */
export async function startBenchStack(options: StartBenchStackOptions = {}): Promise<BenchStack> {
  const ports = options.ports ?? {
    api: await freePort(),
    psp: await freePort(),
    stripe: await freePort(),
    merchant: await freePort(),
    sfn: await freePort(),
    counters: await freePort(),
  };
  const child = spawn(
    process.execPath,
    [
      // Extra Node flags for the stack process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it
      // (Node refuses --cpu-prof in NODE_OPTIONS).
      ...stackNodeArgs(),
      '--import',
      'tsx',
      'bench/stack-process.ts',
      ...(options.dataDir === undefined ? ['--in-memory'] : []),
    ],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PAYSTEP_PORT: String(ports.api),
        PAYSTEP_SANDBOX_PSP_PORT: String(ports.psp),
        PAYSTEP_STRIPE_SANDBOX_PORT: String(ports.stripe),
        PAYSTEP_DEMO_MERCHANT_PORT: String(ports.merchant),
        PAYSTEP_SFN_PORT: String(ports.sfn),
        PAYSTEP_BENCH_COUNTERS_PORT: String(ports.counters),
        ...(options.dataDir !== undefined ? { PAYSTEP_DATA_DIR: options.dataDir } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-200_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = await waitForReadyLines(child, exited, options.readyTimeoutMs ?? 120_000, () => stderr).catch(
    (error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    },
  );
  child.stdout?.resume();
  const pid = child.pid as number;
  const value = (prefix: string): string => {
    const line = lines.find((l) => l.startsWith(`${prefix}: `));
    if (line === undefined) throw new Error(`bench stack did not print "${prefix}"`);
    return line.slice(prefix.length + 2).trim();
  };
  const countersUrl = value('Bench counters');
  const readCounters = async (path: string, method: string): Promise<CounterSnapshot> => {
    const response = await fetch(`${countersUrl}${path}`, { method });
    return (await response.json()) as CounterSnapshot;
  };

  const killAll = async (signal: NodeJS.Signals): Promise<void> => {
    const tracked = [pid, ...listDescendants(pid)];
    for (const target of tracked) {
      try {
        process.kill(target, signal);
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 15_000;
    while (tracked.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1_000))]);
  };

  let stopped: Promise<void> | undefined;
  return {
    apiUrl: value('API'),
    pspUrl: value('Sandbox PSP'),
    stripeSandboxUrl: value('Stripe sandbox'),
    merchantUrl: value('Demo merchant'),
    sfnUrl: value('Step Functions (local)'),
    dynamoDbEndpoint: value('DynamoDB Local'),
    adminToken: value('Admin token'),
    merchantId: value('Demo merchant id'),
    secretKey: value('Demo merchant secret key'),
    countersUrl,
    ports,
    pid,
    counters: () => readCounters('/counters', 'GET'),
    resetCounters: () => readCounters('/reset', 'POST'),
    waitForResultWebhook: async (checkoutId, timeoutMs) => {
      const response = await keepAliveFetch(`${countersUrl}/delivered/${encodeURIComponent(checkoutId)}?timeoutMs=${timeoutMs}`);
      return ((await response.json()) as { delivered: boolean }).delivered;
    },
    setWriteSizing: async (on) => {
      await readCounters(on ? '/sizing/on' : '/sizing/off', 'POST');
    },
    kill: () => (stopped ??= killAll('SIGKILL')),
    stop: () =>
      (stopped ??= (async () => {
        const tracked = [pid, ...listDescendants(pid)];
        child.kill('SIGTERM');
        const timer = setTimeout(() => void killAll('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
        const deadline = Date.now() + 5_000;
        while (tracked.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        for (const survivor of tracked.filter(isAlive)) process.kill(survivor, 'SIGKILL');
      })()),
    stderr: () => stderr,
  };
}
