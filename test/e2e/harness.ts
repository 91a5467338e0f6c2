/**
 * Runs `npm start`'s entry point as a child process, the way a developer or an outside test suite
 * does: `node --import tsx local/start.ts --in-memory` on random free ports, parsing the printed
 * lines until `Ready`. `stop()` sends SIGTERM, waits for the exit and proves that every process the
 * stack started (the DynamoDB Local JVM above all) is gone, by pid.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { ListExecutionsCommand, SFNClient, type ExecutionListItem } from '@aws-sdk/client-sfn';
import { freePort } from '../../local/net';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import { stateMachineArnFor } from '../../local/stepfunctions-emulator';
import { REPO_ROOT } from '../../local/handlers';
import { waitForReadyLines } from '../../local/ready';

export interface StackProcess {
  apiUrl: string;
  pspUrl: string;
  /** The Stripe-protocol sandbox (`Stripe sandbox: ` line). */
  stripeSandboxUrl: string;
  merchantUrl: string;
  sfnUrl: string;
  dynamoDbEndpoint: string;
  adminToken: string;
  merchantId: string;
  secretKey: string;
  /** Every stdout line printed up to and including `Ready`. */
  lines: string[];
  pid: number;
  /** Pids of the child's descendants when it became ready (the JVM among them). */
  descendantPids: number[];
  /** Every saga execution the stack's Step Functions emulator knows (newest first). */
  listExecutions(): Promise<ExecutionListItem[]>;
  /** All stderr so far (handler logs, warnings). */
  stderr(): string;
  /** All stdout so far, the banner and every line after `Ready` (handler logs at INFO/DEBUG). */
  stdout(): string;
  /** SIGTERM, wait for exit; throws if any descendant survived. Resolves the exit code. */
  stop(): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
}

const READY_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 20_000;

export interface StartStackProcessOptions {
  /** Default true (`--in-memory`); false keeps data in PAYSTEP_DATA_DIR (pass it in extraEnv). */
  inMemory?: boolean;
}

/** Starts the local stack in a child process; extraEnv overrides or adds environment. */
export async function startStackProcess(
  extraEnv: Record<string, string> = {},
  options: StartStackProcessOptions = {},
): Promise<StackProcess> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startStackProcessOnce(extraEnv, options);
    } catch (error) {
      // A port freePort() handed out can be taken (by another suite's outgoing connection or
      // server) before the stack binds it. Only a port the harness chose is retried; a port the
      // caller pinned in extraEnv fails as it should.
      if (!(error instanceof HarnessPortTakenError) || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

const START_ATTEMPTS = 3;
const PORT_ENV_KEYS = [
  'PAYSTEP_PORT',
  'PAYSTEP_SANDBOX_PSP_PORT',
  'PAYSTEP_STRIPE_SANDBOX_PORT',
  'PAYSTEP_DEMO_MERCHANT_PORT',
  'PAYSTEP_SFN_PORT',
] as const;

/** The stack could not bind a port the harness picked (not one the caller pinned). */
class HarnessPortTakenError extends Error {}

async function startStackProcessOnce(extraEnv: Record<string, string>, options: StartStackProcessOptions): Promise<StackProcess> {
  const [apiPort, pspPort, merchantPort, sfnPort, stripeSandboxPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const args = ['--import', 'tsx', 'local/start.ts', ...(options.inMemory === false ? [] : ['--in-memory'])];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PAYSTEP_PORT: String(apiPort),
      PAYSTEP_SANDBOX_PSP_PORT: String(pspPort),
      PAYSTEP_STRIPE_SANDBOX_PORT: String(stripeSandboxPort),
      PAYSTEP_DEMO_MERCHANT_PORT: String(merchantPort),
      PAYSTEP_SFN_PORT: String(sfnPort),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (exitCode, signal) => resolve({ exitCode, signal }));
  });

  let lines: string[];
  try {
    lines = await waitForReadyLines(child, exited, READY_TIMEOUT_MS, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    const taken = /port (\d+) on 127\.0\.0\.1 is already in use/.exec(stderr)?.[1];
    const pinned = PORT_ENV_KEYS.filter((key) => key in extraEnv).map((key) => extraEnv[key]);
    const picked = [apiPort, pspPort, merchantPort, sfnPort, stripeSandboxPort].map(String);
    if (taken !== undefined && picked.includes(taken) && !pinned.includes(taken)) {
      await exited;
      throw new HarnessPortTakenError(error instanceof Error ? error.message : String(error));
    }
    throw error;
  }
  const pid = child.pid as number;
  const descendantPids = listDescendants(pid);
  const value = (prefix: string): string => {
    const line = lines.find((l) => l.startsWith(`${prefix}: `));
    if (line === undefined) throw new Error(`the stack did not print "${prefix}: ..."; got:\n${lines.join('\n')}`);
    return line.slice(prefix.length + 2).trim();
  };

  let stopped: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }> | undefined;
  const stop = async (): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }> => {
    stopped ??= (async () => {
      const tracked = [...new Set([...descendantPids, ...listDescendants(pid)])];
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
      const result = await exited;
      clearTimeout(timer);
      const survivors = await waitForGone(tracked, 5_000);
      if (survivors.length > 0) {
        for (const survivor of survivors) killQuietly(survivor);
        throw new Error(`processes survived the stack's exit: ${survivors.map((p) => `${p} (${commandOf(p)})`).join(', ')}`);
      }
      return result;
    })();
    return await stopped;
  };

  const sfnUrl = value('Step Functions (local)');
  const listExecutions = async (): Promise<ExecutionListItem[]> => {
    const client = new SFNClient({ ...LOCAL_AWS, endpoint: sfnUrl });
    try {
      const stateMachineArn = stateMachineArnFor();
      const all: ExecutionListItem[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, nextToken }));
        all.push(...(page.executions ?? []));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      return all;
    } finally {
      client.destroy();
    }
  };

  return {
    apiUrl: value('API'),
    pspUrl: value('Sandbox PSP'),
    stripeSandboxUrl: value('Stripe sandbox'),
    merchantUrl: value('Demo merchant'),
    sfnUrl,
    dynamoDbEndpoint: value('DynamoDB Local'),
    adminToken: value('Admin token'),
    merchantId: value('Demo merchant id'),
    secretKey: value('Demo merchant secret key'),
    lines,
    pid,
    descendantPids,
    listExecutions,
    stderr: () => stderr,
    stdout: () => stdout,
    stop,
  };
}

/** Descendant pids of `root`, read from /proc (Linux). */
export function listDescendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) comes after the parenthesised command, which may contain spaces.
      const afterCommand = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(afterCommand[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const result: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const current = queue.shift() as number;
    for (const [pid, ppid] of parentOf) {
      if (ppid === current) {
        result.push(pid);
        queue.push(pid);
      }
    }
  }
  return result;
}

/** True while the pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The command line of a pid ('' if gone), for messages. */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim().slice(0, 120);
  } catch {
    return '';
  }
}

async function waitForGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
