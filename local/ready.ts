/**
 * Reading `npm start`'s banner from a child process: collects stdout lines until the `Ready` line
 * (the local runtime contract in local/start.ts). Shared by the e2e harness and the bench runner.
 */
import type { ChildProcess } from 'node:child_process';

/**
 * Resolves with every line printed up to and including `Ready`; rejects when the child exits
 * first or after `timeoutMs`, with the lines and stderr seen so far.
 */
export async function waitForReadyLines(
  child: ChildProcess,
  exited: Promise<unknown>,
  timeoutMs: number,
  stderr: () => string,
): Promise<string[]> {
  return await new Promise<string[]>((resolve, reject) => {
    const lines: string[] = [];
    let buffer = '';
    const timer = setTimeout(
      () =>
        reject(new Error(`no "Ready" within ${timeoutMs} ms. stdout:\n${lines.join('\n')}\nstderr:\n${stderr().slice(-4000)}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        if (line === 'Ready') {
          clearTimeout(timer);
          resolve(lines);
        }
      }
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited (${describeExit(how)}) before "Ready". stderr:\n${stderr().slice(-4000)}`));
    });
  });
}

/** `1`, `SIGKILL`, ...: the exit code, else the signal, of a child's `exit` event value. */
function describeExit(how: unknown): string {
  if (how !== null && typeof how === 'object') {
    const { exitCode, signal } = how as { exitCode?: number | null; signal?: string | null };
    return String(exitCode ?? signal ?? 'unknown');
  }
  return how === undefined ? 'unknown' : String(how);
}
