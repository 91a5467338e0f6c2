/**
 * The benchmark's report as text (bench/report.ts builds it): the markdown tables `npm run bench`
 * prints for the README (every issue 14 figure beside its target) and its one-line summary.
 */
import type { LatencySummary } from './checkout-driver';
import { PRICES } from './prices';
import { round, type BenchReport, type EntryCallRow } from './report';

/** `ok` when `value` is within `target` (at most, or at least for `atLeast`), `over` otherwise, `n/a` without a value. */
function againstTarget(value: number | null, target: number, atLeast = false): string {
  if (value === null || Number.isNaN(value)) return 'n/a';
  return (atLeast ? value >= target : value <= target) ? 'ok' : 'over';
}

/** The figures issue 14 sets targets for, each beside its target. */
export function formatTargetsMarkdown(report: BenchReport): string {
  const t = report.targets;
  const p = report.perCheckout;
  const l = report.latencyMs;
  const rows: [string, number | null, string, number, boolean?][] = [
    [
      'checkouts/s at concurrency ' + report.options.concurrency,
      report.throughput.checkoutsPerSecond,
      '>=',
      t.checkoutsPerSecond,
      true,
    ],
    ['pay -> terminal p50, one at a time (ms)', l.serialPayToTerminal.p50, '<=', t.serialPayToTerminalP50Ms],
    [
      'create -> webhook delivered p50, one at a time (ms)',
      l.serialCreateToWebhookDelivered.p50,
      '<=',
      t.serialCreateToWebhookDeliveredP50Ms,
    ],
    ['DynamoDB write requests per checkout', p.dynamoWriteRequests, '<=', t.dynamoWriteRequests],
    [
      `DynamoDB write units per checkout, AWS rules (DynamoDB Local reports ${p.writeRequestUnitsLocalSizing ?? p.writeRequestUnitsLocal} for the same writes)`,
      p.writeRequestUnitsAws,
      '<=',
      t.writeRequestUnitsAws,
    ],
    [
      `DynamoDB read units per checkout, AWS rules (Local reports ${p.readRequestUnitsLocal})`,
      p.readRequestUnitsAws,
      '<=',
      t.readRequestUnitsAws,
    ],
    ['Step Functions state transitions per checkout', p.stateTransitions, '<=', t.stateTransitions],
    ['Lambda invocations per checkout', p.lambdaInvocations, '<=', t.lambdaInvocations],
    ['USD per million checkouts (list price)', round(report.cost.totalUsd, 2), '<=', t.costUsdPerMillion],
    ['largest Lambda bundle (KiB, bundle report)', report.bundles.maxKiB, '<=', round(t.bundleKiB, 1)],
    ['slowest module initialisation (ms, bundle report)', report.bundles.maxInitMs, '<=', t.initMs],
  ];
  return [
    '| figure (issue 14) | measured | target | |',
    '|---|---:|---:|:---:|',
    ...rows.map(
      ([name, value, sign, target, atLeast]) =>
        `| ${name} | ${value === null ? 'n/a' : value} | ${sign} ${target} | ${againstTarget(value, target, atLeast)} |`,
    ),
  ].join('\n');
}

/** A writesByEntry / readsByEntry table: one row per `<entry> <command>`, most units first. */
export function formatByEntryMarkdown(title: string, rows: Record<string, EntryCallRow>): string {
  const sorted = Object.entries(rows).sort(([a, x], [b, y]) => y.unitsAws - x.unitsAws || a.localeCompare(b));
  return [
    `| ${title} | requests | items | units, AWS rules | units, DynamoDB Local |`,
    '|---|---:|---:|---:|---:|',
    ...(sorted.length === 0
      ? ['| (none measured) | | | | |']
      : sorted.map(([key, row]) => `| ${key} | ${row.requests} | ${row.items} | ${row.unitsAws} | ${row.unitsLocal} |`)),
  ].join('\n');
}

