/**
 * Everything that can be redeployed at will: the HTTP API (one route per row of API_ROUTES), one
 * Lambda per API entry, the payment saga (the Standard state machine from
 * statemachines/checkout.asl.json and one Lambda per Task state in SAGA_STEPS). Stateful resources
 * (table, secrets, egress network) arrive through props from the stateful stack.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { API_ROUTES, routeKey, type ApiEntry } from './api-routes';
import { PaystepFunction, type CardVaultAccess, type CardVaultResources } from './constructs/paystep-function';
import { acknowledgeGuardRule, GUARD_EXCEPTIONS, requireSourceAccountOnLambdaPermissions } from './control-tower-guard';
import { MonitoringConstruct } from './monitoring-construct';
import type { PaystepConfig } from './paystep-config';
import { REPO_ROOT } from './repo-root';
import { CHECKOUT_STATE_MACHINE_FILE, SAGA_STEPS, type SagaState } from './saga-steps';

export interface StatelessStackProps extends StackProps {
  readonly config: PaystepConfig;
  readonly table: ITable;
  readonly adminTokenSecret: ISecret;
  readonly secretsKeySecret: ISecret;
  /** SANDBOX_PSP_CALLBACK_SECRET for the callback API (optional so older test stacks still synth). */
  readonly pspCallbackSecret?: ISecret;
  /** STRIPE_API_KEY: the platform's Stripe key, bound only where config.platformConnectors lists stripe. */
  readonly stripeApiKeySecret?: ISecret;
  /** STRIPE_WEBHOOK_SECRET for the callback API (Stripe-Signature of /v1/psp/stripe/callbacks). */
  readonly stripeWebhookSecret?: ISecret;
  /** The card vault (table and keys); bound to the functions whose needs list `cardVault`. */
  readonly cardVault: CardVaultResources;
  readonly vpc: ec2.IVpc;
  /** Private subnets whose internet traffic leaves through `egressIps`. */
  readonly egressSubnets: ec2.SubnetSelection;
  readonly egressIps: string[];
}

/** What each API entry needs beyond the table. Keyed by ApiEntry: a new entry fails to compile until listed. */
interface ApiFunctionNeeds {
  readonly description: string;
  /** ADMIN_TOKEN_HASH: authenticates the platform admin. */
  readonly adminToken?: boolean;
  /** PAYSTEP_SECRETS_KEY: encrypts or decrypts stored secrets (signing secrets, idempotent responses). */
  readonly secretsKey?: boolean;
  /** STATE_MACHINE_ARN + states:StartExecution. */
  readonly startsSaga?: boolean;
  /**
   * Calls the PSPs (financial-instrument captures, refunds, revokes): SANDBOX_PSP_URL and the
   * connector settings (bindConnectorSettings), PAYSTEP_SECRETS_KEY included to decrypt a merchant's
   * own connector credentials.
   */
  readonly callsPsp?: boolean;
  /** false: never touches the table (no TABLE_NAME, no grant). Default true. */
  readonly table?: boolean;
  /** SANDBOX_PSP_CALLBACK_SECRET, STRIPE_WEBHOOK_SECRET + states:SendTask* on the saga: verifies PSP callbacks and resumes waiting sagas. */
  readonly pspCallbacks?: boolean;
  /** PAYSTEP_PLATFORM_CONNECTORS only: lists and validates the merchant's connectors (calls no PSP). */
  readonly connectorAccounts?: boolean;
  /** The card vault (bindCardVault): `store` vaults and manages cards; `reveal` (kms:Decrypt) is for connector functions only. */
  readonly cardVault?: CardVaultAccess;
}

