/**
 * The local data dir holds PSP tokens, the local encryption key and the demo merchant's secret
 * key in clear: it must not be readable by other users of the machine. Directories are 0700 and
 * files 0600, whatever the umask, also for files written before this rule (chmod on every start).
 */
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `path` (and parents) and makes it 0700. */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(path, PRIVATE_DIR_MODE);
}

/** Writes `data` to `path` as a 0600 file (also when the file already existed with a wider mode). */
export function writePrivateFile(path: string, data: string): void {
  writeFileSync(path, data, { mode: PRIVATE_FILE_MODE });
  chmodSync(path, PRIVATE_FILE_MODE);
}

/**
 * Makes every directory under `root` 0700 and every file 0600: for files other programs wrote
 * there (DynamoDB Local's database), and for data dirs created by older versions.
 */
export function restrictTree(root: string): void {
  chmodSync(root, PRIVATE_DIR_MODE);
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) continue;
    if (stats.isDirectory()) restrictTree(path);
    else if (stats.isFile()) chmodSync(path, PRIVATE_FILE_MODE);
  }
}
