/**
 * The DynamoDB document client the adapters use: the commands they send (Get, Put, Update,
 * Delete, Query, BatchGet, BatchWrite, TransactWrite), with the inputs and outputs of
 * `@aws-sdk/lib-dynamodb` (same names, same types, items as plain objects), sent over
 * aws-json-client.ts instead of the SDK (why: that file). Items are marshalled and
 * unmarshalled with `@aws-sdk/util-dynamodb`, with the options the SDK document client had
 * (`removeUndefinedValues`, no empty-value conversion).
 *
 * `middlewareStack.add` takes the SDK's initialize-step middleware signature, so the bench's
 * counters and timers (bench/instrumentation.ts, bench/latency-trace.ts) see what they saw on the
 * SDK: the document-form input before marshalling (they may add ReturnConsumedCapacity), the
 * low-level command name (`GetItemCommand`, ...), and the unmarshalled output.
 */
import type * as UtilDynamo from '@aws-sdk/util-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import type * as Lib from '@aws-sdk/lib-dynamodb';
import { AwsJsonClient, base64Bytes, bytesBase64, endpointFromEnv } from './aws-json-client';
import { load } from './node-http';
import type { AwsClientOverrides } from './aws-client-options';

/** The inputs and outputs of lib-dynamodb's commands: the adapters write the same objects. */
export type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';

type Doc = Record<string, NativeAttributeValue>;

/**
 * `@aws-sdk/util-dynamodb` (the Lambda runtime's, external to the bundle) through require(): it is
 * CommonJS, and an ESM import of a CommonJS package costs 7-10 ms of every cold start on Node 24
 * (the loader's CommonJS translation) against about 2.5 ms through require (issue 14, round 7).
 */
const { marshall, unmarshall } = load('@aws-sdk/util-dynamodb') as typeof UtilDynamo;

type Wire = Record<string, unknown>;

const MARSHALL = { removeUndefinedValues: true, convertEmptyValues: false } as const;
const toWire = (value: unknown): unknown =>
  value === undefined ? undefined : mapBinary(marshall(value as Doc, MARSHALL) as unknown as AttributeValues, bytesBase64);

type AttributeValues = Record<string, Record<string, unknown>>;
/**
 * Replaces every binary attribute value (`B`, each of `BS`, at any depth), in place: bytes to base64
 * for the wire, base64 back to bytes for unmarshall. On the wire every value is wrapped in its type,
 * so a `B` member can only be a binary value. (A walk over the item's attributes, not a JSON.parse
 * reviver, which is called for every value of the answer and made each parse several times slower.)
 */
function mapBinary(values: AttributeValues, convert: (value: never) => unknown): AttributeValues {
  for (const value of Object.values(values)) {
    if (value['B'] !== undefined) value['B'] = convert(value['B'] as never);
    else if (value['BS'] !== undefined) value['BS'] = (value['BS'] as never[]).map(convert);
    else if (value['M'] !== undefined) mapBinary(value['M'] as AttributeValues, convert);
    else if (value['L'] !== undefined) mapBinary(value['L'] as unknown as AttributeValues, convert);
  }
  return values;
}
const fromWire = (value: unknown): Doc | undefined =>
  value === undefined ? undefined : unmarshall(mapBinary(value as AttributeValues, base64Bytes) as never);

/** Input members holding one item or key (marshalled whole), and holding a list of keys. */
const INPUT_ITEMS = new Set(['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey']);
/** Output members holding one item or key, and holding a list of items (or keys). */
const OUTPUT_ITEMS = new Set(['Item', 'Attributes', 'LastEvaluatedKey', 'Key']);
const OUTPUT_LISTS = new Set(['Items', 'Keys']);

/**
 * The request with its items and keys marshalled, wherever the commands put them: at the top
 * (Get, Put, Update, Delete, Query), under RequestItems (BatchGet `Keys`, BatchWrite
 * `PutRequest.Item` / `DeleteRequest.Key`) and TransactItems (`Put.Item`, `Update.Key`, ...).
 */
function marshallInput(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(marshallInput);
  if (value === null || typeof value !== 'object') return value;
  const copy: Wire = {};
  for (const [member, entry] of Object.entries(value as Wire)) {
    if (entry === undefined) continue;
    copy[member] = INPUT_ITEMS.has(member)
      ? toWire(entry)
      : member === 'Keys'
        ? (entry as unknown[]).map(toWire)
        : marshallInput(entry);
  }
  return copy;
}

/**
 * The answer with its items unmarshalled: `Item`, `Attributes`, `LastEvaluatedKey`, `Items`,
 * BatchGet's `Responses` (table -> items) and `UnprocessedKeys`, BatchWrite's `UnprocessedItems`.
 * ConsumedCapacity and the other members pass through.
 */
function unmarshallOutput(value: unknown, member = ''): unknown {
  if (OUTPUT_ITEMS.has(member)) return fromWire(value);
  if (OUTPUT_LISTS.has(member)) return (value as unknown[]).map(fromWire);
  if (member === 'Responses' && !Array.isArray(value)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown[]>).map(([table, items]) => [table, items.map(fromWire)]),
    );
  }
  if (Array.isArray(value)) return value.map((entry) => unmarshallOutput(entry));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Wire).map(([name, entry]) => [name, unmarshallOutput(entry, name)]));
}

