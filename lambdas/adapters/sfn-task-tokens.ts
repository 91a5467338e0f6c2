/**
 * Step Functions' callback API for the saga's `.waitForTaskToken` wait (AwaitAuthorization):
 * SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, and DescribeExecution for the
 * reconciliation sweep (is the saga still alive?). Sent through the lean AWS JSON client
 * (sfn-client.ts); locally the same calls go to the emulator (SFN_ENDPOINT), which
 * implements them (local/stepfunctions-emulator.ts).
 */
import type { AwsJsonCaller } from './aws-client-options';
import type { SagaExecutionInspector, TaskTokenResumer } from '../ports/workflow';

/** Errors meaning "that token is no longer waiting": already resumed, timed out, or unknown. */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export class SfnTaskTokens implements TaskTokenResumer, SagaExecutionInspector {
  /** `client`: a Step Functions client (createSfnClient). */
  constructor(private readonly client: AwsJsonCaller) {}

  async succeed(taskToken: string, output: Record<string, unknown>): Promise<boolean> {
    return await this.send('SendTaskSuccess', { taskToken, output: JSON.stringify(output) });
  }

  async fail(taskToken: string, error: string, cause: string): Promise<boolean> {
    return await this.send('SendTaskFailure', { taskToken, error, cause: cause.slice(0, 32_000) });
  }

  async heartbeat(taskToken: string): Promise<boolean> {
    return await this.send('SendTaskHeartbeat', { taskToken });
  }

  /** RUNNING -> true; finished or unknown (the local emulator forgets executions on restart) -> false. */
  async isRunning(executionArn: string): Promise<boolean> {
    try {
      const output = await this.client.call<{ status?: string }>('DescribeExecution', { executionArn });
      return output.status === 'RUNNING';
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return false;
      throw error;
    }
  }

  /** One task-token call: true when Step Functions took it, false when the token no longer waits. */
  private async send(operation: string, body: Record<string, unknown>): Promise<boolean> {
    try {
      await this.client.call(operation, body);
      return true;
    } catch (error) {
      if (error instanceof Error && STALE_TOKEN_ERRORS.has(error.name)) return false;
      throw error;
    }
  }
}
