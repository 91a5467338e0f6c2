/**
 * Least privilege, checked on the rendered policies: each function's role allows exactly the
 * (action, resource) pairs its job needs (its own log group, the one table and its index by name,
 * the table key, only the secrets it reads, StartExecution for api-pay only) and only the state
 * machine's role can invoke the saga functions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiEntry } from '../../lib/api-routes';
import { CARD_VAULT_TABLE_ACTIONS, type PaystepFunction } from '../../lib/constructs/paystep-function';
import type { SagaState } from '../../lib/saga-steps';
import {
  canonical,
  getAtt,
  logicalIdOf,
  ref,
  resourcesOfType,
  synthPaystep,
  type Json,
  type JsonObject,
  type SynthesizedPaystep,
} from './synth-paystep';

const TABLE_READ_WRITE = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
const TABLE_KEY_READ_WRITE = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];
const TABLE_KEY_READ = ['kms:Decrypt', 'kms:DescribeKey'];
const XRAY = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
const VPC_ENI = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];
/** Actions that AWS offers on "*" only; nothing else may use a "*" resource. */
const STAR_ONLY_ACTIONS = new Set([
  ...XRAY,
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  ...VPC_ENI,
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

interface Needs {
  secrets: ('adminToken' | 'secretsKey' | 'pspCallback' | 'stripeWebhook' | 'stripeApiKey')[];
  /** states:SendTaskSuccess/Failure/Heartbeat on the state machine (PSP callbacks resume waiting sagas). */
  taskTokens?: boolean;
  /** states:DescribeExecution on the saga's executions (the reconciliation sweep). */
  describesExecutions?: boolean;
  startsSaga?: boolean;
  inVpc?: boolean;
  /** false: no table or table key access at all. */
  table?: boolean;
  /** The card vault binding (lib/constructs/paystep-function.ts, bindCardVault). */
  cardVault?: 'store' | 'reveal' | 'read' | 'attach';
}
/** The specification: what each function may use beyond logs, X-Ray and the table. */
const API_NEEDS: Record<ApiEntry, Needs> = {
  'api-merchants': { secrets: ['adminToken', 'secretsKey'] },
  'api-settings': { secrets: [] },
  'api-checkouts': { secrets: ['secretsKey'] },
  'api-pay': { secrets: ['secretsKey'], startsSaga: true, cardVault: 'read' },
  'api-webhook-endpoints': { secrets: ['secretsKey'] },
  'api-events': { secrets: ['secretsKey'] },
  'api-instruments': { secrets: ['secretsKey'] },
  // NewStore's idempotency_key records hold no secrets; the key decrypts merchants' own connector credentials.
  'api-newstore': { secrets: ['secretsKey'] },
  'web-checkout': { secrets: [], table: false },
  'api-psp-callbacks': { secrets: ['pspCallback', 'stripeWebhook'], taskTokens: true },
  'api-openapi': { secrets: [], table: false },
  'api-operator': { secrets: ['adminToken'] },
  'api-customers': { secrets: ['secretsKey'] },
  'api-payment-methods': { secrets: ['secretsKey'], cardVault: 'store' },
  'api-connectors': { secrets: ['secretsKey'] },
};
const SAGA_NEEDS: Record<SagaState, Needs> = {
  // PSP callers decrypt a merchant's own connector credentials with the secrets key.
  AuthorizePayment: { secrets: ['secretsKey'], cardVault: 'reveal' },
  // The terminal steps: the result webhook in-process (merchant egress, signing secret); CapturePayment
  // also asks the merchant to confirm inventory, and saves the customer's card before its terminal write ('attach').
  CapturePayment: { secrets: ['secretsKey'], inVpc: true, cardVault: 'attach' },
  VoidAuthorization: { secrets: ['secretsKey'], inVpc: true },
  AwaitAuthorization: { secrets: ['secretsKey'], taskTokens: true },
  AwaitAuthentication: { secrets: ['secretsKey'], taskTokens: true },
};

type Statement = { Effect: string; Action: string | string[]; Resource: Json };

/** Every (action, resource) pair the policies attached to `role` allow, as `action @ resource` strings. */
function allowedPairs(template: JsonObject, roleLogicalId: string): Set<string> {
  const pairs = new Set<string>();
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const properties = policy.Properties as { Roles: Json[]; PolicyDocument: { Statement: Statement[] } };
    if (!properties.Roles.some((role) => canonical(role) === canonical({ Ref: roleLogicalId }))) continue;
    for (const statement of properties.PolicyDocument.Statement) {
      expect(statement.Effect).toBe('Allow');
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const action of actions) for (const resource of resources) pairs.add(`${action} @ ${canonical(resource)}`);
    }
  }
  return pairs;
}

