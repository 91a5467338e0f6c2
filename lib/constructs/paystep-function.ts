/**
 * The one Lambda function construct every Paystep handler is deployed with. It fixes what must
 * never differ between functions (runtime, architecture, tracing, its own log group, ESM bundling,
 * an execution role that holds nothing it was not explicitly given) and offers `bind*` methods that
 * set an environment variable and its IAM grant together, so a handler can never receive a setting
 * it has no permission to use, or a permission it has no setting for.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Architecture, Function as LambdaFunction, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { acknowledgeGuardRule, GUARD_EXCEPTIONS } from '../control-tower-guard';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/shared/metric-names';
import { bundleFunction, PAYSTEP_RUNTIME } from '../bundling';
import { TABLE_SCHEMA } from '../table-schema';

export { PAYSTEP_RUNTIME } from '../bundling';

/** Value every function gets as POWERTOOLS_SERVICE_NAME, so logs, traces and metrics group together. */
export const POWERTOOLS_SERVICE_NAME = 'paystep';

/**
 * Prefix of an environment value that is a reference, not the secret itself:
 * `secretsmanager:<secret ARN>`. On AWS, `ADMIN_TOKEN_HASH` and `PAYSTEP_SECRETS_KEY` carry such a
 * reference; locally they carry the literal value. The handler-side reader
 * (lambdas/shared/secret-env.ts; test/unit/secret-env.test.ts checks both prefixes agree) resolves a reference once at cold start with `GetSecretValue`:
 * - `PAYSTEP_SECRETS_KEY`: the secret string is the key material for encrypting stored secrets
 *   (webhook signing secrets) at rest.
 * - `ADMIN_TOKEN_HASH`: the secret string is the admin token itself (operators read it from Secrets
 *   Manager); the reader hashes it with SHA-256 and compares against the presented token's hash.
 * Putting the plaintext in the function configuration (a CloudFormation dynamic reference) would
 * expose it to anyone with `lambda:GetFunctionConfiguration`, so only the ARN travels.
 */
export const SECRET_REFERENCE_PREFIX = 'secretsmanager:';

/** DynamoDB actions per access level. Transactions are authorized by these per-item actions. */
const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
] as const;

