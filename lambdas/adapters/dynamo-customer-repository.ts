/**
 * Customers in the main table: `CUSTOMER#<id>` / `CUSTOMER`. Reads are scoped to the merchant (a
 * foreign id reads as unknown). Deletion keeps a tombstone (status `deleted`) with a conditional
 * write, so the card vault's attach transaction can check the customer is still active.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from './dynamo-client';
import type { Customer, CustomerStatus } from '../domain/customer';
import type { CustomerRepository } from '../ports/customers';
import { customerKey } from './dynamo-keys';
import { isConditionalCheckFailure, translateStoreError, withoutUndefined } from './dynamo-support';

export class DynamoCustomerRepository implements CustomerRepository {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createCustomer(customer: Customer): Promise<void> {
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: withoutUndefined({ ...customerKey(customer.id), entity: 'customer', ...customer }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      translateStoreError(error);
    }
  }

  async getCustomer(merchantId: string, customerId: string): Promise<Customer | undefined> {
    try {
      const answer = await this.documentClient.send(
        new GetCommand({ TableName: this.tableName, Key: customerKey(customerId), ConsistentRead: true }),
      );
      return answer.Item !== undefined && answer.Item.merchantId === merchantId ? toCustomer(answer.Item) : undefined;
    } catch (error) {
      return translateStoreError(error);
    }
  }

  async markCustomerDeleted(merchantId: string, customerId: string, now: Date): Promise<Customer | undefined> {
    try {
      const answer = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: customerKey(customerId),
          UpdateExpression: 'SET #status = :deleted, deletedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND merchantId = :merchant AND #status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':deleted': 'deleted',
            ':now': now.toISOString(),
            ':merchant': merchantId,
            ':active': 'active',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toCustomer(answer.Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailure(error)) translateStoreError(error);
      // Unknown, foreign (undefined) or already deleted (the tombstone): both are answers, not errors.
      return await this.getCustomer(merchantId, customerId);
    }
  }
}

function toCustomer(item: Record<string, unknown>): Customer {
  const optional = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  const email = optional('email');
  const name = optional('name');
  const deletedAt = optional('deletedAt');
  const metadata =
    item.metadata !== null && typeof item.metadata === 'object' ? (item.metadata as Record<string, string>) : undefined;
  return {
    id: String(item.id),
    merchantId: String(item.merchantId),
    ...(email !== undefined ? { email } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
    status: item.status as CustomerStatus,
    createdAt: String(item.createdAt),
    ...(deletedAt !== undefined ? { deletedAt } : {}),
  };
}
