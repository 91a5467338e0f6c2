import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoCheckoutRepository } from '../../../lambdas/adapters/dynamo-checkout-repository';
import { cancellationCodes, transactWrite } from '../../../lambdas/adapters/dynamo-support';
import { ConcurrentModificationError, StoreUnavailableError } from '../../../lambdas/errors';

function documentClient() {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  );
}

function canceled(...codes: string[]) {
  return new TransactionCanceledException({
    message: `Transaction cancelled [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

describe('DynamoDB error translation', () => {
  it('turns throttling into StoreUnavailableError', async () => {
    // Prepare
    const client = documentClient();
    const mock = mockClient(client);
    mock.on(GetCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    // Act
    const attempt = new DynamoCheckoutRepository(client, 't').getCheckout('chk_1');
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('retries a transaction conflict and then reports the condition failure codes', async () => {
    // Prepare
    const client = documentClient();
    const mock = mockClient(client);
    mock
      .on(TransactWriteCommand)
      .rejectsOnce(canceled('TransactionConflict', 'None'))
      .rejects(canceled('None', 'ConditionalCheckFailed'));
    // Act
    const result = await transactWrite(client, { TransactItems: [] });
    // Assess
    expect(result).toEqual({ ok: false, codes: ['None', 'ConditionalCheckFailed'] });
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('gives up on endless conflicts with ConcurrentModificationError', async () => {
    // Prepare
    const client = documentClient();
    mockClient(client).on(TransactWriteCommand).rejects(canceled('TransactionConflict'));
    // Act
    const attempt = transactWrite(client, { TransactItems: [] }, 2);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConcurrentModificationError);
  });

  it('reads cancellation codes from the message when reasons are missing', () => {
    const error = new TransactionCanceledException({
      message: 'Transaction cancelled [None, ConditionalCheckFailed]',
      $metadata: {},
    });
    expect(cancellationCodes(error)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(cancellationCodes(new Error('x'))).toBeUndefined();
  });
});
