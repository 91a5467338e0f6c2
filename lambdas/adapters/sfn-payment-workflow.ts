/**
 * PaymentWorkflow on Step Functions: starts one Standard execution of the checkout saga per paid
 * checkout, named after the checkout. The name makes the start idempotent: a double click (or a
 * retried request) that finds the execution already there is success, not a second payment.
 * Sent through the lean AWS JSON client (sfn-client.ts), not the SDK; locally the same
 * client talks to the Step Functions emulator (SFN_ENDPOINT).
 */
import type { AwsJsonCaller } from './aws-client-options';
import { createSfnClient } from './sfn-client';
import type { PaymentWorkflow, StartPaymentInput } from '../ports/workflow';
import { optionalEnv, requireEnv } from '../shared/env';

export interface SfnPaymentWorkflowOptions {
  /** A Step Functions client (createSfnClient). */
  client: AwsJsonCaller;
  stateMachineArn: string;
}

export class SfnPaymentWorkflow implements PaymentWorkflow {
  private readonly client: AwsJsonCaller;
  private readonly stateMachineArn: string;

  constructor(options: SfnPaymentWorkflowOptions) {
    this.client = options.client;
    this.stateMachineArn = options.stateMachineArn;
  }

  /**
   * StartExecution with the checkout-derived name. Step Functions returns the same execution for
   * the same name and input while it runs, and ExecutionAlreadyExists once it has finished or if
   * the input differs: either way the payment is already under way, so it is reported as such.
   */
  async startPayment(input: StartPaymentInput): Promise<{ executionArn: string; alreadyStarted: boolean }> {
    try {
      const output = await this.client.call<{ executionArn?: string }>('StartExecution', {
        stateMachineArn: this.stateMachineArn,
        name: input.name,
        input: JSON.stringify(input.input),
      });
      if (typeof output.executionArn !== 'string') throw new Error('StartExecution returned no executionArn');
      return { executionArn: output.executionArn, alreadyStarted: false };
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') {
        return { executionArn: executionArnFor(this.stateMachineArn, input.name), alreadyStarted: true };
      }
      throw error;
    }
  }
}

/**
 * The ARN Step Functions gives an execution: the state machine ARN with `:stateMachine:` turned
 * into `:execution:` and `:<name>` appended.
 */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

let defaultWorkflow: SfnPaymentWorkflow | undefined;

/**
 * The workflow wired from the environment (read once): STATE_MACHINE_ARN, and SFN_ENDPOINT when
 * running against the local emulator. Call it at module scope in a handler.
 */
export function createSfnPaymentWorkflowFromEnv(): SfnPaymentWorkflow {
  if (defaultWorkflow === undefined) {
    const stateMachineArn = requireEnv('STATE_MACHINE_ARN');
    const endpoint = optionalEnv('SFN_ENDPOINT', '');
    // Request timeouts on AWS; none against the local emulator (aws-sdk-timeouts.ts).
    defaultWorkflow = new SfnPaymentWorkflow({ client: createSfnClient(endpoint === '' ? {} : { endpoint }), stateMachineArn });
  }
  return defaultWorkflow;
}
