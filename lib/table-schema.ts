/**
 * The one DynamoDB table's key schema, shared by the CDK stateful stack and the local runtime
 * (which creates the same table in DynamoDB Local), so the two can never drift apart.
 * Item layout and access patterns are documented in README.md ("Data model").
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
} as const;

/** Name used for the table locally; on AWS CloudFormation names it. */
export const LOCAL_TABLE_NAME = 'paystep';