const API_FUNCTIONS: Record<ApiEntry, ApiFunctionNeeds> = {
  // Every entry with an idempotent POST needs PAYSTEP_SECRETS_KEY: stored idempotent responses
  // carry secret keys and client secrets and are encrypted with it (lambdas/shared/idempotency.ts).
  'api-merchants': { description: 'Onboards merchants (platform admin only)', adminToken: true, secretsKey: true },
  'api-settings': { description: 'Reads and updates merchant settings (inventory confirmation, return URLs)' },
  'api-checkouts': { description: 'Creates, reads, looks up and cancels checkouts', secretsKey: true },
  'api-pay': {
    description: 'Pays a checkout (starts its saga execution) and answers the pending-page poll',
    secretsKey: true,
    startsSaga: true,
    // Checks a pm_ may pay the checkout: metadata only, never a card.
    cardVault: 'read',
  },
  'api-webhook-endpoints': {
    description: "Manages the merchant's webhook endpoints and their signing secrets",
    secretsKey: true,
  },
  'api-instruments': {
    description: 'Financial instruments: create, read, capture, refund and revoke with exact balances (calls the PSP)',
    secretsKey: true,
    callsPsp: true,
  },
  'api-newstore': {
    description:
      "NewStore's payment-provider routes (/newstore/financial_instruments...) over the same instrument ledger (calls the PSP)",
    callsPsp: true,
  },
  'api-events': {
    description: "Lists the merchant's events with their webhook delivery log and re-queues deliveries",
    secretsKey: true,
  },
  'web-checkout': {
    description: 'Serves the hosted checkout page (HTML; the browser calls the API itself)',
    table: false,
  },
  'api-operator': {
    description: 'Operator view: attempts, authorization rate and failovers per connector in the last hour (platform admin only)',
    adminToken: true,
  },
  'api-openapi': { description: 'Serves the OpenAPI 3.1 document of the API (no auth, no table)', table: false },
  'api-customers': { description: "Creates and reads the merchant's customers", secretsKey: true },
  'api-payment-methods': {
    description:
      'The card vault function: vaults cards (envelope encryption), reads, detaches and lists payment methods, deletes customers (crypto-shreds their cards)',
    secretsKey: true,
    cardVault: 'store',
  },
  'api-connectors': {
    description: "The merchant's connector accounts (credentials stored encrypted, never returned) and routing rules",
    secretsKey: true,
    connectorAccounts: true,
  },
  'api-psp-callbacks': {
    description:
      'Receives signed PSP callbacks: dedupes, applies them as forward transitions, resumes waiting sagas, records disputes',
    pspCallbacks: true,
  },
};

/** What each saga step needs beyond the table. Keyed by SagaState: a new step fails to compile until listed. */
interface SagaFunctionNeeds {
  readonly description: string;
  /** Calls merchant URLs: runs in the private subnets so requests leave from the whitelisted Elastic IPs. */
  readonly merchantEgress?: boolean;
  /** SANDBOX_PSP_URL and the connector settings (bindConnectorSettings, PAYSTEP_SECRETS_KEY included): calls the PSPs. */
  readonly callsPsp?: boolean;
  /** PAYSTEP_SECRETS_KEY: signs requests to the merchant with the merchant's stored secret. */
  readonly secretsKey?: boolean;
  /** states:SendTaskSuccess/Failure/Heartbeat: resumes its own `.waitForTaskToken` wait when the result is already in. */
  readonly taskTokens?: boolean;
  /** The card vault (bindCardVault); `reveal` hands a vaulted card to the connector. */
  readonly cardVault?: CardVaultAccess;
}

const SAGA_FUNCTIONS: Record<SagaState, SagaFunctionNeeds> = {
  AuthorizePayment: { description: 'Saga: authorizes the payment at the PSP', callsPsp: true, cardVault: 'reveal' },
  CapturePayment: {
    description:
      "Saga: confirms inventory with the merchant's backend (10 s), captures, records succeeded and sends the result webhook",
    callsPsp: true,
    // The inventory confirmation and the result webhook go to merchant URLs, signed with the merchant's stored secret.
    merchantEgress: true,
    secretsKey: true,
    // save_payment_method: the customer's card is saved before the terminal write (no decrypt).
    cardVault: 'attach',
  },
  VoidAuthorization: {
    description: 'Saga: voids the authorization, records failed and sends the result webhook',
    callsPsp: true,
    merchantEgress: true,
    secretsKey: true,
  },
  AwaitAuthorization: {
    description: 'Saga: parks the task token of a pending PSP authorization (.waitForTaskToken) for the callback handler',
    callsPsp: true,
    taskTokens: true,
  },
  AwaitAuthentication: {
    description:
      'Saga: parks the task token while the buyer is at a 3-D Secure challenge (.waitForTaskToken) and publishes payment.requires_action',
    callsPsp: true,
    taskTokens: true,
  },
};

