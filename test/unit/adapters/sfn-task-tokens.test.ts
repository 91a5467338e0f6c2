/**
 * The saga's task-token callbacks and execution check, on the wire against a loopback Step
 * Functions stand-in: SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat and DescribeExecution
 * as signed JSON 1.0 requests (AWSStepFunctions.*); a token that no longer waits (TaskTimedOut,
 * TaskDoesNotExist, InvalidToken) is `false`, not an error; an unknown execution is not running;
 * any other error reaches the caller.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsJsonClient } from '../../../lambdas/adapters/aws-json-client';
import { createSfnClient } from '../../../lambdas/adapters/sfn-client';
import { SfnTaskTokens } from '../../../lambdas/adapters/sfn-task-tokens';
import { startAwsJsonStub, STUB_CREDENTIALS, type AwsJsonStub, type StubAnswer } from '../../support/aws-json-stub';

const EXECUTION_ARN = 'arn:aws:states:eu-west-1:000000000000:execution:checkout:chk_1';

let sfn: AwsJsonStub;
let client: AwsJsonClient;
let tokens: SfnTaskTokens;
let script: (operation: string, body: Record<string, unknown>) => StubAnswer;

beforeAll(async () => {
  sfn = await startAwsJsonStub((operation, body) => script(operation, body));
  client = createSfnClient({ endpoint: sfn.url, region: 'eu-west-1', credentials: STUB_CREDENTIALS });
  tokens = new SfnTaskTokens(client);
});

afterAll(async () => {
  client.destroy();
  await sfn.close();
});

beforeEach(() => {
  sfn.requests.length = 0;
  script = () => ({ body: {} });
});

const error = (errorType: string): StubAnswer => ({ status: 400, errorType, message: `${errorType} for the test` });

describe('SfnTaskTokens', () => {
  it('sends success, failure and heartbeat as signed Step Functions JSON 1.0 calls', async () => {
    // Act
    const results = [
      await tokens.succeed('tok_1', { authorized: true }),
      await tokens.fail('tok_2', 'PaymentDeclinedError', 'x'.repeat(40_000)),
      await tokens.heartbeat('tok_3'),
    ];
    // Assess
    expect(results).toEqual([true, true, true]);
    expect(sfn.requests.map((request) => [request.target, request.body])).toEqual([
      ['AWSStepFunctions.SendTaskSuccess', { taskToken: 'tok_1', output: JSON.stringify({ authorized: true }) }],
      ['AWSStepFunctions.SendTaskFailure', { taskToken: 'tok_2', error: 'PaymentDeclinedError', cause: 'x'.repeat(32_000) }],
      ['AWSStepFunctions.SendTaskHeartbeat', { taskToken: 'tok_3' }],
    ]);
    for (const request of sfn.requests) {
      expect(request.contentType).toBe('application/x-amz-json-1.0');
      expect(request.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDSTUB\/\d{8}\/eu-west-1\/states\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
      );
    }
  });

  it.each(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'])('reports a stale token (%s) as false', async (errorType) => {
    // Prepare
    script = () => error(errorType);
    // Act
    const results = [
      await tokens.succeed('tok_old', {}),
      await tokens.fail('tok_old', 'E', 'c'),
      await tokens.heartbeat('tok_old'),
    ];
    // Assess
    expect(results).toEqual([false, false, false]);
    expect(sfn.requests).toHaveLength(3);
  });

  it('passes any other error on, by name', async () => {
    // Prepare
    script = () => error('AccessDeniedException');
    // Act + Assess
    await expect(tokens.succeed('tok_1', {})).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('is running only for a RUNNING execution; an unknown one is not running', async () => {
    // Prepare
    const statuses: Record<string, StubAnswer> = {
      [`${EXECUTION_ARN}:running`]: { body: { executionArn: `${EXECUTION_ARN}:running`, status: 'RUNNING', startDate: 1.7e9 } },
      [`${EXECUTION_ARN}:done`]: { body: { executionArn: `${EXECUTION_ARN}:done`, status: 'SUCCEEDED', startDate: 1.7e9 } },
    };
    script = (_operation, body) => statuses[String(body.executionArn)] ?? error('ExecutionDoesNotExist');
    // Act
    const results = [
      await tokens.isRunning(`${EXECUTION_ARN}:running`),
      await tokens.isRunning(`${EXECUTION_ARN}:done`),
      await tokens.isRunning(`${EXECUTION_ARN}:gone`),
    ];
    // Assess
    expect(results).toEqual([true, false, false]);
    expect(sfn.requests.map((request) => [request.target, request.body])).toEqual([
      ['AWSStepFunctions.DescribeExecution', { executionArn: `${EXECUTION_ARN}:running` }],
      ['AWSStepFunctions.DescribeExecution', { executionArn: `${EXECUTION_ARN}:done` }],
      ['AWSStepFunctions.DescribeExecution', { executionArn: `${EXECUTION_ARN}:gone` }],
    ]);
  });

  it('passes a DescribeExecution error other than ExecutionDoesNotExist on', async () => {
    // Prepare
    script = () => error('InvalidArn');
    // Act + Assess
    await expect(tokens.isRunning('not-an-arn')).rejects.toMatchObject({ name: 'InvalidArn' });
  });
});
