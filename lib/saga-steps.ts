/**
 * The saga's Task states and the Lambda entry behind each (`lambdas/<entry>/handler.ts`).
 * The ASL in statemachines/checkout.asl.json references each function as
 * `${<State>FunctionArn}`; CDK fills the substitution, and the local runtime keys its local
 * handlers by the same state names (aws-local-stepfunctions keys overrides by state name).
 */
export const SAGA_STEPS = {
  AuthorizePayment: 'saga-authorize-payment',
  ConfirmInventory: 'saga-confirm-inventory',
  CapturePayment: 'saga-capture-payment',
  VoidAuthorization: 'saga-void-authorization',
  RecordOutcome: 'saga-record-outcome',
  NotifyMerchant: 'saga-notify-merchant',
  /** `.waitForTaskToken` wait for a pending PSP authorization (resumed by the PSP callback handler). */
  AwaitAuthorization: 'saga-await-authorization',
  /** `.waitForTaskToken` wait while the buyer is at a 3-D Secure challenge (15 min abandonment timeout). */
  AwaitAuthentication: 'saga-await-authentication',
} as const;

export type SagaState = keyof typeof SAGA_STEPS;

export const CHECKOUT_STATE_MACHINE_FILE = 'statemachines/checkout.asl.json';