/**
 * The reconciliation sweep (lambdas/reconciliation-sweep): every few minutes it heartbeats sagas
 * waiting for a PSP callback and drives checkouts stuck in processing (no running saga) to a
 * terminal state from the PSP's status. `stuckAfterMinutes` is the bound.
 */
export const RECONCILIATION_SWEEP = { everyMinutes: 5, stuckAfterMinutes: 15, leaseSeconds: 120, timeoutSeconds: 120 } as const;

/** The saga's task-token callbacks (SendTaskSuccess and friends), granted on the state machine. */
const TASK_TOKEN_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'];

/**
 * Seconds a saga Lambda may run beyond its Task's TimeoutSeconds. The Task timeout must always fire
 * first, so a slow merchant ends as `States.Timeout` (inventory_timeout) and never as a Lambda
 * timeout error (which the ASL would classify as inventory_unreachable).
 */
export const SAGA_LAMBDA_TIMEOUT_MARGIN_SECONDS = 5;

/**
 * The webhook dispatcher: an EventBridge rule invokes it every minute; each run keeps polling for
 * due deliveries for `runForMs` (every `pollMs`), so the schedule's 5 s retry is not stretched to a
 * minute. Its timeout leaves room for one last 15 s webhook request after the run window.
 */
export const WEBHOOK_DISPATCHER = { runForMs: 40_000, pollMs: 2_000, timeoutSeconds: 70 } as const;

/** API stage throttling: protects the table and the PSP from a runaway client. */
export const API_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

interface AslTaskState {
  readonly Type: string;
  readonly Resource?: string;
  readonly TimeoutSeconds?: number;
  readonly Parameters?: { readonly FunctionName?: string };
}

/** Lambda timeout (before the margin) of a `.waitForTaskToken` step: it parks the token and queries the PSP once. */
const WAIT_STEP_FUNCTION_SECONDS = 25;

/** The `.waitForTaskToken` Lambda integration: the function is named in Parameters.FunctionName. */
export const WAIT_FOR_TASK_TOKEN_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** `api-checkouts` -> `ApiCheckouts`, `CapturePayment` stays. */
function toPascalCase(name: string): string {
  return name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/**
 * Reads the one ASL file and checks, at synth time, that its Task states and SAGA_STEPS agree:
 * every Task references `${<State>FunctionArn}` for a state listed in SAGA_STEPS, and every listed
 * state is a Task. A mismatch would otherwise deploy a state machine that fails at its first run.
 */
export function readCheckoutAsl(): { text: string; tasks: Record<SagaState, AslTaskState> } {
  const text = readFileSync(resolve(REPO_ROOT, CHECKOUT_STATE_MACHINE_FILE), 'utf8');
  const states = (JSON.parse(text) as { States: Record<string, AslTaskState> }).States;
  const tasks = {} as Record<SagaState, AslTaskState>;
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== 'Task') continue;
    const placeholder = `\${${name}FunctionArn}`;
    const direct = state.Resource === placeholder;
    const waits = state.Resource === WAIT_FOR_TASK_TOKEN_RESOURCE && state.Parameters?.FunctionName === placeholder;
    if (!(name in SAGA_STEPS) || !(direct || waits)) {
      throw new Error(
        `ASL Task ${name} must be listed in SAGA_STEPS and use Resource "\${${name}FunctionArn}" (or ${WAIT_FOR_TASK_TOKEN_RESOURCE} with that FunctionName)`,
      );
    }
    tasks[name as SagaState] = state;
  }
  for (const name of Object.keys(SAGA_STEPS)) {
    if (!(name in tasks))
      throw new Error(`SAGA_STEPS lists ${name}, which is not a Task state in ${CHECKOUT_STATE_MACHINE_FILE}`);
  }
  return { text, tasks };
}

