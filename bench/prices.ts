/**
 * AWS list prices the benchmark turns its counts into, in ONE table: us-east-1, on-demand, no
 * free tier, no volume discounts, no Savings Plans. Recorded from the public pricing pages
 * (aws.amazon.com/<service>/pricing) as they stood in 2025 (DynamoDB after the 2024-11-01
 * on-demand price cut); re-check them before quoting a figure. Changing a price here changes
 * every printed cost; nothing else holds a price.
 */

export const PRICES_REGION = 'us-east-1';
export const PRICES_RECORDED = '2025 list prices (DynamoDB on-demand after the 2024-11-01 cut)';

/** Configuration the deployed stack uses (lib/constructs/paystep-function.ts), which the prices apply to. */
export const DEPLOYED_LAMBDA = { memoryMb: 256, architecture: 'arm64' } as const;

export interface PriceRow {
  service: string;
  unit: string;
  /** USD per one unit. */
  usd: number;
  source: string;
}

export const PRICES = {
  lambdaRequest: {
    service: 'Lambda',
    unit: 'request',
    usd: 0.2 / 1e6,
    source: 'aws.amazon.com/lambda/pricing: $0.20 per 1M requests',
  },
  lambdaGbSecondArm: {
    service: 'Lambda',
    unit: 'GB-second (arm64)',
    usd: 0.0000133334,
    source: 'aws.amazon.com/lambda/pricing: Arm, first 7.5B GB-s/month',
  },
  stateTransition: {
    service: 'Step Functions Standard',
    unit: 'state transition',
    usd: 0.025 / 1e3,
    source: 'aws.amazon.com/step-functions/pricing: $0.025 per 1,000 state transitions',
  },
  dynamoWriteRequestUnit: {
    service: 'DynamoDB on-demand',
    unit: 'write request unit',
    usd: 0.625 / 1e6,
    source: 'aws.amazon.com/dynamodb/pricing/on-demand: $0.625 per million WRU',
  },
  dynamoReadRequestUnit: {
    service: 'DynamoDB on-demand',
    unit: 'read request unit',
    usd: 0.125 / 1e6,
    source: 'aws.amazon.com/dynamodb/pricing/on-demand: $0.125 per million RRU',
  },
  expressRequest: {
    service: 'Step Functions Express',
    unit: 'request (execution started)',
    usd: 1.0 / 1e6,
    source: 'aws.amazon.com/step-functions/pricing: Express, $1.00 per 1M requests',
  },
  expressGbSecond: {
    service: 'Step Functions Express',
    unit: 'GB-second of execution (64 MB steps, rounded up to 100 ms)',
    usd: 0.00001667,
    source: 'aws.amazon.com/step-functions/pricing: Express duration, $0.00001667 per GB-second (first 1,000 GB-hours/month)',
  },
  httpApiRequest: {
    service: 'API Gateway HTTP API',
    unit: 'request',
    usd: 1.0 / 1e6,
    source: 'aws.amazon.com/api-gateway/pricing: $1.00 per million (first 300M/month)',
  },
  natGatewayGb: {
    service: 'NAT gateway',
    unit: 'GB processed',
    usd: 0.045,
    source: 'aws.amazon.com/vpc/pricing: $0.045 per GB processed',
  },
  natGatewayHour: {
    service: 'NAT gateway',
    unit: 'hour',
    usd: 0.045,
    source: 'aws.amazon.com/vpc/pricing: $0.045 per NAT gateway-hour',
  },
  logsIngestedGb: {
    service: 'CloudWatch Logs',
    unit: 'GB ingested',
    usd: 0.5,
    source: 'aws.amazon.com/cloudwatch/pricing: $0.50 per GB ingested (standard)',
  },
  xrayTrace: {
    service: 'X-Ray',
    unit: 'trace recorded',
    usd: 5.0 / 1e6,
    source: 'aws.amazon.com/xray/pricing: $5.00 per million traces recorded',
  },
} as const satisfies Record<string, PriceRow>;

/**
 * Assumptions for the lines the local stack cannot measure. Each is stated in the printed table.
 * - Lambda platform log lines (START/END/REPORT, no handler logs at WARN level): ~350 bytes per invocation.
 * - X-Ray default sampling records 1 request/s plus 5% of the rest: 5% of the API requests and executions at volume.
 * - Bytes through the NAT gateway per checkout (PSP authorize + capture, inventory confirmation, webhook, TLS): ~12 KB.
 */
export const ASSUMPTIONS = {
  logBytesPerInvocation: 350,
  xraySampledShare: 0.05,
  natBytesPerCheckout: 12 * 1024,
  /** Fixed per month: EventBridge runs the webhook dispatcher every minute for up to 40 s and the sweep every 5 min. */
  dispatcherGbSecondsPerMonth: (60 * 24 * 30 * 40 * DEPLOYED_LAMBDA.memoryMb) / 1024,
  sweepInvocationsPerMonth: 12 * 24 * 30,
  dispatcherInvocationsPerMonth: 60 * 24 * 30,
  natGateways: 1,
} as const;

/** What one measured checkout consumed (per successful checkout, averaged). */
export interface PerCheckoutUsage {
  apiRequests: number;
  lambdaInvocations: number;
  /** Billed Lambda milliseconds (sum over invocations, rounded up per invocation). */
  lambdaBilledMs: number;
  stateTransitions: number;
  executions: number;
  writeRequestUnits: number;
  readRequestUnits: number;
}

export interface CostLine {
  item: string;
  quantityPerCheckout: number;
  unit: string;
  usdPerMillionCheckouts: number;
  basis: 'measured' | 'estimated';
}

