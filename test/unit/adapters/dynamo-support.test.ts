import { describe, expect, it } from 'vitest';
import { AwsServiceError } from '../../../lambdas/adapters/aws-json-client';
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '../../../lambdas/adapters/dynamo-client';
import { DynamoCheckoutRepository } from '../../../lambdas/adapters/dynamo-checkout-repository';
import { cancellationCodes, isConditionalCheckFailure, transactWrite } from '../../../lambdas/adapters/dynamo-support';
import { ConcurrentModificationError, StoreUnavailableError } from '../../../lambdas/errors';

/** A document client whose send() answers with the next of `answers` (an Error rejects) and records the commands. */
function scriptedClient(...answers: unknown[]): { client: DynamoDBDocumentClient; sent: unknown[] } {
  const sent: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      sent.push(command);
      const answer = answers.length > 1 ? answers.shift() : answers[0];
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
}

/** The error DynamoDB answers for a canceled transaction, as aws-json-client.ts builds it. */
function canceled(...codes: string[]) {
  return new AwsServiceError('TransactionCanceledException', `Transaction cancelled [${codes.join(', ')}]`, 400, 'req-1', 1, {
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

describe('DynamoDB error translation', () => {
  it('turns throttling into StoreUnavailableError', async () => {
    // Prepare
    const { client, sent } = scriptedClient(
      new AwsServiceError('ProvisionedThroughputExceededException', 'slow down', 400, undefined, 3, {}),
    );
    // Act
    const attempt = new DynamoCheckoutRepository(client, 't').getCheckout('chk_1');
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(sent[0]).toBeInstanceOf(GetCommand);
  });

  it('retries a transaction conflict and then reports the condition failure codes', async () => {
    // Prepare
    const { client, sent } = scriptedClient(canceled('TransactionConflict', 'None'), canceled('None', 'ConditionalCheckFailed'));
    // Act
    const result = await transactWrite(client, { TransactItems: [] });
    // Assess
    expect(result).toEqual({ ok: false, codes: ['None', 'ConditionalCheckFailed'] });
    expect(sent).toHaveLength(2);
    expect(sent.every((command) => command instanceof TransactWriteCommand)).toBe(true);
  });

  it('gives up on endless conflicts with ConcurrentModificationError', async () => {
    // Prepare
    const { client } = scriptedClient(canceled('TransactionConflict'));
    // Act
    const attempt = transactWrite(client, { TransactItems: [] }, 2);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConcurrentModificationError);
  });

  it('reads cancellation codes from the message when reasons are missing', () => {
    const error = new AwsServiceError(
      'TransactionCanceledException',
      'Transaction cancelled [None, ConditionalCheckFailed]',
      400,
      undefined,
      1,
      {},
    );
    expect(cancellationCodes(error)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(cancellationCodes(new Error('x'))).toBeUndefined();
  });

  it('names a lost condition by the error type DynamoDB answers', () => {
    expect(
      isConditionalCheckFailure(
        new AwsServiceError('ConditionalCheckFailedException', 'The conditional request failed', 400, undefined, 1, {}),
      ),
    ).toBe(true);
    expect(isConditionalCheckFailure(canceled('ConditionalCheckFailed'))).toBe(false);
  });
});
