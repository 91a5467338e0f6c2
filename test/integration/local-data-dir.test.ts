/**
 * The local data dir holds PSP tokens, the local encryption key and the demo merchant's secret key
 * in clear (hardening): DynamoDB Local's directory and the sandbox ledger are private (0700 dirs,
 * 0600 files), and a data dir left world-readable by an older version is tightened on start.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { restrictTree } from '../../local/private-files';
import { tokenizeTestCard } from '../../local/sandbox-psp/client';
import { startSandboxPsp } from '../../local/sandbox-psp/server';

const root = mkdtempSync(join(tmpdir(), 'paystep-data-'));
const modeOf = (path: string): number => statSync(path).mode & 0o777;

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('local data dir permissions', () => {
  it('writes the sandbox PSP ledger (tokens) as a 0600 file in a 0700 directory', async () => {
    // Prepare
    const dataFile = join(root, 'psp', 'sandbox-psp-ledger.json');
    const psp = await startSandboxPsp({ dataFile });
    try {
      // Act: a token is persisted
      await tokenizeTestCard(psp.url, '4242424242424242');
    } finally {
      await psp.stop();
    }
    // Assess
    expect(modeOf(dataFile)).toBe(0o600);
    expect(modeOf(join(root, 'psp'))).toBe(0o700);
  });

  it("creates DynamoDB Local's data directory 0700", async () => {
    // Prepare / Act
    const dir = join(root, 'dynamodb');
    const db = await startDynamoDbLocal({ dataDir: dir });
    await db.stop();
    // Assess
    expect(modeOf(dir)).toBe(0o700);
  });

  it('tightens a world-readable data dir from an older version: directories 0700, files 0600', () => {
    // Prepare
    const dir = join(root, 'old');
    mkdirSync(join(dir, 'dynamodb'), { recursive: true });
    writeFileSync(join(dir, 'secrets-key'), 'k');
    writeFileSync(join(dir, 'dynamodb', 'shared-local-instance.db'), 'db');
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'secrets-key'), 0o644);
    // Act
    restrictTree(dir);
    // Assess
    expect([
      modeOf(dir),
      modeOf(join(dir, 'dynamodb')),
      modeOf(join(dir, 'secrets-key')),
      modeOf(join(dir, 'dynamodb', 'shared-local-instance.db')),
    ]).toEqual([0o700, 0o700, 0o600, 0o600]);
  });
});
