/**
 * DynamoDB capacity by AWS's own rules, for the bench's counters (bench/instrumentation.ts): item
 * sizes as DynamoDB bills them, write units per item and per index entry (ALL and KEYS_ONLY
 * projections), read units per read call, and which items a write command touches. Pure functions.
 */

/** An index whose entries a write also puts or removes (lib/table-schema.ts). */
export interface IndexKeys {
  indexName?: string;
  partitionKey: string;
  sortKey: string;
  /**
   * ALL (default): an entry is the whole item, written whenever the item is (1 unit per KB).
   * KEYS_ONLY: an entry is the keys alone: 1 unit when it is put or removed, 2 when its keys
   * move, nothing when only other attributes change (AWS's rule).
   */
  projection?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
}

export interface ConsumedCapacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

export function itemCount(command: string, input: Record<string, unknown>): number {
  if (command === 'TransactWriteItemsCommand' || command === 'TransactGetItemsCommand') {
    return Array.isArray(input.TransactItems) ? input.TransactItems.length : 1;
  }
  if (command === 'BatchWriteItemCommand' || command === 'BatchGetItemCommand') {
    const requests = input.RequestItems as Record<string, unknown[] | { Keys?: unknown[] }> | undefined;
    let count = 0;
    for (const value of Object.values(requests ?? {})) count += Array.isArray(value) ? value.length : (value.Keys?.length ?? 0);
    return count;
  }
  return 1;
}

export interface WriteTarget {
  tableName: string;
  key: Record<string, unknown>;
  kind: 'put' | 'update' | 'delete' | 'check';
  transactional: boolean;
}

/** The items a write command touches, by table and primary key (pk, sk: both tables' key). */
export function writeTargets(command: string, input: Record<string, unknown>): WriteTarget[] {
  const keyOf = (item: Record<string, unknown>): Record<string, unknown> => ({ pk: item.pk, sk: item.sk });
  const single = (kind: WriteTarget['kind'], operation: Record<string, unknown>, transactional: boolean): WriteTarget => ({
    tableName: String(operation.TableName),
    key: kind === 'put' ? keyOf(operation.Item as Record<string, unknown>) : (operation.Key as Record<string, unknown>),
    kind,
    transactional,
  });
  switch (command) {
    case 'PutItemCommand':
      return [single('put', input, false)];
    case 'UpdateItemCommand':
      return [single('update', input, false)];
    case 'DeleteItemCommand':
      return [single('delete', input, false)];
    case 'TransactWriteItemsCommand':
      return ((input.TransactItems ?? []) as Record<string, Record<string, unknown> | undefined>[]).flatMap((entry) => {
        if (entry.Put !== undefined) return [single('put', entry.Put, true)];
        if (entry.Update !== undefined) return [single('update', entry.Update, true)];
        if (entry.Delete !== undefined) return [single('delete', entry.Delete, true)];
        if (entry.ConditionCheck !== undefined) return [single('check', entry.ConditionCheck, true)];
        return [];
      });
    case 'BatchWriteItemCommand':
      return Object.entries((input.RequestItems ?? {}) as Record<string, Record<string, Record<string, unknown>>[]>).flatMap(
        ([tableName, requests]) =>
          requests.map((request) =>
            request.PutRequest !== undefined
              ? {
                  tableName,
                  key: keyOf(request.PutRequest.Item as Record<string, unknown>),
                  kind: 'put' as const,
                  transactional: false,
                }
              : {
                  tableName,
                  key: request.DeleteRequest?.Key as Record<string, unknown>,
                  kind: 'delete' as const,
                  transactional: false,
                },
          ),
      );
    default:
      return [];
  }
}

/**
 * The size DynamoDB bills for a value as the document client hands it over (native JavaScript):
 * strings by UTF-8 bytes, numbers by about one byte per two significant digits plus one, binary by
 * length, booleans and null 1 byte, lists and maps 3 bytes plus 1 per element plus the elements
 * (and, for maps, their key names), sets the sum of their elements.
 */
export function dynamoValueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    // The common case without the string work below: significant digits of an integer.
    let magnitude = Math.abs(value);
    if (magnitude === 0) return 2;
    while (magnitude % 10 === 0) magnitude /= 10;
    let digits = 1;
    while (magnitude >= 10) {
      magnitude = Math.floor(magnitude / 10);
      digits += 1;
    }
    return Math.ceil(digits / 2) + 1;
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    const digits = String(value).replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let sum = 0;
    for (const member of value as Set<unknown>) sum += dynamoValueBytes(member);
    return sum;
  }
  if (Array.isArray(value)) {
    let sum = 3;
    for (const element of value as unknown[]) sum += 1 + dynamoValueBytes(element);
    return sum;
  }
  if (typeof value === 'object') {
    const number = (value as { value?: unknown }).value;
    if (value.constructor?.name === 'NumberValue' && typeof number === 'string') return dynamoValueBytes(Number(number));
    let sum = 3;
    for (const name of Object.keys(value)) {
      sum += 1 + Buffer.byteLength(name, 'utf8') + dynamoValueBytes((value as Record<string, unknown>)[name]);
    }
    return sum;
  }
  return 1;
}

