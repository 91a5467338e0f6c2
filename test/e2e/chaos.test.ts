/**
 * The short chaos run inside `npm test`: the same module as `npm run chaos` (bench/chaos.ts) with
 * 80 checkouts, every fault in the mix (PSP 5xx and hangs, async, duplicate and reordered PSP
 * callbacks, soft and hard declines, slow / failing / out-of-stock merchants, a stock race,
 * duplicate pay clicks), outages of both sandboxes (the sandbox PSP and the Stripe sandbox,
 * unavailable and timeout) switched on and off mid-run, and a SIGKILL of the whole local host
 * mid-run, restarted on the same data directory; and, when the API offers them, off-session
 * renewals (a customer's saved card charged again by the merchant), and 3-D Secure challenge cards
 * on both connectors, the harness completing, failing or abandoning the challenge at the
 * sandbox's page over HTTP like a buyer. Every invariant must hold,
 * across both PSP ledgers, renewal charges included. No timing is asserted: speed is measured by `npm run bench`, never in tests.
 */
import { describe, expect, it } from 'vitest';
import { formatChaosReport, runChaos } from '../../bench/chaos';

describe('chaos (short): faults and a host crash never lose or double money', () => {
  it('80 checkouts with every fault, outages of both sandboxes and a mid-run SIGKILL: all terminal, all webhooks delivered, ledgers = succeeded, nothing oversold', async () => {
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
    expect(
      report.outages.map((o) => `${o.target} ${o.mode} ${o.onAtCheckout !== undefined} ${o.offAtCheckout !== undefined}`),
      printed,
    ).toEqual([
      'sandbox unavailable true true',
      'stripe timeout true true',
      'sandbox timeout true true',
      'stripe unavailable true true',
    ]);
    expect(
      report.invariants.map((i) => i.name),
      printed,
    ).toContain('across both PSP ledgers: at most one capture per checkout, every other authorization voided');
    expect(report.scenarios.soft_decline_do_not_honor ?? 0, printed).toBeGreaterThan(0);
    expect(report.scenarios.hard_decline_insufficient_funds ?? 0, printed).toBeGreaterThan(0);
    expect(Object.keys(report.scenarios).length, printed).toBeGreaterThanOrEqual(10);
    expect(
      report.invariants.filter((i) => !i.ok),
      printed,
    ).toEqual([]);
    if (report.renewals === 'off_session') expect(report.scenarios.off_session_charge ?? 0, printed).toBeGreaterThan(0);
    // 3-D Secure: buyers met challenges and completed, failed and abandoned them; none of the
    // failed or abandoned ones ended succeeded.
    const { tally, outcomes } = report.challenges;
    expect(
      [tally.completed, tally.failed, tally.abandoned].map((n) => n > 0),
      printed,
    ).toEqual([true, true, true]);
    expect(tally.pageProblems, printed).toEqual([]);
    expect(outcomes.complete?.succeeded ?? 0, printed).toBeGreaterThan(0);
    expect(outcomes.fail?.succeeded ?? 0, printed).toBe(0);
    expect(outcomes.abandon?.succeeded ?? 0, printed).toBe(0);
    expect(outcomes.fail?.['failed:authentication_failed'] ?? 0, printed).toBeGreaterThan(0);
    expect(outcomes.abandon?.['failed:authentication_failed'] ?? 0, printed).toBeGreaterThan(0);
    expect(report.statuses.succeeded ?? 0, printed).toBeGreaterThan(0);
    expect(report.statuses.failed ?? 0, printed).toBeGreaterThan(0);
    expect(report.ledger.capturedTotal, printed).toBe(report.ledger.succeededTotal);
  }, 240_000);
});