export const TABLE_ACTIONS = {
  read: TABLE_READ_ACTIONS,
  readWrite: [...TABLE_READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
} as const;

/** KMS actions DynamoDB needs from the caller when the table is encrypted with a customer-managed key. */
export const TABLE_KEY_ACTIONS = {
  read: ['kms:Decrypt', 'kms:DescribeKey'],
  readWrite: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
} as const;

/** Network interface actions Lambda performs with the execution role to attach a function to a VPC. */
const VPC_ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

export type TableAccess = keyof typeof TABLE_ACTIONS;

/** The card vault's stateful resources (lib/stateful-stack.ts), handed to bindCardVault. */
export interface CardVaultResources {
  /** The vault's own table (payment methods and their envelope-encrypted card data). */
  readonly table: ITable;
  /** Wraps each payment method's data key (GenerateDataKey to vault a card, Decrypt to read it back). */
  readonly dataKey: kms.IKey;
  /** HMAC key computing card fingerprints (GenerateMac). */
  readonly fingerprintKey: kms.IKey;
}

/**
 * What a function may do with the card vault:
 * - `store`: vault cards (GenerateDataKey, GenerateMac) and manage payment methods (read/write the
 *   vault table), but never read a card back: no kms:Decrypt on the data key.
 * - `reveal`: read one card for an authorization and destroy its CVC (GetItem and UpdateItem on the
 *   vault table, kms:Decrypt on the data key). For connector functions only.
 * - `read`: read a payment method's metadata (GetItem; no key use at all), e.g. the pay route
 *   checking a `pm_` may pay a checkout.
 */
export type CardVaultAccess = 'store' | 'reveal' | 'read' | 'attach';

/** DynamoDB actions on the vault table per CardVaultAccess (the vault table has no index). */
export const CARD_VAULT_TABLE_ACTIONS: Record<CardVaultAccess, readonly string[]> = {
  store: TABLE_ACTIONS.readWrite,
  reveal: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  read: ['dynamodb:GetItem'],
  /** Saves a payment method on a customer (CapturePayment, save_payment_method): no key use. */
  attach: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
};

const CARD_VAULT_STATEMENT_IDS: Record<CardVaultAccess, string> = {
  store: 'StoreInCardVault',
  reveal: 'RevealFromCardVault',
  read: 'ReadCardVaultMetadata',
  attach: 'SavePaymentMethodsOnCustomers',
};

export interface PaystepFunctionProps {
  /** Directory under `lambdas/` that holds `handler.ts` (an `ApiEntry` or a `SAGA_STEPS` value). */
  readonly entryName: string;
  readonly description: string;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** @default 256 MiB */
  readonly memorySize?: number;
  /** Run in these subnets (egress through the NAT gateways' Elastic IPs). */
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Plain, non-secret settings. Secrets go through `bindSecret`. */
  readonly environment?: Record<string, string>;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.DESTROY: logs of a torn-down dev stack are not worth keeping */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** POWERTOOLS_LOG_LEVEL. @default INFO */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * Cold-start switches every function gets, both off by default because each costs module
 * initialisation on every cold start (measured by `npm run bundle-report`, README "Bundle sizes"):
 * - CDK context `sourceMapsAtRuntime=true`: NODE_OPTIONS=--enable-source-maps, stack traces in
 *   TypeScript positions (35-57 ms of init). The maps are deployed beside the code either way, so a
 *   minified stack trace can be mapped back offline.
 * - CDK context `powertoolsTracer=true`: the Powertools Tracer (and the X-Ray SDK behind it, a
 *   lazily loaded chunk of about 110 KiB) with the `## handler` subsegment and its `checkoutId`,
 *   ColdStart and Service annotations. Off, POWERTOOLS_TRACE_ENABLED=false keeps that chunk
 *   unloaded; X-Ray still records every function through Lambda's active tracing (TracingConfig
 *   Active) and every execution through the state machine's tracing.
 */
export function runtimeOptions(scope: Construct): Record<string, string> {
  const enabled = (key: string): boolean => String(scope.node.tryGetContext(key) ?? 'false').toLowerCase() === 'true';
  return {
    ...(enabled('sourceMapsAtRuntime') ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    ...(enabled('powertoolsTracer') ? {} : { POWERTOOLS_TRACE_ENABLED: 'false' }),
  };
}

/**
 * A handler in `lambdas/<entryName>/handler.ts`, bundled to minified ESM (`index.mjs` plus lazily
 * loaded chunks, lib/bundling.ts).
 */
export class PaystepFunction extends LambdaFunction {
  /** The execution role, created here so no AWS managed policy (with `*` log resources) is attached. */
  readonly executionRole: iam.Role;
  readonly functionLogGroup: LogGroup;
  /** `lambdas/<entryName>/handler.ts`: the bundle report bundles every deployed function by it. */
  readonly entryName: string;

  constructor(scope: Construct, id: string, props: PaystepFunctionProps) {
    // The function needs the role and log group at construction time, so they are siblings.
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.entryName}`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    if (props.vpc !== undefined) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'ManageVpcNetworkInterfaces', actions: VPC_ENI_ACTIONS, resources: ['*'] }),
      );
    }

    super(scope, id, {
      // The one bundling definition (lib/bundling.ts), shared with the bundle report.
      code: bundleFunction(props.entryName),
      handler: 'index.handler',
      description: props.description,
      runtime: PAYSTEP_RUNTIME,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      role,
      logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      environment: {
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        ...runtimeOptions(scope),
        ...props.environment,
      },
    });
    this.executionRole = role;
    this.functionLogGroup = logGroup;
    this.entryName = props.entryName;
    acknowledgeGuardRule(
      this,
      props.vpc === undefined ? GUARD_EXCEPTIONS.lambdaOutsideVpc : GUARD_EXCEPTIONS.lambdaInVpcThroughImports,
    );

    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy !== undefined) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only X-Ray PutTraceSegments/PutTelemetryRecords (and, for VPC functions, the EC2 network-interface actions Lambda performs with the execution role) are on "*": these actions support no resource-level permissions. test/cdk checks that no other statement uses "*".',
      });
    }
  }

  /**
   * Gives the function the table (`TABLE_NAME`) and exactly the actions `access` needs, on the
   * table and its indexes by name (no `index/*` wildcard), plus the KMS actions on the table's key.
   */
  bindTable({ table, access }: { table: ITable; access: TableAccess }): this {
    this.addEnvironment('TABLE_NAME', table.tableName);
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: access === 'read' ? 'ReadTable' : 'ReadWriteTable',
        actions: [...TABLE_ACTIONS[access]],
        resources: [
          table.tableArn,
          ...TABLE_SCHEMA.globalSecondaryIndexes.map((index) => `${table.tableArn}/index/${index.indexName}`),
        ],
      }),
    );
    if (table.encryptionKey !== undefined) {
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'UseTableKey',
          actions: [...TABLE_KEY_ACTIONS[access]],
          resources: [table.encryptionKey.keyArn],
        }),
      );
    }
    return this;
  }

  /**
   * Binds the card vault (CARD_VAULT_TABLE_NAME, CARD_VAULT_KEY_ID, CARD_FINGERPRINT_KEY_ID) with
   * exactly the table and key actions `access` needs (see CardVaultAccess). Only kms:Decrypt on the
   * data key reads card numbers back; test/cdk/card-vault.test.ts checks who holds it.
   */
  bindCardVault({ vault, access }: { vault: CardVaultResources; access: CardVaultAccess }): this {
    this.addEnvironment('CARD_VAULT_TABLE_NAME', vault.table.tableName);
    this.addEnvironment('CARD_VAULT_KEY_ID', vault.dataKey.keyArn);
    this.addEnvironment('CARD_FINGERPRINT_KEY_ID', vault.fingerprintKey.keyArn);
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: CARD_VAULT_STATEMENT_IDS[access],
        actions: [...CARD_VAULT_TABLE_ACTIONS[access]],
        resources: [vault.table.tableArn],
      }),
    );
    if (vault.table.encryptionKey !== undefined) {
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'UseCardVaultTableKey',
          actions: [...(access === 'read' ? TABLE_KEY_ACTIONS.read : TABLE_KEY_ACTIONS.readWrite)],
          resources: [vault.table.encryptionKey.keyArn],
        }),
      );
    }
    if (access === 'store') {
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'WrapCardDataKeys', actions: ['kms:GenerateDataKey'], resources: [vault.dataKey.keyArn] }),
      );
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'FingerprintCards',
          actions: ['kms:GenerateMac'],
          resources: [vault.fingerprintKey.keyArn],
        }),
      );
    } else if (access === 'reveal') {
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'UnwrapCardDataKeys', actions: ['kms:Decrypt'], resources: [vault.dataKey.keyArn] }),
      );
    }
    return this;
  }

  /** Lets the function start executions of one state machine (`STATE_MACHINE_ARN`), nothing more. */
  bindStateMachine(stateMachine: IStateMachine): this {
    this.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StartSagaExecution',
        actions: ['states:StartExecution'],
        resources: [stateMachine.stateMachineArn],
      }),
    );
    return this;
  }

  /**
   * Sets `envName` to a `secretsmanager:<ARN>` reference (see SECRET_REFERENCE_PREFIX) and allows
   * reading that one secret. The plaintext never appears in the template or the function config.
   */
  bindSecret(envName: string, secret: ISecret): this {
    this.addEnvironment(envName, `${SECRET_REFERENCE_PREFIX}${secret.secretArn}`);
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `Read${envName
          .split('_')
          .map((word) => word.charAt(0) + word.slice(1).toLowerCase())
          .join('')}`,
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secret.secretArn],
      }),
    );
    if (secret.encryptionKey !== undefined) {
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [secret.encryptionKey.keyArn] }),
      );
    }
    return this;
  }
}