/** Where one checkout's time goes, one at a time: per entry, mean ms per invocation. */
export function formatBreakdownMarkdown(report: BenchReport): string {
  const b = report.latencyMs.serialBreakdown;
  const services = [...new Set(Object.values(b.byEntry).flatMap((e) => Object.keys(e.outboundMs)))].sort();
  const rows = Object.entries(b.byEntry).sort(([a], [c]) => a.localeCompare(c));
  return [
    `| one at a time, mean ms per invocation (${b.spans} invocations) | gap before (emulator) | wall | DynamoDB at the SDK (calls) | ${services.map((s) => `HTTP to ${s}`).join(' | ')}${services.length > 0 ? ' | ' : ''}rest |`,
    `|---|---:|---:|---:|${services.map(() => '---:|').join('')}---:|`,
    ...rows.map(
      ([entry, e]) =>
        `| ${entry} | ${e.gapBeforeMs ?? ''} | ${e.wallMs} | ${e.dynamoMs} (${e.dynamoCalls}) | ${services.map((s) => `${e.outboundMs[s] ?? ''}`).join(' | ')}${services.length > 0 ? ' | ' : ''}${e.otherMs} |`,
    ),
  ].join('\n');
}

/** The README table: one markdown block with the run's figures and the cost lines. */
export function formatBenchMarkdown(report: BenchReport): string {
  const l = report.latencyMs;
  const row = (name: string, s: LatencySummary): string => `| ${name} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.max} |`;
  const usd = (value: number): string => `$${value < 1 ? value.toFixed(3) : value.toFixed(2)}`;
  const m = report.machine;
  const lines = [
    `Measured ${report.measuredAt.slice(0, 10)} on ${m.cpus} cores (${m.cpuModel}), Node ${m.node}${m.stackNodeArgs !== undefined && m.stackNodeArgs.length > 0 ? ` (stack process: ${m.stackNodeArgs.join(' ')})` : ''}, load average before ${m.loadAverageBefore.map((v) => v.toFixed(2)).join(' ')}.`,
    `${report.throughput.checkouts} checkouts at concurrency ${report.options.concurrency}, in memory, sandbox PSP approving, demo merchant confirming at once.`,
    '',
    '| throughput | value |',
    '|---|---|',
    `| checkouts/s (create -> pay -> terminal -> webhook delivered) | **${report.throughput.checkoutsPerSecond}** (${report.throughput.succeeded}/${report.throughput.checkouts} succeeded in ${report.throughput.wallSeconds} s) |`,
    `| CPU ms per checkout: stack process (host, emulator, handlers, sandboxes) / its children (DynamoDB Local) / load generator | ${report.throughput.cpuMsPerCheckout.stackProcess ?? 'n/a'} / ${report.throughput.cpuMsPerCheckout.childProcesses ?? 'n/a'} / ${report.throughput.cpuMsPerCheckout.loadGenerator ?? 'n/a'} |`,
    `| DynamoDB Local raw PutItem/s at concurrency ${report.storageBound.concurrency} | ${report.storageBound.putItemsPerSecond} |`,
    `| DynamoDB write calls per checkout | ${report.storageBound.dynamoWriteCallsPerCheckout} |`,
    `| storage bound (PutItem/s / writes per checkout) | ${report.storageBound.checkoutsPerSecondBound} checkouts/s |`,
    `| measured / storage bound | ${report.storageBound.ratioToBound} |`,
    '',
    '| latency (ms) | p50 | p95 | p99 | max |',
    '|---|---|---|---|---|',
    row('POST /v1/checkouts (create)', l.create),
    row('POST /v1/checkouts/{id}/pay', l.pay),
    row('pay -> terminal status', l.payToTerminal),
    row('create -> terminal status', l.createToTerminal),
    row('create -> webhook delivered', l.createToWebhookDelivered),
    row('pay -> terminal status, one at a time', l.serialPayToTerminal),
    row('create -> terminal status, one at a time', l.serialCreateToTerminal),
    row('create -> webhook delivered, one at a time', l.serialCreateToWebhookDelivered),
    '',
    formatBreakdownMarkdown(report),
    '',
    `Status polls by the load generator: ${report.statusPolls.total} in the measured run (${report.statusPolls.perCheckout} per checkout), ${report.statusPolls.serialTotal} one at a time (${report.statusPolls.serialPerCheckout} per checkout); it reads the timeline once the stack saw the result webhook delivered, then every 100 ms until the delivery is recorded. Not counted in the figures below.`,
    `Webhook delivery attempts (any sender): ${report.webhookDeliveries.attempts} (${report.webhookDeliveries.perCheckout} per checkout; ${report.webhookDeliveries.delivered} answered 2xx; ${report.webhookDeliveries.distinctWebhookIds} distinct webhook-ids); by sender per checkout: ${
      Object.entries(report.webhookDeliveries.bySender)
        .map(([sender, n]) => `${sender} ${n}`)
        .join(', ') || 'none'
    }.`,
    '',
    formatTargetsMarkdown(report),
    '',
    '| per successful checkout | count |',
    '|---|---|',
    `| API Gateway requests (create + pay + PSP callbacks) | ${report.perCheckout.apiRequests} |`,
    `| Lambda invocations | ${report.perCheckout.lambdaInvocations} |`,
    `| Lambda billed ms (serial-phase durations) | ${report.perCheckout.lambdaBilledMs} |`,
    `| Step Functions state transitions | ${report.perCheckout.stateTransitions} |`,
    `| DynamoDB calls | ${Object.entries(report.perCheckout.dynamoCallsByCommand)
      .map(([c, n]) => `${c.replace('Command', '')} ${n}`)
      .join(', ')} |`,
    `| DynamoDB write requests / items written (every component) | ${report.perCheckout.dynamoWriteRequests} / ${report.perCheckout.dynamoItemsWritten} |`,
    `| DynamoDB WRU, AWS rules (of which index entries: ${
      Object.entries(report.perCheckout.indexWriteRequestUnitsAwsByIndex)
        .map(([index, n]) => `${index} ${n}`)
        .join(', ') || 'none'
    }) / DynamoDB Local's figure, same checkouts | ${report.perCheckout.writeRequestUnitsAws ?? 'n/a'} (${report.perCheckout.indexWriteRequestUnitsAws ?? 'n/a'}) / ${report.perCheckout.writeRequestUnitsLocalSizing ?? 'n/a'} |`,
    `| DynamoDB WRU, DynamoDB Local's figure in the measured run (retries under contention included) | ${report.perCheckout.writeRequestUnitsLocal} |`,
    `| AWS-rule WRU by command (sizing phase) | ${Object.entries(report.perCheckout.writeRequestUnitsAwsByCommand)
      .map(([c, n]) => `${c.replace('Command', '')} ${n}`)
      .join(', ')} |`,
    `| DynamoDB RRU, AWS rules / DynamoDB Local's figure | ${report.perCheckout.readRequestUnitsAws} / ${report.perCheckout.readRequestUnitsLocal} |`,
    '',
    formatByEntryMarkdown('writes per checkout by entry (sizing phase)', report.perCheckout.writesByEntry),
    '',
    formatByEntryMarkdown('reads per checkout by entry (measured run, polls apart)', report.perCheckout.readsByEntry),
    '',
    `| cost per million checkouts (AWS list prices, ${report.cost.pricesRegion}) | per checkout | USD per 1M |`,
    '|---|---|---|',
    ...report.cost.lines.map(
      (line) =>
        `| ${line.item}${line.basis === 'estimated' ? ' (estimate)' : ''} | ${round(line.quantityPerCheckout, 3)} ${line.unit} | ${usd(line.usdPerMillionCheckouts)} |`,
    ),
    `| **total** (measured lines only: ${usd(report.cost.measuredUsd)}) | | **${usd(report.cost.totalUsd)}** |`,
    '',
    `Fixed per month, independent of traffic: ${report.cost.fixedMonthlyUsd.map((f) => `${f.item} ${usd(f.usd)}`).join('; ')}.`,
    `Prices: ${report.cost.pricesRecorded}, bench/prices.ts. A buyer's status poll adds ${usd(PRICES.httpApiRequest.usd * 1e6 + PRICES.lambdaRequest.usd * 1e6)} per million polls plus its Lambda time and ${report.perStatusPoll.readRequestUnits} RRU.`,
  ];
  return lines.join('\n');
}

/** The last line `npm run bench` prints: the headline figures in one line. */
export function benchSummaryLine(report: BenchReport): string {
  const t = report.throughput;
  return (
    `bench: ${t.succeeded}/${t.checkouts} checkouts succeeded in ${t.wallSeconds.toFixed(1)} s (${t.checkoutsPerSecond.toFixed(1)}/s), ` +
    `pay -> terminal p50 ${report.latencyMs.payToTerminal.p50} ms p99 ${report.latencyMs.payToTerminal.p99} ms ` +
    `(one at a time p50 ${report.latencyMs.serialPayToTerminal.p50} ms), ` +
    `${round(report.cost.totalUsd, 2)} USD per million checkouts`
  );
}
