/**
 * AWS Control Tower's proactive controls, checked with cfn-guard at synth time
 * (`@cdklabs/cdk-validator-cfnguard`, registered in bin/app.ts next to cdk-nag). What should be
 * fixed is fixed where the resource is built; each deliberate exception is acknowledged here, next
 * to its reason, through CDK's own `Validations.acknowledge` (as the cdk-nag acknowledgements are),
 * and test/cdk/control-tower-guard.test.ts checks that the list stays exactly this.
 */
import { Aspects, Aws, Stack, Validations, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { CfnPermission } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/** The plugin's name: acknowledgement ids are `<plugin>::<guard rule name>`. */
export const CFN_GUARD_PLUGIN = 'cdk-validator-cfnguard';

/** The Control Tower rules Paystep deliberately does not follow, with the reason for each. */
export const GUARD_EXCEPTIONS = {
  /** CT.LAMBDA.PR.3 */
  lambdaOutsideVpc: {
    rule: 'lambda_inside_vpc_check',
    reason:
      'Only the functions that call merchant URLs (CapturePayment for the inventory confirmation and the result webhook, VoidAuthorization for the result webhook, the webhook dispatcher) need fixed egress IPs and run in the VPC; the others talk only to AWS APIs (DynamoDB, Secrets Manager, Step Functions) and the PSP over TLS with IAM, and a VPC would add ENI cold starts and NAT charges without reducing what they can reach.',
  },
  /** CT.LAMBDA.PR.3 on the functions that are in the VPC. */
  lambdaInVpcThroughImports: {
    rule: 'lambda_inside_vpc_check',
    reason:
      "This function is in the VPC's private subnets; its SubnetIds and SecurityGroupIds are cross-stack imports (Fn::ImportValue of the stateful stack's VPC), which the rule does not resolve and so reports as missing.",
  },
  /** CT.LAMBDA.PR.2 on the HTTP API's integration permissions. */
  apiPermissionsWithIntrinsicSource: {
    rule: 'lambda_function_public_access_prohibited_check',
    reason:
      "Each permission lets only apigateway.amazonaws.com invoke, with SourceArn = this HTTP API's execute-api ARN and SourceAccount = this account (AWS::AccountId, added by requireSourceAccountOnLambdaPermissions); the rule accepts only literal strings, which environment-agnostic stacks cannot carry.",
  },
  /** CT.LAMBDA.PR.3 on CDK's own custom-resource provider (restricting the default security group). */
  cdkProviderOutsideVpc: {
    rule: 'lambda_inside_vpc_check',
    reason:
      "CDK's provider function that removes the default security group's rules runs once per deployment and only calls the EC2 API; it is CDK-owned and has no VPC settings.",
  },
  /** CT.APIGATEWAY.PR.5 */
  routesWithoutGatewayAuthorizer: {
    rule: 'api_gw_v2_authorization_type_configured_check',
    reason:
      'Every route authenticates in its function (merchant secret key, admin token, checkout client secret, or the signature of a PSP callback, one scheme per route in lib/api-routes.ts); an API Gateway authorizer would duplicate the key lookup on every request and cannot express the signed-callback and client-secret schemes.',
  },
  /** CT.CLOUDWATCH.PR.3 */
  logGroupsWithoutKmsKey: {
    rule: 'cloudwatch_log_group_encrypted_check',
    reason:
      'CloudWatch Logs encrypts every log group at rest with AWS-owned keys; Paystep logs carry no card data, secrets or request bodies (a unit test checks this), so a customer-managed key per log group would add key policy coupling and cost without protecting anything sensitive.',
  },
  /** CT.CLOUDWATCH.PR.2, dev only (prod keeps one year). */
  devLogRetention: {
    rule: 'cloudwatch_log_group_retention_period_check',
    reason:
      'The dev stage keeps its logs for a month (flow logs three months) to keep a throwaway stack cheap; the prod stage keeps every log group for one year.',
  },
} as const;

/** Acknowledges one Control Tower rule on `scope` and everything under it, with its reason. */
export function acknowledgeGuardRule(
  scope: IConstruct,
  exception: (typeof GUARD_EXCEPTIONS)[keyof typeof GUARD_EXCEPTIONS],
): void {
  Validations.of(scope).acknowledge({ id: `${CFN_GUARD_PLUGIN}::${exception.rule}`, reason: exception.reason });
}

/**
 * CT.KMS.PR.3: only AWS services may create grants on the key (DynamoDB and SNS use grants for the
 * callers they serve); nobody else, even with `kms:*` from the account root statement.
 */
export function denyGrantsExceptForAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
}

/**
 * CT.LAMBDA.PR.2: every service-principal permission on a function names this account as
 * `SourceAccount` besides its `SourceArn` (the HTTP API integrations), so no other account's
 * resource can be the caller (confused deputy).
 */
class SourceAccountOnLambdaPermissions implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnPermission)) return;
    const principal = Stack.of(node).resolve(node.principal) as unknown;
    if (typeof principal === 'string' && principal.endsWith('.amazonaws.com') && node.sourceAccount === undefined) {
      node.sourceAccount = Aws.ACCOUNT_ID;
    }
  }
}

export function requireSourceAccountOnLambdaPermissions(scope: IConstruct): void {
  Aspects.of(scope).add(new SourceAccountOnLambdaPermissions());
}
