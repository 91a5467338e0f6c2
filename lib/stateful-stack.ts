/**
 * Everything Paystep must never lose or change by accident: the one DynamoDB table (checkouts,
 * merchants, ledger, idempotency records), its customer-managed key, the two application secrets,
 * and the egress network whose Elastic IPs merchants whitelist. The stateless stack receives
 * these through props and can be destroyed and redeployed freely.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { acknowledgeGuardRule, denyGrantsExceptForAwsServices, GUARD_EXCEPTIONS } from './control-tower-guard';
import { NetworkConstruct } from './network-construct';
import type { PaystepConfig } from './paystep-config';
import { CARD_VAULT_TABLE_SCHEMA, TABLE_SCHEMA } from './table-schema';
import type { CardVaultResources } from './constructs/paystep-function';

/** Length of the generated PAYSTEP_SECRETS_KEY: 43 base64 characters decode to a 32-byte key. */
export const SECRETS_KEY_LENGTH = 43;

export interface StatefulStackProps extends StackProps {
  readonly config: PaystepConfig;
}

export class StatefulStack extends Stack {
  readonly table: dynamodb.Table;
  readonly tableKey: kms.Key;
  /** The platform admin's bearer token (generated). Operators read it here; api-merchants hashes it. */
  readonly adminTokenSecret: secretsmanager.Secret;
  /** PAYSTEP_SECRETS_KEY: encrypts stored signing secrets and idempotent responses at rest. */
  readonly secretsKeySecret: secretsmanager.Secret;
  /** SANDBOX_PSP_CALLBACK_SECRET: the HMAC secret the sandbox connector signs its callbacks with (shared with the PSP). */
  readonly pspCallbackSecret: secretsmanager.Secret;
  /** STRIPE_API_KEY: the platform's Stripe secret key (an operator puts it; bound only where PAYSTEP_PLATFORM_CONNECTORS lists stripe). */
  readonly stripeApiKeySecret: secretsmanager.Secret;
  /** STRIPE_WEBHOOK_SECRET: the `whsec_` signing secret of the Stripe webhook endpoint <ApiUrl>/v1/psp/stripe/callbacks. */
  readonly stripeWebhookSecret: secretsmanager.Secret;
  readonly network: NetworkConstruct;
  /** The card vault: its own table (encrypted with its own key), the data-key wrapping key and the fingerprint HMAC key. */
  readonly cardVault: CardVaultResources;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const isProd = props.config.stage === 'prod';
    const removalPolicy = isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.tableKey = new kms.Key(this, 'TableKey', {
      description: 'Encrypts the Paystep table (checkouts, payments, merchant records)',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(isProd ? 30 : 7),
    });
    denyGrantsExceptForAwsServices(this.tableKey);

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TABLE_SCHEMA.timeToLiveAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.tableKey,
      deletionProtection: isProd,
      removalPolicy,
    });
    for (const index of TABLE_SCHEMA.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: index.projection === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
      });
    }

    // ---- The card vault: nothing else shares its table or keys, so its grants can be proven apart ----
    const cardVaultTableKey = new kms.Key(this, 'CardVaultTableKey', {
      description: 'Encrypts the Paystep card vault table at rest',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(isProd ? 30 : 7),
    });
    denyGrantsExceptForAwsServices(cardVaultTableKey);
    const cardVaultTable = new dynamodb.Table(this, 'CardVaultTable', {
      partitionKey: { name: CARD_VAULT_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: CARD_VAULT_TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: cardVaultTableKey,
      deletionProtection: isProd,
      removalPolicy,
    });
    const cardDataKey = new kms.Key(this, 'CardVaultKey', {
      description: "Paystep card vault: wraps each payment method's data key (envelope encryption of card numbers and CVCs)",
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(isProd ? 30 : 7),
    });
    // Not rotated: KMS cannot rotate HMAC keys, and a new key would change every fingerprint
    // merchants have stored. It never leaves KMS (GenerateMac only).
    const cardFingerprintKey = new kms.Key(this, 'CardFingerprintKey', {
      description: 'Paystep card vault: HMAC key for card fingerprints (stable per card number and merchant)',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy,
      pendingWindow: Duration.days(isProd ? 30 : 7),
    });
    denyGrantsExceptForAwsServices(cardDataKey);
    denyGrantsExceptForAwsServices(cardFingerprintKey);
    this.cardVault = { table: cardVaultTable, dataKey: cardDataKey, fingerprintKey: cardFingerprintKey };

    this.adminTokenSecret = new secretsmanager.Secret(this, 'AdminTokenSecret', {
      description: 'Paystep platform admin bearer token (Authorization: Bearer <token> on POST /v1/merchants)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy,
    });
    this.secretsKeySecret = new secretsmanager.Secret(this, 'SecretsKeySecret', {
      description: 'Paystep PAYSTEP_SECRETS_KEY: AES-256 key (base64) for stored signing secrets and idempotent responses',
      // AesSecretCipher wants base64 of exactly 32 bytes. Secrets Manager cannot emit base64, but
      // 43 characters from [A-Za-z0-9] are valid unpadded base64 that decodes to 32 bytes and
      // carry ~256 bits of entropy (43 x log2(62)).
      generateSecretString: { passwordLength: SECRETS_KEY_LENGTH, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    this.pspCallbackSecret = new secretsmanager.Secret(this, 'PspCallbackSecret', {
      description:
        'Paystep SANDBOX_PSP_CALLBACK_SECRET: HMAC-SHA256 secret of the sandbox PSP callbacks (POST /v1/psp/sandbox/callbacks)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy,
    });
    // Stripe issues both values: the operator puts them (`aws secretsmanager put-secret-value`); the
    // generated placeholders are never valid Stripe values.
    this.stripeApiKeySecret = new secretsmanager.Secret(this, 'StripeApiKeySecret', {
      description:
        "Paystep STRIPE_API_KEY: the platform's Stripe secret key (sk_live_/sk_test_/rk_...), used only where platformConnectors lists stripe",
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      removalPolicy,
    });
    this.stripeWebhookSecret = new secretsmanager.Secret(this, 'StripeWebhookSecret', {
      description:
        'Paystep STRIPE_WEBHOOK_SECRET: signing secret (whsec_...) of the Stripe webhook endpoint <ApiUrl>/v1/psp/stripe/callbacks',
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      removalPolicy,
    });
    for (const secret of [this.stripeApiKeySecret, this.stripeWebhookSecret]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          "Issued by Stripe, not generated here: rotate it in Stripe's dashboard, then put the new value (the webhook secret with STRIPE_WEBHOOK_PREVIOUS_SECRET for the overlap).",
      });
    }
    Validations.of(this.pspCallbackSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Shared with the PSP, which must be given the new value first: rotate by setting SANDBOX_PSP_CALLBACK_PREVIOUS_SECRET to the old value for the overlap, then replacing this one.',
    });
    Validations.of(this.adminTokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The admin token is rotated by an operator (put a new value, functions pick it up on their next cold start); an automatic rotation Lambda would change it under operators without telling them.',
    });
    Validations.of(this.secretsKeySecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating this key without re-encrypting every stored webhook secret would make them unreadable; rotation needs a re-encryption job, tracked for the "Deployable on AWS" issue.',
    });

    this.network = new NetworkConstruct(this, 'Network', {
      natGateways: props.config.natGateways,
      removalPolicy,
      flowLogRetention: isProd ? RetentionDays.ONE_YEAR : RetentionDays.THREE_MONTHS,
    });

    // Control Tower proactive controls (lib/control-tower-guard.ts): the deliberate exceptions.
    acknowledgeGuardRule(this, GUARD_EXCEPTIONS.logGroupsWithoutKmsKey);
    if (!isProd) acknowledgeGuardRule(this, GUARD_EXCEPTIONS.devLogRetention);
    const defaultSgProvider = this.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    if (defaultSgProvider !== undefined) acknowledgeGuardRule(defaultSgProvider, GUARD_EXCEPTIONS.cdkProviderOutsideVpc);

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'CardVaultTableName', { value: cardVaultTable.tableName });
    new CfnOutput(this, 'AdminTokenSecretArn', {
      value: this.adminTokenSecret.secretArn,
      description: 'aws secretsmanager get-secret-value --secret-id <this> prints the admin token',
    });
    new CfnOutput(this, 'StripeApiKeySecretArn', {
      value: this.stripeApiKeySecret.secretArn,
      description: "Put the platform's Stripe secret key here (used only with -c platformConnectors=...,stripe)",
    });
    new CfnOutput(this, 'StripeWebhookSecretArn', {
      value: this.stripeWebhookSecret.secretArn,
      description: 'Put the whsec_ signing secret of the Stripe webhook endpoint <ApiUrl>/v1/psp/stripe/callbacks here',
    });
    new CfnOutput(this, 'PspCallbackSecretArn', {
      value: this.pspCallbackSecret.secretArn,
      description:
        'The PSP signs its callbacks to <ApiUrl>/v1/psp/sandbox/callbacks with this secret (get-secret-value prints it)',
    });
  }
}
