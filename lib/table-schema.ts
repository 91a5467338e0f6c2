/**
 * The one DynamoDB table's key schema, shared by the CDK stateful stack and the local runtime
 * (which creates the same table in DynamoDB Local), so the two can never drift apart.
 * Item layout and access patterns are documented in README.md ("Data model").
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'ALL' },
    // Keys only and sparse: an entry costs one write unit when its keys change, nothing when the
    // rest of the item does (issue 14). Readers fetch the items they need by key.
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'KEYS_ONLY' },
    // The recovery watch list (lambdas/adapters/dynamo-recovery-store.ts), keys only and sparse:
    // entries exist only on checkouts in flight. CloudFormation adds one GSI per stack update, so a
    // stack with gsi1 and gsi2 gets gsi3 in one deploy; a stack older than gsi2 needs two deploys.
    { indexName: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk', projection: 'KEYS_ONLY' },
  ],
} as const;

/** Name used for the table locally; on AWS CloudFormation names it. */
export const LOCAL_TABLE_NAME = 'paystep';

/**
 * The card vault's own table (lambdas/adapters/dynamo-card-vault.ts): payment methods with their
 * envelope-encrypted card data, and each customer's saved payment methods. No TTL, no index: every
 * read is by key (a customer's cards with a strongly consistent Query).
 */
export const CARD_VAULT_TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
} as const;

/** Name used for the card vault table locally; on AWS CloudFormation names it. */
export const LOCAL_CARD_VAULT_TABLE_NAME = 'paystep-card-vault';