/** Turns per-checkout usage into USD per million checkouts, one line per priced item. */
export function costPerMillionCheckouts(usage: PerCheckoutUsage): { lines: CostLine[]; totalUsd: number; measuredUsd: number } {
  const million = 1e6;
  const gbSeconds = (usage.lambdaBilledMs / 1000) * (DEPLOYED_LAMBDA.memoryMb / 1024);
  const lines: CostLine[] = [
    {
      item: 'API Gateway HTTP API requests',
      quantityPerCheckout: usage.apiRequests,
      unit: 'request',
      usdPerMillionCheckouts: usage.apiRequests * PRICES.httpApiRequest.usd * million,
      basis: 'measured',
    },
    {
      item: 'Lambda requests',
      quantityPerCheckout: usage.lambdaInvocations,
      unit: 'request',
      usdPerMillionCheckouts: usage.lambdaInvocations * PRICES.lambdaRequest.usd * million,
      basis: 'measured',
    },
    {
      item: `Lambda duration (${DEPLOYED_LAMBDA.memoryMb} MB ${DEPLOYED_LAMBDA.architecture})`,
      quantityPerCheckout: gbSeconds,
      unit: 'GB-s',
      usdPerMillionCheckouts: gbSeconds * PRICES.lambdaGbSecondArm.usd * million,
      basis: 'measured',
    },
    {
      item: 'Step Functions Standard transitions',
      quantityPerCheckout: usage.stateTransitions,
      unit: 'transition',
      usdPerMillionCheckouts: usage.stateTransitions * PRICES.stateTransition.usd * million,
      basis: 'measured',
    },
    {
      item: 'DynamoDB write request units',
      quantityPerCheckout: usage.writeRequestUnits,
      unit: 'WRU',
      usdPerMillionCheckouts: usage.writeRequestUnits * PRICES.dynamoWriteRequestUnit.usd * million,
      basis: 'measured',
    },
    {
      item: 'DynamoDB read request units',
      quantityPerCheckout: usage.readRequestUnits,
      unit: 'RRU',
      usdPerMillionCheckouts: usage.readRequestUnits * PRICES.dynamoReadRequestUnit.usd * million,
      basis: 'measured',
    },
    {
      item: 'CloudWatch Logs (Lambda platform lines)',
      quantityPerCheckout: (usage.lambdaInvocations * ASSUMPTIONS.logBytesPerInvocation) / 1024,
      unit: 'KB',
      usdPerMillionCheckouts:
        ((usage.lambdaInvocations * ASSUMPTIONS.logBytesPerInvocation) / 1e9) * PRICES.logsIngestedGb.usd * million,
      basis: 'estimated',
    },
    {
      item: 'X-Ray traces (5% sampled)',
      quantityPerCheckout: (usage.apiRequests + usage.executions) * ASSUMPTIONS.xraySampledShare,
      unit: 'trace',
      usdPerMillionCheckouts:
        (usage.apiRequests + usage.executions) * ASSUMPTIONS.xraySampledShare * PRICES.xrayTrace.usd * million,
      basis: 'estimated',
    },
    {
      item: 'NAT gateway data processed',
      quantityPerCheckout: ASSUMPTIONS.natBytesPerCheckout / 1024,
      unit: 'KB',
      usdPerMillionCheckouts: (ASSUMPTIONS.natBytesPerCheckout / 1e9) * PRICES.natGatewayGb.usd * million,
      basis: 'estimated',
    },
  ];
  const totalUsd = lines.reduce((sum, line) => sum + line.usdPerMillionCheckouts, 0);
  const measuredUsd = lines
    .filter((line) => line.basis === 'measured')
    .reduce((sum, line) => sum + line.usdPerMillionCheckouts, 0);
  return { lines, totalUsd, measuredUsd };
}

/**
 * What one checkout's workflow would cost per million checkouts on an Express workflow instead of
 * Standard, for the README's comparison: Express bills a request plus its duration (memory in 64 MB
 * steps, at least 64 MB; time rounded up to 100 ms), Standard bills each state transition.
 */
export function workflowCostPerMillion(input: { stateTransitions: number; executionMs: number; expressMemoryMb?: number }): {
  standardUsd: number;
  expressUsd: number;
} {
  const memoryGb = Math.max(64, Math.ceil((input.expressMemoryMb ?? 64) / 64) * 64) / 1024;
  const billedSeconds = Math.ceil(input.executionMs / 100) / 10;
  return {
    standardUsd: input.stateTransitions * PRICES.stateTransition.usd * 1e6,
    expressUsd: (PRICES.expressRequest.usd + memoryGb * billedSeconds * PRICES.expressGbSecond.usd) * 1e6,
  };
}

/** The traffic-independent monthly floor (NAT gateway hours, the scheduled dispatcher and sweep). */
export function fixedMonthlyUsd(): { item: string; usd: number }[] {
  return [
    {
      item: `NAT gateway hours (${ASSUMPTIONS.natGateways} x 720 h)`,
      usd: ASSUMPTIONS.natGateways * 720 * PRICES.natGatewayHour.usd,
    },
    {
      item: 'Webhook dispatcher (every minute, up to 40 s)',
      usd:
        ASSUMPTIONS.dispatcherInvocationsPerMonth * PRICES.lambdaRequest.usd +
        ASSUMPTIONS.dispatcherGbSecondsPerMonth * PRICES.lambdaGbSecondArm.usd,
    },
    { item: 'Reconciliation sweep (every 5 min)', usd: ASSUMPTIONS.sweepInvocationsPerMonth * PRICES.lambdaRequest.usd },
  ];
}