/** A command: its input, and (for typing `send`) its output. */
export abstract class DynamoCommand<Input extends object, Output> {
  declare readonly __output?: Output;
  /** The DynamoDB API operation (`X-Amz-Target`). */
  abstract readonly operation: string;
  constructor(readonly input: Input) {}
}

/** The command class of one DynamoDB operation. */
function command<Input extends object, Output>(operation: string) {
  return class extends DynamoCommand<Input, Output> {
    readonly operation = operation;
  };
}

export const GetCommand = /* @__PURE__ */ command<Lib.GetCommandInput, Lib.GetCommandOutput>('GetItem');
export const PutCommand = /* @__PURE__ */ command<Lib.PutCommandInput, Lib.PutCommandOutput>('PutItem');
export const UpdateCommand = /* @__PURE__ */ command<Lib.UpdateCommandInput, Lib.UpdateCommandOutput>('UpdateItem');
export const DeleteCommand = /* @__PURE__ */ command<Lib.DeleteCommandInput, Lib.DeleteCommandOutput>('DeleteItem');
export const QueryCommand = /* @__PURE__ */ command<Lib.QueryCommandInput, Lib.QueryCommandOutput>('Query');
export const BatchGetCommand = /* @__PURE__ */ command<Lib.BatchGetCommandInput, Lib.BatchGetCommandOutput>('BatchGetItem');
export const BatchWriteCommand = /* @__PURE__ */ command<Lib.BatchWriteCommandInput, Lib.BatchWriteCommandOutput>(
  'BatchWriteItem',
);
export const TransactWriteCommand = /* @__PURE__ */ command<Lib.TransactWriteCommandInput, Lib.TransactWriteCommandOutput>(
  'TransactWriteItems',
);
export type GetCommand = InstanceType<typeof GetCommand>;
export type PutCommand = InstanceType<typeof PutCommand>;
export type UpdateCommand = InstanceType<typeof UpdateCommand>;
export type DeleteCommand = InstanceType<typeof DeleteCommand>;
export type QueryCommand = InstanceType<typeof QueryCommand>;
export type BatchGetCommand = InstanceType<typeof BatchGetCommand>;
export type BatchWriteCommand = InstanceType<typeof BatchWriteCommand>;
export type TransactWriteCommand = InstanceType<typeof TransactWriteCommand>;

type Args = { input: Record<string, unknown> };
type Result = { output: Record<string, unknown> };
type Handler = (args: Args) => Promise<Result>;
/** The SDK's initialize-step middleware signature (the slice the bench uses). */
export type Middleware = (next: Handler, context: { commandName: string }) => Handler;
type Priority = 'high' | 'normal' | 'low';

/**
 * The client settings the other services' clients take (endpoint: DynamoDB Local, else the regional
 * endpoint of AWS_REGION), with the timeouts (aws-sdk-timeouts.ts; default on AWS only, i.e. without
 * an endpoint) under the name the functions' wiring has used since the SDK client.
 */
export type DocumentClientOptions = Omit<AwsClientOverrides, 'timeouts'> & { requestTimeouts?: boolean };

export class DynamoDBDocumentClient {
  private readonly client: AwsJsonClient;
  /** Outermost first: `high` ones, then the others, then `low` ones, each in the order added. */
  private readonly middlewares: { middleware: Middleware; rank: number }[] = [];

  constructor({ requestTimeouts, ...options }: DocumentClientOptions = {}) {
    // The caller's endpoint (DYNAMODB_ENDPOINT: DynamoDB Local), else the SDK's variables, as the SDK
    // client did; only the caller's turns the default timeouts off, as for the other services' clients.
    const endpoint = options.endpoint ?? endpointFromEnv('DYNAMODB');
    this.client = new AwsJsonClient({
      service: 'dynamodb',
      targetPrefix: 'DynamoDB_20120810',
      jsonVersion: '1.0',
      timeouts: requestTimeouts ?? options.endpoint === undefined,
      ...options,
      ...(endpoint !== undefined ? { endpoint } : {}),
    });
  }

  /** Initialize-step middlewares (the name is not used), outermost first: `high`, then the default, then `low`. */
  readonly middlewareStack = {
    add: (middleware: Middleware, options: { step?: 'initialize'; name?: string; priority?: Priority } = {}): void => {
      const rank = options.priority === 'high' ? 0 : options.priority === 'low' ? 2 : 1;
      this.middlewares.push({ middleware, rank });
      this.middlewares.sort((a, b) => a.rank - b.rank);
    },
  };

  send<Input extends object, Output>(command: DynamoCommand<Input, Output>): Promise<Output> {
    const { operation } = command;
    let handler: Handler = async ({ input }) => ({
      output: unmarshallOutput(await this.client.call<Wire>(operation, marshallInput(input))) as Wire,
    });
    if (this.middlewares.length > 0) {
      const context = { commandName: `${operation}Command` };
      for (let index = this.middlewares.length - 1; index >= 0; index -= 1)
        handler = this.middlewares[index]!.middleware(handler, context);
    }
    return handler({ input: command.input as Record<string, unknown> }).then((result) => result.output as Output);
  }

  /** Whether requests time out (aws-sdk-timeouts.ts): on AWS by default. */
  get requestTimeouts(): boolean {
    return this.client.timeouts;
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** One document client per Lambda container (lambdas/shared/wiring.ts). */
export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  return new DynamoDBDocumentClient(options);
}
