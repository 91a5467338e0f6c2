/**
 * The local stand-in for the card vault's KMS keys: one file holding a base64 32-byte master key,
 * mode 0600 (lambdas/adapters/local-vault-keyring.ts refuses anything looser). `npm start` keeps it
 * in the data dir, so a restart can still read the cards it vaulted; throwaway runs (--in-memory,
 * tests) get one in a fresh temporary directory that is removed when they stop.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CARD_VAULT_KEY_FILE = 'card-vault-key';

/** The key file in `dir`, created (0600, exclusive) if it does not exist yet. */
export function loadOrCreateCardVaultKeyFile(dir: string): string {
  const file = join(dir, CARD_VAULT_KEY_FILE);
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

/** A key file in a new temporary directory, and how to remove it. */
export function createTemporaryCardVaultKeyFile(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'paystep-vault-'));
  const file = loadOrCreateCardVaultKeyFile(dir);
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