/** An item's size: attribute names plus values. */
export function dynamoItemBytes(item: Record<string, unknown>): number {
  let sum = 0;
  for (const name of Object.keys(item)) {
    const value = item[name];
    if (value !== undefined) sum += Buffer.byteLength(name, 'utf8') + dynamoValueBytes(value);
  }
  return sum;
}

/** Units of `unitBytes` (1 KB for writes, 4 KB for reads) an item takes, at least 1. */
export function kilobyteUnits(item: Record<string, unknown> | undefined, unitBytes: number): number {
  return Math.max(1, Math.ceil((item === undefined ? 0 : dynamoItemBytes(item)) / unitBytes));
}

/** Write units of one item's write by AWS's rules, index entries included (per index, too). */
export function awsWriteUnits(
  target: { kind: 'put' | 'update' | 'delete' | 'check'; transactional: boolean },
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
  indexes: readonly IndexKeys[],
): { total: number; index: number; byIndex: Record<string, number> } {
  const larger = Math.max(before === undefined ? 0 : dynamoItemBytes(before), after === undefined ? 0 : dynamoItemBytes(after));
  const itemUnits = Math.max(1, Math.ceil(larger / 1024)) * (target.transactional ? 2 : 1);
  const byIndex: Record<string, number> = {};
  let units = 0;
  if (target.kind === 'check') return { total: itemUnits, index: 0, byIndex };
  for (const index of indexes) {
    const entry = (item: Record<string, unknown> | undefined): string | undefined =>
      item !== undefined && item[index.partitionKey] !== undefined && item[index.sortKey] !== undefined
        ? `${String(item[index.partitionKey])}\u0000${String(item[index.sortKey])}`
        : undefined;
    const was = entry(before);
    const is = entry(after);
    if (was === undefined && is === undefined) continue;
    let indexUnits: number;
    if (index.projection === 'KEYS_ONLY') {
      // Only the keys are in the entry: a put or a removal is 1 unit, a move 2, an unchanged entry nothing.
      indexUnits = was === is ? 0 : was !== undefined && is !== undefined ? 2 : 1;
    } else if (was !== undefined && is !== undefined && was !== is) {
      // The same entry rewritten is one index write; a moved entry is a delete plus a put.
      indexUnits = kilobyteUnits(before, 1024) + kilobyteUnits(after, 1024);
    } else {
      indexUnits = kilobyteUnits(is !== undefined ? after : before, 1024);
    }
    units += indexUnits;
    const name = index.indexName ?? index.partitionKey;
    byIndex[name] = (byIndex[name] ?? 0) + indexUnits;
  }
  return { total: itemUnits + units, index: units, byIndex };
}

/** Read units of one read call by AWS's rules, from what it returned. */
export function awsReadUnits(command: string, input: Record<string, unknown>, output: Record<string, unknown>): number {
  const factor = input.ConsistentRead === true ? 1 : 0.5;
  const perItem = (items: Record<string, unknown>[], unitFactor: number): number =>
    items.reduce((sum, item) => sum + kilobyteUnits(item, 4096) * unitFactor, 0);
  switch (command) {
    case 'GetItemCommand':
      return kilobyteUnits(output.Item as Record<string, unknown> | undefined, 4096) * factor;
    case 'QueryCommand':
    case 'ScanCommand': {
      const bytes = ((output.Items ?? []) as Record<string, unknown>[]).reduce((sum, item) => sum + dynamoItemBytes(item), 0);
      return Math.max(1, Math.ceil(bytes / 4096)) * factor;
    }
    case 'BatchGetItemCommand':
      return Object.entries((output.Responses ?? {}) as Record<string, Record<string, unknown>[]>).reduce(
        (sum, [tableName, items]) =>
          sum +
          perItem(
            items,
            ((input.RequestItems as Record<string, { ConsistentRead?: boolean }>)[tableName]?.ConsistentRead ?? false) ? 1 : 0.5,
          ),
        0,
      );
    case 'TransactGetItemsCommand':
      return perItem(
        ((output.Responses ?? []) as { Item?: Record<string, unknown> }[]).map((response) => response.Item ?? {}),
        2,
      );
    default:
      return 0;
  }
}
