/**
 * The short chaos run inside `npm test`: the same module as `npm run chaos` (bench/chaos.ts) with
 * 80 checkouts, every fault in the mix (PSP 5xx and hangs, async, duplicate and reordered PSP
 * callbacks, slow / failing / out-of-stock merchants, a stock race, duplicate pay clicks) and a
 * SIGKILL of the whole local host mid-run, restarted on the same data directory. Every invariant
 * must hold. No timing is asserted: speed is measured by `npm run bench`, never in tests.
 */
import { describe, expect, it } from 'vitest';
import { formatChaosReport, runChaos } from '../../bench/chaos';

describe('chaos (short): faults and a host crash never lose or double money', () => {
  it('80 checkouts with every fault and a mid-run SIGKILL: all terminal, all webhooks delivered, ledger = succeeded, nothing oversold', async () => {
    // Prepare
    const lines: string[] = [];

    // Act
    const report = await runChaos({
      checkouts: 80,
      concurrency: 16,
      restartAt: 0.4,
      seed: 20_261_121,
      settleTimeoutMs: 120_000,
      log: (line) => lines.push(line),
    });

    // Assess
    const printed = formatChaosReport(report);
    expect(report.restart.done, printed).toBe(true);
    expect(Object.keys(report.scenarios).length, printed).toBeGreaterThanOrEqual(10);
    expect(
      report.invariants.filter((i) => !i.ok),
      printed,
    ).toEqual([]);
    expect(report.statuses.succeeded ?? 0, printed).toBeGreaterThan(0);
    expect(report.statuses.failed ?? 0, printed).toBeGreaterThan(0);
    expect(report.ledger.capturedTotal, printed).toBe(report.ledger.succeededTotal);
  }, 240_000);
});