function pairsOf(actions: string[], resources: Json[]): string[] {
  return actions.flatMap((action) => resources.map((resource) => `${action} @ ${canonical(resource)}`));
}

describe('IAM least privilege', () => {
  let synth: SynthesizedPaystep;
  let functions: [string, PaystepFunction, Needs][];

  beforeAll(() => {
    synth = synthPaystep();
    functions = [
      ...[...synth.stateless.apiFunctions].map(
        ([entry, fn]) => [entry, fn, API_NEEDS[entry]] as [string, PaystepFunction, Needs],
      ),
      ...[...synth.stateless.sagaFunctions].map(
        ([state, fn]) => [state, fn, SAGA_NEEDS[state]] as [string, PaystepFunction, Needs],
      ),
      ['webhook-dispatcher', synth.stateless.webhookDispatcher, { secrets: ['secretsKey'], inVpc: true }],
      [
        'reconciliation-sweep',
        synth.stateless.reconciliationSweep,
        // 'attach': finishing a checkout succeeded saves its card on the customer, as CapturePayment does.
        { secrets: ['secretsKey'], inVpc: true, taskTokens: true, describesExecutions: true, cardVault: 'attach' },
      ],
    ];
  });

  it('covers every function of the stack', () => {
    const lambdaIds = Object.keys(resourcesOfType(synth.statelessJson, 'AWS::Lambda::Function'));
    expect(functions.map(([, fn]) => logicalIdOf(fn)).sort()).toEqual(lambdaIds.sort());
  });

  it('gives each function exactly its own log group, the table and its index by name, the table key, and only the secrets and state machine it needs', () => {
    // Prepare
    const table = getAtt(synth.stateful.table, 'Arn');
    const tableIndexes = ['gsi1', 'gsi2', 'gsi3'].map((name) => ({ 'Fn::Join': ['', [table, `/index/${name}`]] }));
    const secrets = {
      adminToken: ref(synth.stateful.adminTokenSecret),
      secretsKey: ref(synth.stateful.secretsKeySecret),
      pspCallback: ref(synth.stateful.pspCallbackSecret),
      stripeWebhook: ref(synth.stateful.stripeWebhookSecret),
      stripeApiKey: ref(synth.stateful.stripeApiKeySecret),
    };
    const executions = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':execution:',
          getAtt(synth.stateless.stateMachine, 'Name'),
          ':*',
        ],
      ],
    };
    const vault = synth.stateful.cardVault;
    for (const [name, fn, needs] of functions) {
      const expected = new Set([
        ...pairsOf(['logs:CreateLogStream', 'logs:PutLogEvents'], [getAtt(fn.functionLogGroup, 'Arn')]),
        ...pairsOf(XRAY, ['*']),
        ...(needs.inVpc === true ? pairsOf(VPC_ENI, ['*']) : []),
        ...(needs.table === false ? [] : pairsOf(TABLE_READ_WRITE, [table, ...tableIndexes])),
        ...(needs.table === false ? [] : pairsOf(TABLE_KEY_READ_WRITE, [getAtt(synth.stateful.tableKey, 'Arn')])),
        ...needs.secrets.flatMap((secret) => pairsOf(['secretsmanager:GetSecretValue'], [secrets[secret]])),
        ...(needs.startsSaga === true ? pairsOf(['states:StartExecution'], [ref(synth.stateless.stateMachine)]) : []),
        ...(needs.taskTokens === true
          ? pairsOf(
              ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
              [ref(synth.stateless.stateMachine)],
            )
          : []),
        ...(needs.describesExecutions === true ? pairsOf(['states:DescribeExecution'], [executions]) : []),
        ...(needs.cardVault !== undefined
          ? pairsOf([...CARD_VAULT_TABLE_ACTIONS[needs.cardVault]], [getAtt(vault.table, 'Arn')])
          : []),
        ...(needs.cardVault !== undefined
          ? pairsOf(needs.cardVault === 'read' ? TABLE_KEY_READ : TABLE_KEY_READ_WRITE, [
              getAtt(vault.table.encryptionKey!, 'Arn'),
            ])
          : []),
        ...(needs.cardVault === 'store'
          ? [
              ...pairsOf(['kms:GenerateDataKey'], [getAtt(vault.dataKey, 'Arn')]),
              ...pairsOf(['kms:GenerateMac'], [getAtt(vault.fingerprintKey, 'Arn')]),
            ]
          : []),
        ...(needs.cardVault === 'reveal' ? pairsOf(['kms:Decrypt'], [getAtt(vault.dataKey, 'Arn')]) : []),
      ]);
      // Act
      const actual = allowedPairs(synth.statelessJson, logicalIdOf(fn.executionRole));
      // Assess
      expect([...actual].sort(), name).toEqual([...expected].sort());
    }
  });

  it('attaches no managed policies to function roles (no AWSLambdaBasicExecutionRole with "*" log resources)', () => {
    for (const [name, fn] of functions) {
      const role = (synth.statelessJson.Resources as Record<string, JsonObject>)[logicalIdOf(fn.executionRole)]!;
      expect((role.Properties as JsonObject).ManagedPolicyArns, name).toBeUndefined();
      expect((role.Properties as JsonObject).Policies, name).toBeUndefined();
    }
  });

  it('lets only the state machine role invoke the saga functions, and that role invoke nothing else', () => {
    // Prepare
    const sagaArns = [...synth.stateless.sagaFunctions.values()].map((fn) => canonical(getAtt(fn, 'Arn')));
    const stateMachineRoleId = logicalIdOf(synth.stateless.stateMachine.role);
    // Act
    const invokes: [string, string][] = [];
    for (const role of Object.keys(resourcesOfType(synth.statelessJson, 'AWS::IAM::Role'))) {
      for (const pair of allowedPairs(synth.statelessJson, role)) {
        const [action, resource] = pair.split(' @ ') as [string, string];
        if (action.startsWith('lambda:') || action === '*') invokes.push([role, `${action} @ ${resource}`]);
      }
    }
    const sagaPermissions = Object.values(resourcesOfType(synth.statelessJson, 'AWS::Lambda::Permission')).filter((permission) =>
      sagaArns.includes(canonical((permission.Properties as JsonObject).FunctionName!)),
    );
    // Assess
    expect(invokes.sort()).toEqual(sagaArns.map((arn) => [stateMachineRoleId, `lambda:InvokeFunction @ ${arn}`]).sort());
    expect(sagaPermissions).toEqual([]);
  });

  it('uses a "*" resource only for actions that support nothing narrower (X-Ray, log delivery, VPC network interfaces)', () => {
    // Act
    const offenders: string[] = [];
    for (const template of [synth.statefulJson, synth.statelessJson]) {
      for (const [id, policy] of Object.entries(resourcesOfType(template, 'AWS::IAM::Policy'))) {
        for (const statement of (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement) {
          const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
          const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
          if (actions.some((action) => action.includes('*'))) offenders.push(`${id}: wildcard action ${actions.join(',')}`);
          if (resources.some((resource) => typeof resource === 'string' && resource.includes('*'))) {
            offenders.push(
              ...actions.filter((action) => !STAR_ONLY_ACTIONS.has(action)).map((action) => `${id}: ${action} on *`),
            );
          }
        }
      }
    }
    // Assess
    expect(offenders).toEqual([]);
  });

  it('gives the function settings that match its grants', () => {
    // Prepare
    const lambdas = resourcesOfType(synth.statelessJson, 'AWS::Lambda::Function');
    for (const [name, fn, needs] of functions) {
      const variables = ((lambdas[logicalIdOf(fn)]!.Properties as JsonObject).Environment as { Variables: JsonObject }).Variables;
      // Assess
      expect(variables.TABLE_NAME, name).toEqual(needs.table === false ? undefined : ref(synth.stateful.table));
      expect(variables.STATE_MACHINE_ARN, name).toEqual(
        needs.startsSaga === true || needs.describesExecutions === true ? ref(synth.stateless.stateMachine) : undefined,
      );
      expect(variables.SANDBOX_PSP_CALLBACK_SECRET, name).toEqual(
        needs.secrets.includes('pspCallback')
          ? { 'Fn::Join': ['', ['secretsmanager:', ref(synth.stateful.pspCallbackSecret)]] }
          : undefined,
      );
      expect(variables.PAYSTEP_SECRETS_KEY, name).toEqual(
        needs.secrets.includes('secretsKey')
          ? { 'Fn::Join': ['', ['secretsmanager:', ref(synth.stateful.secretsKeySecret)]] }
          : undefined,
      );
      expect(variables.STRIPE_WEBHOOK_SECRET, name).toEqual(
        needs.secrets.includes('stripeWebhook')
          ? { 'Fn::Join': ['', ['secretsmanager:', ref(synth.stateful.stripeWebhookSecret)]] }
          : undefined,
      );
      // The platform's Stripe key only where -c platformConnectors lists stripe (not by default).
      expect(variables.STRIPE_API_KEY, name).toBeUndefined();
      expect(variables.ADMIN_TOKEN_HASH, name).toEqual(
        needs.secrets.includes('adminToken')
          ? { 'Fn::Join': ['', ['secretsmanager:', ref(synth.stateful.adminTokenSecret)]] }
          : undefined,
      );
    }
  });
});

