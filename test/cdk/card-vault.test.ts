/**
 * The card vault's isolation, proven on the rendered templates: the vault has its own table (PITR,
 * encrypted with its own rotating key), its own data-key wrapping key and an HMAC fingerprint key.
 * No role but the vault function's can touch the vault table, and no role at all can kms:Decrypt
 * the vault key except functions bound with `reveal` access (AuthorizePayment, the saga step that
 * calls the connector). The detector is shown to catch a function bound to `reveal` by mistake.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { addPaystepStacks, type PaystepStacks } from '../../lib/paystep-app';
import { CARD_VAULT_TABLE_SCHEMA } from '../../lib/table-schema';
import {
  canonical,
  createTestApp,
  getAtt,
  logicalIdOf,
  resourcesOfType,
  synthPaystep,
  type Json,
  type JsonObject,
  type SynthesizedPaystep,
} from './synth-paystep';

type Statement = { Effect: string; Action: string | string[]; Resource: Json };

/** Functions that may hold kms:Decrypt on the vault key: the connector-calling step with `reveal` access. */
const ALLOWED_DECRYPTORS: readonly string[] = ['AuthorizePayment'];
/**
 * Functions that may read or write the vault table: the vault function, the pay route (metadata
 * reads), CapturePayment and the reconciliation sweep (save a succeeded checkout's payment method on its
 * customer) and the decryptors.
 */
const ALLOWED_VAULT_TABLE_USERS: readonly string[] = [
  'api-payment-methods',
  'api-pay',
  'CapturePayment',
  'reconciliation-sweep',
  ...ALLOWED_DECRYPTORS,
];

/** Every function of the stateless stack by name (API entries, saga states, the two scheduled ones). */
function functionRoles(stacks: PaystepStacks): Map<string, string> {
  const roles = new Map<string, string>();
  for (const [entry, fn] of stacks.stateless.apiFunctions) roles.set(logicalIdOf(fn.executionRole), entry);
  for (const [state, fn] of stacks.stateless.sagaFunctions) roles.set(logicalIdOf(fn.executionRole), state);
  roles.set(logicalIdOf(stacks.stateless.webhookDispatcher.executionRole), 'webhook-dispatcher');
  roles.set(logicalIdOf(stacks.stateless.reconciliationSweep.executionRole), 'reconciliation-sweep');
  roles.set(logicalIdOf(stacks.stateless.stateMachine.role), 'state-machine');
  return roles;
}

/**
 * Names of the roles (by function) whose policies allow one of `actions` on a resource that names
 * `resourceLogicalId` (directly or through a cross-stack import) or on "*". Wildcard actions
 * (`kms:*`, `*`) count as every action.
 */
function rolesAllowed(
  template: JsonObject,
  roles: Map<string, string>,
  matchesAction: (action: string) => boolean,
  resourceLogicalId: string,
): string[] {
  const found = new Set<string>();
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const properties = policy.Properties as { Roles: Json[]; PolicyDocument: { Statement: Statement[] } };
    for (const statement of properties.PolicyDocument.Statement) {
      if (statement.Effect !== 'Allow') continue;
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      if (!actions.some((action) => action === '*' || action.endsWith(':*') || matchesAction(action))) continue;
      if (!resources.some((resource) => resource === '*' || canonical(resource).includes(resourceLogicalId))) continue;
      for (const role of properties.Roles) {
        const roleId = (role as { Ref?: string }).Ref ?? canonical(role);
        found.add(roles.get(roleId) ?? `unknown role ${roleId}`);
      }
    }
  }
  return [...found].sort();
}

const isDecrypt = (action: string) => action.toLowerCase() === 'kms:decrypt' || action.toLowerCase().startsWith('kms:decrypt');
const isDynamoDb = (action: string) => action.startsWith('dynamodb:');

describe('card vault (stateful resources)', () => {
  let synth: SynthesizedPaystep;
  let resources: Record<string, JsonObject>;

  beforeAll(() => {
    synth = synthPaystep();
    resources = synth.statefulJson.Resources as Record<string, JsonObject>;
  });

  it('keeps cards in their own on-demand table with PITR, encrypted with its own rotating key (not the main table key)', () => {
    // Prepare
    const vault = synth.stateful.cardVault;
    // Act
    const table = resources[logicalIdOf(vault.table)]!;
    const tableKeyId = logicalIdOf(vault.table.encryptionKey!);
    // Assess
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: CARD_VAULT_TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: CARD_VAULT_TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(vault.table.encryptionKey!, 'Arn') },
    });
    expect(tableKeyId).not.toBe(logicalIdOf(synth.stateful.tableKey));
    expect(tableKeyId).not.toBe(logicalIdOf(vault.dataKey));
    expect(resources[tableKeyId]!.Properties).toMatchObject({ EnableKeyRotation: true });
  });

  it('wraps data keys with a rotating symmetric key and computes fingerprints with a KMS HMAC key', () => {
    // Act
    const dataKey = resources[logicalIdOf(synth.stateful.cardVault.dataKey)]!.Properties as JsonObject;
    const fingerprintKey = resources[logicalIdOf(synth.stateful.cardVault.fingerprintKey)]!.Properties as JsonObject;
    // Assess
    expect(dataKey).toMatchObject({ EnableKeyRotation: true });
    expect(dataKey.KeySpec ?? 'SYMMETRIC_DEFAULT').toBe('SYMMETRIC_DEFAULT');
    expect(fingerprintKey).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
  });

  it('grants nobody in the key policies but the account (IAM policies decide, and they are checked below)', () => {
    for (const key of [synth.stateful.cardVault.dataKey, synth.stateful.cardVault.fingerprintKey]) {
      // Act
      const statements = (
        (resources[logicalIdOf(key)]!.Properties as JsonObject).KeyPolicy as { Statement: { Effect: string; Principal: Json }[] }
      ).Statement;
      // Assess: the Allow statements name only the account (a Deny, such as the Control Tower grant
      // restriction, grants nothing)
      expect(
        statements.filter((statement) => statement.Effect === 'Allow').map((statement) => canonical(statement.Principal)),
      ).toEqual([
        canonical({
          AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] },
        }),
      ]);
    }
  });
});

