/**
 * A merchant's checkouts, newest first (GET /v1/checkouts): CheckoutQueries on DynamoDB. Apart from
 * the checkout repository (dynamo-checkout-repository.ts) because only the checkout API lists: the
 * saga steps, the sweep and the other functions that read and write checkouts do not bundle it.
 */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from './dynamo-client';
import type { CheckoutListPage, CheckoutListQuery, CheckoutQueries } from '../ports/checkouts';
import { decodeCursor, encodeCursor, invalidCursor, translateStoreError } from './dynamo-support';
import { batchGetItems } from './dynamo-batch-get';
import { CHECKOUT_PK_PREFIX, CHECKOUT_SK, GSI1, GSI2, merchantCheckoutsGsiPk } from './dynamo-keys';
import { checkoutFromItem } from './dynamo-checkout-repository';

/**
 * The listing cursor, opaque (base64url JSON): `["g2", gsi2sk, pk]` while on gsi2, the previous
 * version's `[gsi1sk, pk]` once on gsi1 (items written before gsi2, all older than any gsi2 one).
 */
type ListPosition = { index: typeof GSI1 | typeof GSI2; startKey?: Record<string, string> };

function encodeListCursor(index: ListPosition['index'], item: Record<string, unknown>): string {
  return encodeCursor(index === GSI2 ? ['g2', item['gsi2sk'], item['pk']] : [item['gsi1sk'], item['pk']]);
}

function decodeListCursor(cursor: string, gsiPk: string): ListPosition {
  const parts = decodeCursor(cursor);
  const [gsiSk, pk] = parts.length === 3 && parts[0] === 'g2' ? parts.slice(1) : parts.length === 2 ? parts : [];
  if (gsiSk === undefined || pk === undefined || !pk.startsWith(CHECKOUT_PK_PREFIX)) throw invalidCursor();
  return parts.length === 3
    ? { index: GSI2, startKey: { pk, sk: CHECKOUT_SK, gsi2pk: gsiPk, gsi2sk: gsiSk } }
    : { index: GSI1, startKey: { pk, sk: CHECKOUT_SK, gsi1pk: gsiPk, gsi1sk: gsiSk } };
}

export class DynamoCheckoutListing implements CheckoutQueries {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Newest first through the keys-only gsi2 (`MERCHANT#<id>#CHECKOUTS`, `createdAt#id`), the page's
   * items read with one BatchGetItem; then, for items written before gsi2 existed (all older),
   * through gsi1. Reads one entry more than asked, so a cursor is given only when another page
   * really exists (`has_more`). The cursor is opaque and names the index it continues on.
   */
  async listCheckoutsByMerchant(merchantId: string, query: CheckoutListQuery): Promise<CheckoutListPage> {
    const gsiPk = merchantCheckoutsGsiPk(merchantId);
    let position: ListPosition | undefined = query.cursor === undefined ? { index: GSI2 } : decodeListCursor(query.cursor, gsiPk);
    const entries: { index: ListPosition['index']; item: Record<string, unknown> }[] = [];
    try {
      while (position !== undefined && entries.length <= query.limit) {
        const { index, startKey }: ListPosition = position;
        const partition = index === GSI2 ? 'gsi2pk' : 'gsi1pk';
        const page: QueryCommandOutput = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: `${partition} = :pk`,
            ExpressionAttributeValues: { ':pk': gsiPk },
            ScanIndexForward: false,
            Limit: query.limit + 1 - entries.length,
            ExclusiveStartKey: startKey,
          }),
        );
        entries.push(...(page.Items ?? []).map((item) => ({ index, item })));
        position =
          page.LastEvaluatedKey !== undefined
            ? { index, startKey: page.LastEvaluatedKey as Record<string, string> }
            : index === GSI2
              ? { index: GSI1 }
              : undefined;
      }
    } catch (error) {
      return translateStoreError(error);
    }
    const shown = entries.slice(0, query.limit);
    // gsi2 holds keys only: the items come by key; gsi1 entries already hold the whole item.
    const fetched = await batchGetItems(
      this.client,
      this.tableName,
      shown.filter((entry) => entry.index === GSI2).map(({ item }) => ({ pk: item['pk'] as string, sk: CHECKOUT_SK })),
    );
    const byPk = new Map(fetched.map((item) => [item['pk'], item]));
    const checkouts = shown.flatMap(({ index, item }) => {
      const full = index === GSI2 ? byPk.get(item['pk']) : item;
      return full === undefined ? [] : [checkoutFromItem(full)];
    });
    const last = entries.length > query.limit ? shown.at(-1) : undefined;
    return last === undefined ? { checkouts } : { checkouts, nextCursor: encodeListCursor(last.index, last.item) };
  }
}
