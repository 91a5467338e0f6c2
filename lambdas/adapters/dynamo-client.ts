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
import { marshall, unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import type {
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
import { AwsJsonClient, base64Bytes, bytesBase64, type AwsCredentials } from './aws-json-client';

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
};

type Doc = Record<string, NativeAttributeValue>;

/**
 * Binary attribute values arrive base64-encoded (`{"B": "..."}`, `{"BS": [...]}`) and are given
 * to unmarshall as bytes. In the wire format every attribute value is wrapped in its type, so a
 * `B` member whose value is a string can only be a binary value.
 */
function binaryValues(key: string, value: unknown): unknown {
  if (key === 'B' && typeof value === 'string') return base64Bytes(value);
  if (key === 'BS' && Array.isArray(value) && value.every((entry) => typeof entry === 'string')) return value.map((entry: string) => base64Bytes(entry));
  return value;
}
type Wire = Record<string, unknown>;

const MARSHALL = { removeUndefinedValues: true, convertEmptyValues: false } as const;
const toWire = (value: unknown): unknown => (value === undefined ? undefined : binaryAsBase64(marshall(value as Doc, MARSHALL) as unknown as Record<string, Record<string, unknown>>));

/** Puts the bytes of binary attribute values (`B`, `BS`, at any depth) in base64, in place; the wire form of blobs. */
function binaryAsBase64(values: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  for (const value of Object.values(values)) {
    if (value['B'] instanceof Uint8Array) value['B'] = bytesBase64(value['B']);
    else if (value['BS'] !== undefined) value['BS'] = (value['BS'] as Uint8Array[]).map(bytesBase64);
    else if (value['M'] !== undefined) binaryAsBase64(value['M'] as Record<string, Record<string, unknown>>);
    else if (value['L'] !== undefined) binaryAsBase64(value['L'] as unknown as Record<string, Record<string, unknown>>);
  }
  return values;
}
const fromWire = (value: unknown): Doc | undefined => (value === undefined ? undefined : unmarshall(value as never));

/** Replaces the members of `object` named in `members` (when present) with `convert` of them. */
function mapMembers(object: unknown, members: readonly string[], convert: (value: unknown) => unknown): Wire {
  const copy: Wire = { ...(object as Wire) };
  for (const member of members) if (copy[member] !== undefined) copy[member] = convert(copy[member]);
  return copy;
}

const mapValues = (record: unknown, convert: (value: unknown) => unknown): Wire | undefined =>
  record === undefined
    ? undefined
    : Object.fromEntries(Object.entries(record as Wire).map(([key, value]) => [key, convert(value)]));

/** How one command marshals its input and unmarshals its output. */
interface Operation {
  /** The DynamoDB API operation (`X-Amz-Target`). */
  readonly name: string;
  marshallInput(input: Wire): Wire;
  unmarshallOutput(output: Wire): Wire;
}

const KEYED = ['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey'] as const;
const plain = (name: string, outputMembers: readonly string[]): Operation => ({
  name,
  marshallInput: (input) => mapMembers(input, KEYED, toWire),
  unmarshallOutput: (output) => mapMembers(output, outputMembers, fromWire),
});

const keysAndAttributes = (entry: unknown): Wire => mapMembers(mapMembers(entry, ['Keys'], (keys) => (keys as unknown[]).map(toWire)), ['ExpressionAttributeValues'], toWire);
const writeRequests = (requests: unknown, convert: (value: unknown) => unknown): unknown =>
  (requests as Wire[]).map((request) => ({
    ...request,
    ...(request['PutRequest'] !== undefined ? { PutRequest: mapMembers(request['PutRequest'], ['Item'], convert) } : {}),
    ...(request['DeleteRequest'] !== undefined ? { DeleteRequest: mapMembers(request['DeleteRequest'], ['Key'], convert) } : {}),
  }));

const OPERATIONS = {
  GetItem: plain('GetItem', ['Item']),
  PutItem: plain('PutItem', ['Attributes']),
  UpdateItem: plain('UpdateItem', ['Attributes']),
  DeleteItem: plain('DeleteItem', ['Attributes']),
  Query: {
    name: 'Query',
    marshallInput: (input: Wire) => mapMembers(input, KEYED, toWire),
    unmarshallOutput: (output: Wire) => ({
      ...mapMembers(output, ['LastEvaluatedKey'], fromWire),
      ...(output['Items'] !== undefined ? { Items: (output['Items'] as unknown[]).map(fromWire) } : {}),
    }),
  },
  BatchGetItem: {
    name: 'BatchGetItem',
    marshallInput: (input: Wire) => mapMembers(input, ['RequestItems'], (items) => mapValues(items, keysAndAttributes)),
    unmarshallOutput: (output: Wire) => ({
      ...output,
      ...(output['Responses'] !== undefined
        ? { Responses: mapValues(output['Responses'], (items) => (items as unknown[]).map(fromWire)) }
        : {}),
      ...(output['UnprocessedKeys'] !== undefined
        ? {
            UnprocessedKeys: mapValues(output['UnprocessedKeys'], (entry) =>
              mapMembers(entry, ['Keys'], (keys) => (keys as unknown[]).map(fromWire)),
            ),
          }
        : {}),
    }),
  },
  BatchWriteItem: {
    name: 'BatchWriteItem',
    marshallInput: (input: Wire) =>
      mapMembers(input, ['RequestItems'], (items) => mapValues(items, (requests) => writeRequests(requests, toWire))),
    unmarshallOutput: (output: Wire) =>
      mapMembers(output, ['UnprocessedItems'], (items) => mapValues(items, (requests) => writeRequests(requests, fromWire))),
  },
  TransactWriteItems: {
    name: 'TransactWriteItems',
    marshallInput: (input: Wire) =>
      mapMembers(input, ['TransactItems'], (items) =>
        (items as Wire[]).map((item) => mapValues(item, (operation) => mapMembers(operation, KEYED, toWire))),
      ),
    unmarshallOutput: (output: Wire) => output,
  },
} as const satisfies Record<string, Operation>;

/** A command: its input, and (for typing `send`) its output. */
export abstract class DynamoCommand<Input extends object, Output> {
  declare readonly __output?: Output;
  abstract readonly operation: Operation;
  constructor(readonly input: Input) {}
}

export class GetCommand extends DynamoCommand<GetCommandInput, GetCommandOutput> {
  readonly operation = OPERATIONS.GetItem;
}
export class PutCommand extends DynamoCommand<PutCommandInput, PutCommandOutput> {
  readonly operation = OPERATIONS.PutItem;
}
export class UpdateCommand extends DynamoCommand<UpdateCommandInput, UpdateCommandOutput> {
  readonly operation = OPERATIONS.UpdateItem;
}
export class DeleteCommand extends DynamoCommand<DeleteCommandInput, DeleteCommandOutput> {
  readonly operation = OPERATIONS.DeleteItem;
}
export class QueryCommand extends DynamoCommand<QueryCommandInput, QueryCommandOutput> {
  readonly operation = OPERATIONS.Query;
}
export class BatchGetCommand extends DynamoCommand<BatchGetCommandInput, BatchGetCommandOutput> {
  readonly operation = OPERATIONS.BatchGetItem;
}
export class BatchWriteCommand extends DynamoCommand<BatchWriteCommandInput, BatchWriteCommandOutput> {
  readonly operation = OPERATIONS.BatchWriteItem;
}
export class TransactWriteCommand extends DynamoCommand<TransactWriteCommandInput, TransactWriteCommandOutput> {
  readonly operation = OPERATIONS.TransactWriteItems;
}

type Args = { input: Record<string, unknown> };
type Result = { output: Record<string, unknown> };
type Handler = (args: Args) => Promise<Result>;
/** The SDK's initialize-step middleware signature (the slice the bench uses). */
export type Middleware = (next: Handler, context: { commandName: string }) => Handler;
type Priority = 'high' | 'normal' | 'low';
const PRIORITY_ORDER: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

export interface DocumentClientOptions {
  /** DynamoDB Local; without it the regional endpoint of AWS_REGION. */
  endpoint?: string;
  region?: string;
  /** Default: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. */
  credentials?: AwsCredentials;
  /** The connect and no-response timeouts (aws-sdk-timeouts.ts). Default: on AWS only (no endpoint). */
  requestTimeouts?: boolean;
  /** Attempts per call (default 3). */
  maxAttempts?: number;
}

export class DynamoDBDocumentClient {
  private readonly client: AwsJsonClient;
  private readonly middlewares: { middleware: Middleware; priority: Priority; name: string }[] = [];

  constructor(options: DocumentClientOptions = {}) {
    this.client = new AwsJsonClient({
      service: 'dynamodb',
      targetPrefix: 'DynamoDB_20120810',
      jsonVersion: '1.0',
      reviver: binaryValues,
      reviveIf: /"BS?":/,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
      ...(options.requestTimeouts !== undefined ? { timeouts: options.requestTimeouts } : {}),
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    });
  }

  /** Initialize-step middlewares, outermost first: `high`, then the default, then `low` (in the order added); a name is added once. */
  readonly middlewareStack = {
    add: (middleware: Middleware, options: { step?: 'initialize'; name?: string; priority?: Priority } = {}): void => {
      const name = options.name ?? `middleware-${this.middlewares.length + 1}`;
      if (this.middlewares.some((entry) => entry.name === name)) throw new Error(`Duplicate middleware name '${name}'`);
      this.middlewares.push({ middleware, priority: options.priority ?? 'normal', name });
      this.middlewares.sort((a, b) => PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority]);
    },
  };

  send<Input extends object, Output>(command: DynamoCommand<Input, Output>): Promise<Output> {
    const { operation } = command;
    let handler: Handler = async ({ input }) => ({
      output: operation.unmarshallOutput(await this.client.call<Wire>(operation.name, operation.marshallInput(input))),
    });
    if (this.middlewares.length > 0) {
      const context = { commandName: `${operation.name}Command` };
      for (let index = this.middlewares.length - 1; index >= 0; index -= 1) handler = this.middlewares[index]!.middleware(handler, context);
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
