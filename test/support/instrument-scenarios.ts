/**
 * The seed's workflow tables (../shared/seeds/financial-instruments.txt), as data shared by the
 * domain unit tests and the DynamoDB Local + sandbox PSP integration tests.
 *
 * Interpretation (literal): each table column is one request; its "Capture amount" and "Refund
 * amount" are the sums of the transactions that request answers (a capture answers two:
 * (-X, 0) and (0, +X), per the seed's convention). The "Authorize request" column is the
 * instrument's creation. Amounts are USD minor units ($50 = 5000). For the pre-captured tables the
 * instrument is created with type `captured`: capture moves no money at the PSP, and revoke is
 * executed as a PSP refund of what was still capturable (the seed's rule), so the refundable
 * amount is untouched by the revoke and the later refund still works (cancellation 2).
 */
export type ScenarioRequest = 'create' | 'capture' | 'refund' | 'revoke';

export interface ScenarioStep {
  request: ScenarioRequest;
  /** For capture and refund. */
  amount?: number;
  /** The table's "Context" row. */
  context: string;
  /** The table's Capture / Refund amount rows for this column. */
  capture: number;
  refund: number;
  /** The individual transactions the request answers, as [capture_amount, refund_amount]. */
  transactions: [number, number][];
}

export interface InstrumentScenario {
  name: string;
  type: 'token' | 'authorized' | 'captured';
  amount: number;
  steps: ScenarioStep[];
  /** What the sandbox PSP's ledger must show at the end (succeeded rows, by type). */
  psp: { capture: number; refund: number; void: number };
}

const ITEM = 5000;
const ORDER = 2 * ITEM;

const create = (context: string): ScenarioStep => ({
  request: 'create',
  context,
  capture: ORDER,
  refund: 0,
  transactions: [[ORDER, 0]],
});
const capture = (context: string): ScenarioStep => ({
  request: 'capture',
  amount: ITEM,
  context,
  capture: -ITEM,
  refund: ITEM,
  transactions: [
    [-ITEM, 0],
    [0, ITEM],
  ],
});
const refund = (context: string): ScenarioStep => ({
  request: 'refund',
  amount: ITEM,
  context,
  capture: 0,
  refund: -ITEM,
  transactions: [[0, -ITEM]],
});
const revoke = (context: string, released: number): ScenarioStep => ({
  request: 'revoke',
  context,
  capture: 0 - released,
  refund: 0,
  transactions: [[0 - released, 0]],
});

function returnScenario(type: 'token' | 'authorized'): InstrumentScenario {
  return {
    name: `return scenario (${type})`,
    type,
    amount: ORDER,
    steps: [
      create('Customer places an order.'),
      capture('One item is fulfilled.'),
      capture('The other item is fulfilled.'),
      refund('One item is returned.'),
      refund('The other item is returned.'),
    ],
    psp: { capture: ORDER, refund: ORDER, void: 0 },
  };
}

function partialCancellation(type: 'token' | 'authorized'): InstrumentScenario {
  return {
    name: `partial cancellation scenario (${type})`,
    type,
    amount: ORDER,
    steps: [
      create('Customer places an order.'),
      capture('One item is fulfilled.'),
      revoke('The order is partially canceled.', ITEM),
      refund('The fulfilled item is returned.'),
    ],
    psp: { capture: ITEM, refund: ITEM, void: ITEM },
  };
}

export const INSTRUMENT_SCENARIOS: readonly InstrumentScenario[] = [
  returnScenario('token'),
  returnScenario('authorized'),
  partialCancellation('token'),
  partialCancellation('authorized'),
  {
    name: 'pre-captured order cancellation scenario 1',
    type: 'captured',
    amount: ORDER,
    steps: [create('Customer places an order.'), revoke('Customer cancels the order.', ORDER)],
    psp: { capture: 0, refund: ORDER, void: 0 },
  },
  {
    name: 'pre-captured order cancellation scenario 2',
    type: 'captured',
    amount: ORDER,
    steps: [
      create('Customer places an order.'),
      capture('The order is fulfilled.'),
      revoke('Customer cancels the order.', ITEM),
      refund('The fulfilled item is returned.'),
    ],
    psp: { capture: 0, refund: ORDER, void: 0 },
  },
  {
    // The seed's sequence diagram: create, capture (order fulfilled), revoke (order canceled: nothing
    // left to release, the transaction sets the balance to 0 anyway), refund (item returned).
    name: 'authorize / capture / revoke / refund sequence (authorized)',
    type: 'authorized',
    amount: ORDER,
    steps: [
      create('A payment is initiated (pre-authorized).'),
      {
        ...capture('An order is fulfilled. Capture the amount.'),
        amount: ORDER,
        capture: -ORDER,
        refund: ORDER,
        transactions: [
          [-ORDER, 0],
          [0, ORDER],
        ],
      },
      revoke('An order is canceled. Revoke the amounts.', 0),
      refund('An item is returned. Refund the amount.'),
    ],
    psp: { capture: ORDER, refund: ITEM, void: 0 },
  },
];

/** Running balances after each step: the sums of the table's columns so far. */
export function expectedBalances(scenario: InstrumentScenario, stepIndex: number): { capturable: number; refundable: number } {
  let capturable = 0;
  let refundable = 0;
  for (const step of scenario.steps.slice(0, stepIndex + 1)) {
    capturable += step.capture;
    refundable += step.refund;
  }
  return { capturable, refundable };
}