export class StatelessStack extends Stack {
  readonly httpApi: apigwv2.HttpApi;
  readonly apiStage: apigwv2.HttpStage;
  readonly stateMachine: sfn.StateMachine;
  readonly apiFunctions: ReadonlyMap<ApiEntry, PaystepFunction>;
  readonly sagaFunctions: ReadonlyMap<SagaState, PaystepFunction>;
  /** Retries merchant webhooks (lambdas/webhook-dispatcher), on an every-minute schedule. */
  readonly webhookDispatcher: PaystepFunction;
  /** Heartbeats waiting sagas and recovers stuck checkouts (lambdas/reconciliation-sweep), on a schedule. */
  readonly reconciliationSweep: PaystepFunction;
  /** Alarms (saga failures, dead-lettered webhooks, API 5xx rate, every function) and their SNS topic. */
  readonly monitoring: MonitoringConstruct;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config } = props;
    const isProd = config.stage === 'prod';
    const logRemovalPolicy = isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = isProd ? RetentionDays.ONE_YEAR : RetentionDays.ONE_MONTH;
    // Control Tower proactive controls (lib/control-tower-guard.ts): fixes and deliberate exceptions.
    requireSourceAccountOnLambdaPermissions(this);
    acknowledgeGuardRule(this, GUARD_EXCEPTIONS.logGroupsWithoutKmsKey);
    if (!isProd) acknowledgeGuardRule(this, GUARD_EXCEPTIONS.devLogRetention);

    // ---- Saga: one function per Task state, then the state machine from the one ASL file ----
    const asl = readCheckoutAsl();
    /**
     * The connector settings of a function (DESIGN Part 2 "Connectors"): PAYSTEP_PLATFORM_CONNECTORS
     * everywhere it is given; for PSP callers (`psp`) and the callback API (`callbacks`) also
     * STRIPE_API_URL when configured and the platform's STRIPE_API_KEY only where the platform
     * enables stripe; the callback API also STRIPE_WEBHOOK_SECRET. PAYSTEP_SECRETS_KEY (a merchant's
     * own credentials) is bound with the function's other secrets.
     */
    const platformStripe = config.platformConnectors.includes('stripe');
    const bindConnectorSettings = (fn: PaystepFunction, use: 'psp' | 'callbacks' | 'accounts'): void => {
      fn.addEnvironment('PAYSTEP_PLATFORM_CONNECTORS', config.platformConnectors.join(','));
      if (use === 'accounts') return;
      if (config.stripeApiUrl !== undefined) fn.addEnvironment('STRIPE_API_URL', config.stripeApiUrl);
      if (platformStripe && props.stripeApiKeySecret !== undefined) fn.bindSecret('STRIPE_API_KEY', props.stripeApiKeySecret);
      if (use === 'callbacks' && props.stripeWebhookSecret !== undefined)
        fn.bindSecret('STRIPE_WEBHOOK_SECRET', props.stripeWebhookSecret);
    };
    const sagaFunctions = new Map<SagaState, PaystepFunction>();
    for (const [state, entryName] of Object.entries(SAGA_STEPS) as [SagaState, string][]) {
      const needs = SAGA_FUNCTIONS[state];
      // A `.waitForTaskToken` Task's TimeoutSeconds bounds the wait, not the function (which only parks the token).
      const taskTimeout =
        asl.tasks[state].Resource === WAIT_FOR_TASK_TOKEN_RESOURCE
          ? WAIT_STEP_FUNCTION_SECONDS
          : (asl.tasks[state].TimeoutSeconds ?? 60);
      const fn = new PaystepFunction(this, toPascalCase(entryName), {
        entryName,
        description: needs.description,
        timeout: Duration.seconds(taskTimeout + SAGA_LAMBDA_TIMEOUT_MARGIN_SECONDS),
        logRetention,
        logRemovalPolicy,
        ...(needs.merchantEgress === true ? { vpc: props.vpc, vpcSubnets: props.egressSubnets } : {}),
        ...(needs.callsPsp === true ? { environment: { SANDBOX_PSP_URL: config.sandboxPspUrl } } : {}),
      });
      fn.bindTable({ table: props.table, access: 'readWrite' });
      if (needs.secretsKey === true || needs.callsPsp === true) fn.bindSecret('PAYSTEP_SECRETS_KEY', props.secretsKeySecret);
      if (needs.callsPsp === true) bindConnectorSettings(fn, 'psp');
      if (needs.cardVault !== undefined) fn.bindCardVault({ vault: props.cardVault, access: needs.cardVault });
      sagaFunctions.set(state, fn);
    }
    this.sagaFunctions = sagaFunctions;

    const stateMachineLogGroup = new LogGroup(this, 'CheckoutStateMachineLogGroup', {
      // The vendedlogs prefix keeps CloudWatch Logs' resource policy small (AWS recommendation).
      logGroupName: `/aws/vendedlogs/states/${this.stackName}-checkout`,
      retention: logRetention,
      removalPolicy: logRemovalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'CheckoutStateMachine', {
      comment: 'Paystep payment saga, one Standard execution per paid checkout',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(asl.text),
      definitionSubstitutions: Object.fromEntries(
        [...sagaFunctions].map(([state, fn]) => [`${state}FunctionArn`, fn.functionArn]),
      ),
      // Saga payloads carry ids, statuses and PSP references only (never card data or secrets).
      logs: { destination: stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    // The ASL is a string, so CDK cannot infer the invoke grant: name each step's function, unqualified
    // (the ASL invokes $LATEST), and nothing else. No resource policy on the functions: only this role can invoke them.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeSagaSteps',
        actions: ['lambda:InvokeFunction'],
        resources: [...sagaFunctions.values()].map((fn) => fn.functionArn),
      }),
    );
    // Saga steps that resume their own wait: a separate policy (not the role's default policy, which
    // the function depends on) so function -> policy -> state machine -> function is no cycle.
    const taskTokenSteps = [...sagaFunctions].filter(([state]) => SAGA_FUNCTIONS[state].taskTokens === true).map(([, fn]) => fn);
    if (taskTokenSteps.length > 0) {
      new iam.Policy(this, 'SagaTaskTokenPolicy', {
        statements: [
          new iam.PolicyStatement({
            sid: 'ResumeOwnWait',
            actions: TASK_TOKEN_ACTIONS,
            resources: [this.stateMachine.stateMachineArn],
          }),
        ],
        roles: taskTokenSteps.map((fn) => fn.executionRole),
      });
    }
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray (PutTraceSegments, GetSamplingRules) support no resource-level permissions. Lambda invokes are scoped to the six saga functions (checked in test/cdk).',
    });

    // ---- HTTP API: a $default stage with throttling and access logs, one route per API_ROUTES row ----
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Paystep public API (/v1)',
      createDefaultStage: false,
    });
    acknowledgeGuardRule(this.httpApi, GUARD_EXCEPTIONS.routesWithoutGatewayAuthorizer);
    acknowledgeGuardRule(this.httpApi, GUARD_EXCEPTIONS.apiPermissionsWithIntrinsicSource);
    const accessLogGroup = new LogGroup(this, 'ApiAccessLogGroup', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.apiStage = new apigwv2.HttpStage(this, 'ApiDefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: API_THROTTLE,
      // No headers, no query string, no body: Authorization and merchant data never reach the access log.
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    const publicCheckoutBaseUrl = config.publicCheckoutBaseUrl ?? this.apiStage.url;
    // The saga renders the checkout (its URL included) into merchant webhooks, and its wiring reads
    // the setting at cold start (test/cdk/bundle-budget.test.ts loads every bundle with its env).
    for (const fn of sagaFunctions.values()) fn.addEnvironment('PUBLIC_CHECKOUT_BASE_URL', publicCheckoutBaseUrl);

    const apiFunctions = new Map<ApiEntry, PaystepFunction>();
    const apiEntries = [...new Set(API_ROUTES.map((route) => route.entry))];
    for (const entryName of apiEntries) {
      const needs = API_FUNCTIONS[entryName];
      const fn = new PaystepFunction(this, toPascalCase(entryName), {
        entryName,
        description: needs.description,
        timeout: Duration.seconds(10),
        logRetention,
        logRemovalPolicy,
        environment: {
          PUBLIC_CHECKOUT_BASE_URL: publicCheckoutBaseUrl,
          ...(needs.callsPsp === true ? { SANDBOX_PSP_URL: config.sandboxPspUrl } : {}),
        },
      });
      if (needs.table !== false) fn.bindTable({ table: props.table, access: 'readWrite' });
      if (needs.adminToken === true) fn.bindSecret('ADMIN_TOKEN_HASH', props.adminTokenSecret);
      if (needs.secretsKey === true || needs.callsPsp === true) fn.bindSecret('PAYSTEP_SECRETS_KEY', props.secretsKeySecret);
      if (needs.callsPsp === true) bindConnectorSettings(fn, 'psp');
      if (needs.pspCallbacks === true) bindConnectorSettings(fn, 'callbacks');
      if (needs.connectorAccounts === true) bindConnectorSettings(fn, 'accounts');
      if (needs.startsSaga === true) fn.bindStateMachine(this.stateMachine);
      if (needs.cardVault !== undefined) fn.bindCardVault({ vault: props.cardVault, access: needs.cardVault });
      if (needs.pspCallbacks === true) {
        if (props.pspCallbackSecret !== undefined) fn.bindSecret('SANDBOX_PSP_CALLBACK_SECRET', props.pspCallbackSecret);
        fn.executionRole.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'ResumeWaitingSagas',
            actions: TASK_TOKEN_ACTIONS,
            resources: [this.stateMachine.stateMachineArn],
          }),
        );
      }
      apiFunctions.set(entryName, fn);
    }
    this.apiFunctions = apiFunctions;

    const integrations = new Map(
      [...apiFunctions].map(([entry, fn]) => [entry, new HttpLambdaIntegration(`${toPascalCase(entry)}Integration`, fn)]),
    );
    for (const route of API_ROUTES) {
      const [httpRoute] = this.httpApi.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: integrations.get(route.entry)!,
      });
      Validations.of(httpRoute!).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          route.entry === 'api-openapi'
            ? `${routeKey(route)} is the public API description (no data, no secrets), meant to be read without credentials.`
            : route.entry === 'api-psp-callbacks'
              ? `${routeKey(route)} is called by the PSP, which holds no Paystep credential: the handler verifies the HMAC signature over the raw body (timestamp tolerance, constant-time compare) before reading anything.`
              : `${routeKey(route)} authenticates in its handler: merchant secret keys, checkout client secrets and the admin token are all bearer tokens compared by hash against the table, which an API Gateway authorizer would only duplicate.`,
      });
    }

    // ---- Webhook dispatcher: retries due deliveries from the table (claimed with a lease) ----
    this.webhookDispatcher = new PaystepFunction(this, 'WebhookDispatcher', {
      entryName: 'webhook-dispatcher',
      description: 'Retries merchant webhook deliveries on the retry schedule (claims due deliveries with a lease)',
      timeout: Duration.seconds(WEBHOOK_DISPATCHER.timeoutSeconds),
      logRetention,
      logRemovalPolicy,
      // Calls merchant URLs: leaves through the whitelisted Elastic IPs like the saga's terminal steps.
      vpc: props.vpc,
      vpcSubnets: props.egressSubnets,
      environment: {
        PAYSTEP_WEBHOOK_DISPATCH_RUN_MS: String(WEBHOOK_DISPATCHER.runForMs),
        PAYSTEP_WEBHOOK_DISPATCH_POLL_MS: String(WEBHOOK_DISPATCHER.pollMs),
      },
    });
    this.webhookDispatcher.bindTable({ table: props.table, access: 'readWrite' });
    this.webhookDispatcher.bindSecret('PAYSTEP_SECRETS_KEY', props.secretsKeySecret);
    new events.Rule(this, 'WebhookDispatchSchedule', {
      description: 'Runs the webhook dispatcher every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      // A missed run is harmless (the next one finds the same due deliveries): no retries, no DLQ.
      targets: [new eventsTargets.LambdaFunction(this.webhookDispatcher, { retryAttempts: 0 })],
    });

    // ---- Reconciliation sweep: no payment stuck in processing, no authorization forgotten ----
    this.reconciliationSweep = new PaystepFunction(this, 'ReconciliationSweep', {
      entryName: 'reconciliation-sweep',
      description:
        'Heartbeats sagas waiting for PSP callbacks; drives checkouts stuck in processing to a terminal state from the PSP status',
      timeout: Duration.seconds(RECONCILIATION_SWEEP.timeoutSeconds),
      logRetention,
      logRemovalPolicy,
      // Notifies merchants of what it recovered: leaves through the whitelisted Elastic IPs.
      vpc: props.vpc,
      vpcSubnets: props.egressSubnets,
      environment: {
        SANDBOX_PSP_URL: config.sandboxPspUrl,
        PUBLIC_CHECKOUT_BASE_URL: publicCheckoutBaseUrl,
        PAYSTEP_RECOVERY_AFTER_MS: String(RECONCILIATION_SWEEP.stuckAfterMinutes * 60_000),
        PAYSTEP_RECOVERY_LEASE_MS: String(RECONCILIATION_SWEEP.leaseSeconds * 1000),
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
      },
    });
    this.reconciliationSweep.bindTable({ table: props.table, access: 'readWrite' });
    this.reconciliationSweep.bindSecret('PAYSTEP_SECRETS_KEY', props.secretsKeySecret);
    // Finishing a checkout succeeded saves its card on the customer, as CapturePayment does (no decrypt).
    this.reconciliationSweep.bindCardVault({ vault: props.cardVault, access: 'attach' });
    bindConnectorSettings(this.reconciliationSweep, 'psp');
    this.reconciliationSweep.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ResumeWaitingSagas',
        actions: TASK_TOKEN_ACTIONS,
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
    this.reconciliationSweep.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InspectSagaExecutions',
        actions: ['states:DescribeExecution'],
        resources: [
          Stack.of(this).formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${this.stateMachine.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    Validations.of(this.reconciliationSweep.executionRole.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${Stack.of(this).getLogicalId(this.stateMachine.node.defaultChild as sfn.CfnStateMachine)}.Name>:*]`,
      reason:
        "DescribeExecution on this state machine's executions only: execution names are the checkout ids, unknown until run time.",
    });
    new events.Rule(this, 'ReconciliationSweepSchedule', {
      description: `Runs the reconciliation sweep every ${RECONCILIATION_SWEEP.everyMinutes} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(RECONCILIATION_SWEEP.everyMinutes)),
      // A missed run is harmless: the next one finds the same watch list.
      targets: [new eventsTargets.LambdaFunction(this.reconciliationSweep, { retryAttempts: 0 })],
    });

    // ---- Alarms (keep after every function: it alarms on each PaystepFunction of this stack) ----
    const sagaFunctionSet = new Set<PaystepFunction>(sagaFunctions.values());
    this.monitoring = new MonitoringConstruct(this, 'Monitoring', {
      stateMachine: this.stateMachine,
      httpApi: this.httpApi,
      alarmEmail: config.alarmEmail,
      functions: this.node.children
        .filter((child): child is PaystepFunction => child instanceof PaystepFunction)
        .map((fn) => ({ name: fn.node.id, fn, errorsAreOutcomes: sagaFunctionSet.has(fn) })),
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.apiStage.url,
      description: 'Base URL of the public API (routes start with /v1)',
    });
    new CfnOutput(this, 'EgressIps', {
      value: Fn.join(',', props.egressIps),
      description: 'Merchants whitelist these: inventory confirmations and webhooks come only from them',
    });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.monitoring.alarmTopic.topicArn,
      description: 'Every Paystep alarm publishes here (subscribe with -c alarmEmail=... or aws sns subscribe)',
    });
  }
}
