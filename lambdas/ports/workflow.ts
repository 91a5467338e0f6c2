/**
 * Ports: the payment saga's workflow engine (Step Functions on AWS, the ASL emulator locally):
 * starting it, resuming a `.waitForTaskToken` wait, asking whether an execution still runs.
 */

export interface StartPaymentInput {
  /** Execution name, derived from the checkout id (same name twice starts nothing new). */
  name: string;
  input: { checkoutId: string };
}

export interface PaymentWorkflow {
  /** Starts the saga; idempotent per name (an existing execution with that name is success). */
  startPayment(input: StartPaymentInput): Promise<{ executionArn: string; alreadyStarted: boolean }>;
}

/** Resumes a saga waiting on `.waitForTaskToken` (Step Functions SendTask* on AWS, the emulator locally). */
export interface TaskTokenResumer {
  /** Resumes the wait; false when the token is no longer valid (already resumed, timed out). */
  succeed(taskToken: string, output: Record<string, unknown>): Promise<boolean>;
  fail(taskToken: string, error: string, cause: string): Promise<boolean>;
  heartbeat(taskToken: string): Promise<boolean>;
}

/** Is the checkout's saga execution still running? (DescribeExecution; locally the emulator, which forgets on restart.) */
export interface SagaExecutionInspector {
  isRunning(executionArn: string): Promise<boolean>;
}