describe('the platform Stripe account (-c platformConnectors=sandbox,stripe)', () => {
  it("grants the platform's Stripe key to exactly the PSP callers and the callback API, and tells every connector-aware function the platform connectors", () => {
    // Prepare
    const synth = synthPaystep({ platformConnectors: 'sandbox,stripe', stripeApiUrl: 'https://stripe-sandbox.example' });
    const key = ref(synth.stateful.stripeApiKeySecret);
    const callers = [
      ...['api-instruments', 'api-newstore', 'api-psp-callbacks'].map((entry) =>
        synth.stateless.apiFunctions.get(entry as ApiEntry)!,
      ),
      ...(['AuthorizePayment', 'CapturePayment', 'VoidAuthorization', 'AwaitAuthorization', 'AwaitAuthentication'] as const).map(
        (state) => synth.stateless.sagaFunctions.get(state)!,
      ),
      synth.stateless.reconciliationSweep,
    ].map((fn) => logicalIdOf(fn));
    const lambdas = resourcesOfType(synth.statelessJson, 'AWS::Lambda::Function');
    // Act
    const withKey = Object.entries(lambdas)
      .filter(
        ([, fn]) =>
          ((fn.Properties as JsonObject).Environment as { Variables: JsonObject }).Variables.STRIPE_API_KEY !== undefined,
      )
      .map(([id]) => id);
    const readers = Object.keys(lambdas).filter((id) => {
      const role = canonical((lambdas[id]!.Properties as JsonObject).Role!);
      const roleId = /"Fn::GetAtt":\["([^"]+)"/.exec(role)?.[1] ?? '';
      return allowedPairs(synth.statelessJson, roleId).has(`secretsmanager:GetSecretValue @ ${canonical(key)}`);
    });
    // Assess
    expect(withKey.sort()).toEqual([...callers].sort());
    expect(readers.sort()).toEqual([...callers].sort());
    for (const id of callers) {
      const variables = ((lambdas[id]!.Properties as JsonObject).Environment as { Variables: JsonObject }).Variables;
      expect(variables, id).toMatchObject({
        PAYSTEP_PLATFORM_CONNECTORS: 'sandbox,stripe',
        STRIPE_API_URL: 'https://stripe-sandbox.example',
        STRIPE_API_KEY: { 'Fn::Join': ['', ['secretsmanager:', key]] },
      });
    }
    const connectors = lambdas[logicalIdOf(synth.stateless.apiFunctions.get('api-connectors')!)]!;
    expect(((connectors.Properties as JsonObject).Environment as { Variables: JsonObject }).Variables).toMatchObject({
      PAYSTEP_PLATFORM_CONNECTORS: 'sandbox,stripe',
    });
  });

  it('refuses an unknown platform connector at synth time', () => {
    expect(() => synthPaystep({ platformConnectors: 'sandbox,paypal' })).toThrow(/platformConnectors.*paypal/);
  });
});
