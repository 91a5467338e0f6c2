/**
 * Starting the checkout saga, on the wire against a loopback Step Functions stand-in:
 * StartExecution named after the checkout as a signed JSON 1.0 request; ExecutionAlreadyExists
 * (a double click after the first execution finished) is "already started" with the ARN derived
 * from the name; any other error reaches the caller; the Step Functions client gets the AWS
 * timeouts only without an endpoint override.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsJsonClient } from '../../../lambdas/adapters/aws-json-client';
import { createSfnClient } from '../../../lambdas/adapters/sfn-client';
import { executionArnFor, SfnPaymentWorkflow } from '../../../lambdas/adapters/sfn-payment-workflow';
import { startAwsJsonStub, STUB_CREDENTIALS, type AwsJsonStub, type StubAnswer } from '../../support/aws-json-stub';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:000000000000:stateMachine:checkout';

let sfn: AwsJsonStub;
let client: AwsJsonClient;
let workflow: SfnPaymentWorkflow;
let script: (body: Record<string, unknown>) => StubAnswer;

beforeAll(async () => {
  sfn = await startAwsJsonStub((_operation, body) => script(body));
  client = createSfnClient({ endpoint: sfn.url, region: 'eu-west-1', credentials: STUB_CREDENTIALS });
  workflow = new SfnPaymentWorkflow({ client, stateMachineArn: STATE_MACHINE_ARN });
});

afterAll(async () => {
  client.destroy();
  await sfn.close();
});

beforeEach(() => {
  sfn.requests.length = 0;
  script = (body) => ({ body: { executionArn: executionArnFor(STATE_MACHINE_ARN, String(body.name)), startDate: 1.7e9 } });
});

describe('SfnPaymentWorkflow', () => {
  it('starts one execution named after the checkout, with the input as JSON', async () => {
    // Act
    const started = await workflow.startPayment({ name: 'chk_1', input: { checkoutId: 'chk_1' } });
    // Assess
    expect(started).toEqual({
      executionArn: 'arn:aws:states:eu-west-1:000000000000:execution:checkout:chk_1',
      alreadyStarted: false,
    });
    expect(sfn.requests).toHaveLength(1);
    expect(sfn.requests[0]).toMatchObject({
      target: 'AWSStepFunctions.StartExecution',
      contentType: 'application/x-amz-json-1.0',
      body: { stateMachineArn: STATE_MACHINE_ARN, name: 'chk_1', input: JSON.stringify({ checkoutId: 'chk_1' }) },
    });
    expect(sfn.requests[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDSTUB\/\d{8}\/eu-west-1\/states\/aws4_request, /,
    );
  });

  it('reports ExecutionAlreadyExists as already started, with the name-derived ARN', async () => {
    // Prepare
    script = () => ({ status: 400, errorType: 'ExecutionAlreadyExists', message: 'Execution Already Exists' });
    // Act
    const started = await workflow.startPayment({ name: 'chk_2', input: { checkoutId: 'chk_2' } });
    // Assess
    expect(started).toEqual({ executionArn: executionArnFor(STATE_MACHINE_ARN, 'chk_2'), alreadyStarted: true });
    expect(sfn.requests).toHaveLength(1);
  });

  it('passes any other error on, and fails on an answer without an executionArn', async () => {
    // Prepare
    script = (body) =>
      body.name === 'chk_denied'
        ? { status: 400, errorType: 'StateMachineDoesNotExist', message: 'State Machine Does Not Exist' }
        : { body: {} };
    // Act
    const denied = workflow.startPayment({ name: 'chk_denied', input: { checkoutId: 'chk_denied' } });
    const empty = workflow.startPayment({ name: 'chk_empty', input: { checkoutId: 'chk_empty' } });
    // Assess
    await expect(denied).rejects.toMatchObject({ name: 'StateMachineDoesNotExist', $metadata: { httpStatusCode: 400 } });
    await expect(empty).rejects.toThrow('StartExecution returned no executionArn');
  });
});

describe('createSfnClient', () => {
  it('times requests out on AWS (no endpoint override) but not against the local emulator', () => {
    // Act
    const onAws = createSfnClient({ region: 'eu-west-1' });
    const local = createSfnClient({ endpoint: 'http://127.0.0.1:8083' });
    onAws.destroy();
    local.destroy();
    // Assess
    expect([onAws.endpoint.href, onAws.timeouts]).toEqual(['https://states.eu-west-1.amazonaws.com/', true]);
    expect([local.endpoint.href, local.timeouts]).toEqual(['http://127.0.0.1:8083/', false]);
  });
});