describe('card vault (who may decrypt and read)', () => {
  let synth: SynthesizedPaystep;
  let roles: Map<string, string>;

  beforeAll(() => {
    synth = synthPaystep();
    roles = functionRoles(synth);
  });

  it('lets no function kms:Decrypt the vault key except the reveal-bound connector step (AuthorizePayment)', () => {
    // Act
    const decryptors = rolesAllowed(synth.statelessJson, roles, isDecrypt, logicalIdOf(synth.stateful.cardVault.dataKey));
    const inStateful = rolesAllowed(synth.statefulJson, roles, isDecrypt, logicalIdOf(synth.stateful.cardVault.dataKey));
    // Assess
    expect(decryptors).toEqual([...ALLOWED_DECRYPTORS].sort());
    expect(inStateful).toEqual([]);
  });

  it('lets only the vault function read or write the vault table and use its table key', () => {
    // Act
    const tableUsers = rolesAllowed(synth.statelessJson, roles, isDynamoDb, logicalIdOf(synth.stateful.cardVault.table));
    const tableKeyUsers = rolesAllowed(
      synth.statelessJson,
      roles,
      (action) => action.startsWith('kms:'),
      logicalIdOf(synth.stateful.cardVault.table.encryptionKey!),
    );
    // Assess
    expect(tableUsers).toEqual([...ALLOWED_VAULT_TABLE_USERS].sort());
    expect(tableKeyUsers).toEqual([...ALLOWED_VAULT_TABLE_USERS].sort());
  });

  it('gives the vault function GenerateDataKey and GenerateMac but no Decrypt, and no other function either key', () => {
    // Act
    const wrappers = rolesAllowed(
      synth.statelessJson,
      roles,
      (action) => action === 'kms:GenerateDataKey',
      logicalIdOf(synth.stateful.cardVault.dataKey),
    );
    const fingerprinters = rolesAllowed(
      synth.statelessJson,
      roles,
      (action) => action === 'kms:GenerateMac',
      logicalIdOf(synth.stateful.cardVault.fingerprintKey),
    );
    const anyDataKeyUse = rolesAllowed(
      synth.statelessJson,
      roles,
      (action) => action.startsWith('kms:'),
      logicalIdOf(synth.stateful.cardVault.dataKey),
    );
    // Assess
    expect(wrappers).toEqual(['api-payment-methods']);
    expect(fingerprinters).toEqual(['api-payment-methods']);
    expect(anyDataKeyUse).toEqual(['api-payment-methods', ...ALLOWED_DECRYPTORS].sort());
  });

  it('gives the vault settings to the vault table users only', () => {
    // Prepare
    const lambdas = resourcesOfType(synth.statelessJson, 'AWS::Lambda::Function');
    // Act
    const withVault = Object.entries(lambdas)
      .filter(
        ([, fn]) =>
          ((fn.Properties as JsonObject).Environment as { Variables: JsonObject }).Variables.CARD_VAULT_TABLE_NAME !== undefined,
      )
      .map(([id]) => id);
    const vaultFunction = synth.stateless.apiFunctions.get('api-payment-methods')!;
    const variables = ((lambdas[logicalIdOf(vaultFunction)]!.Properties as JsonObject).Environment as { Variables: JsonObject })
      .Variables;
    // Assess
    const tableUsers = [
      ...['api-payment-methods', 'api-pay'].map((entry) => logicalIdOf(synth.stateless.apiFunctions.get(entry as never)!)),
      ...['CapturePayment', ...ALLOWED_DECRYPTORS].map((state) =>
        logicalIdOf(synth.stateless.sagaFunctions.get(state as never)!),
      ),
      logicalIdOf(synth.stateless.reconciliationSweep),
    ];
    expect(withVault.sort()).toEqual(tableUsers.sort());
    expect(variables).toMatchObject({
      CARD_VAULT_TABLE_NAME: { Ref: logicalIdOf(synth.stateful.cardVault.table) },
      CARD_VAULT_KEY_ID: getAtt(synth.stateful.cardVault.dataKey, 'Arn'),
      CARD_FINGERPRINT_KEY_ID: getAtt(synth.stateful.cardVault.fingerprintKey, 'Arn'),
    });
    expect(variables.CARD_VAULT_LOCAL_KEY_FILE).toBeUndefined();
  });

  it('catches a function bound to reveal by mistake (the check above can fail)', () => {
    // Prepare: the real app, with api-checkouts wrongly given reveal access.
    const app = createTestApp();
    const stacks = addPaystepStacks(app);
    stacks.stateless.apiFunctions.get('api-checkouts')!.bindCardVault({ vault: stacks.stateful.cardVault, access: 'reveal' });
    // Act
    const template = Template.fromStack(stacks.stateless).toJSON() as JsonObject;
    const decryptors = rolesAllowed(template, functionRoles(stacks), isDecrypt, logicalIdOf(stacks.stateful.cardVault.dataKey));
    // Assess
    expect(decryptors).toEqual([...ALLOWED_DECRYPTORS, 'api-checkouts'].sort());
  });
});
