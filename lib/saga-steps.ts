/**
 * The saga's Task states and the Lambda entry behind each (`lambdas/<entry>/handler.ts`).
 * The ASL in statemachines/checkout.asl.json references each function as
 * `${<State>FunctionArn}`; CDK fills the substitution, and the local runtime keys its local
 * handlers by the same state names (aws-local-stepfunctions keys overrides by state name).
 */
export const SAGA_STEPS = {
  AuthorizePayment: 'saga-authorize-payment',
  /**
   * The success path's last step: the merchant's inventory confirmation (when required; asked once,
   * recorded in one write), then capture, terminal `succeeded` in the same write, the result webhook in-process.
   */
  CapturePayment: 'saga-capture-payment',
  /** The failure path's one terminal step: void, terminal `failed` (or reopen), the result webhook in-process. */
  VoidAuthorization: 'saga-void-authorization',
  /** `.waitForTaskToken` wait for a pending PSP authorization (resumed by the PSP callback handler). */
  AwaitAuthorization: 'saga-await-authorization',
  /** `.waitForTaskToken` wait while the buyer is at a 3-D Secure challenge (15 min abandonment timeout). */
  AwaitAuthentication: 'saga-await-authentication',
} as const;

export type SagaState = keyof typeof SAGA_STEPS;

export const CHECKOUT_STATE_MACHINE_FILE = 'statemachines/checkout.asl.json';
