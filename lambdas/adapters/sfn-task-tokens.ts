/**
 * Step Functions' callback API for the saga's `.waitForTaskToken` wait (AwaitAuthorization):
 * SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, and DescribeExecution for the
 * reconciliation sweep (is the saga still alive?). Locally the same SDK calls go to the emulator
 * (SFN_ENDPOINT), which implements them (local/stepfunctions-emulator.ts).
 */
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import type { SagaExecutionInspector, TaskTokenResumer } from '../ports/workflow';

/** Errors meaning "that token is no longer waiting": already resumed, timed out, or unknown. */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export class SfnTaskTokens implements TaskTokenResumer, SagaExecutionInspector {
  constructor(private readonly client: SFNClient) {}

  async succeed(taskToken: string, output: Record<string, unknown>): Promise<boolean> {
    return await this.send(() => this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<boolean> {
    return await this.send(() =>
      this.client.send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32_000) })),
    );
  }

  async heartbeat(taskToken: string): Promise<boolean> {
    return await this.send(() => this.client.send(new SendTaskHeartbeatCommand({ taskToken })));
  }

  /** RUNNING -> true; finished or unknown (the local emulator forgets executions on restart) -> false. */
  async isRunning(executionArn: string): Promise<boolean> {
    try {
      const output = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return output.status === 'RUNNING';
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return false;
      throw error;
    }
  }

  private async send(call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (error) {
      if (error instanceof Error && STALE_TOKEN_ERRORS.has(error.name)) return false;
      throw error;
    }
  }
}
