/**
 * Egress network for the functions that call merchant URLs (inventory confirmation, webhooks):
 * a VPC whose private subnets reach the internet only through NAT gateways with Elastic IPs that
 * this construct allocates itself. Merchants whitelist those IPs, so they live in the stateful
 * stack and survive every redeploy of the functions.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkConstructProps {
  /** One NAT gateway (and Elastic IP) per AZ, up to 2. */
  readonly natGateways: number;
  /** RETAIN in prod: a released Elastic IP cannot be recovered, and merchants whitelist it. */
  readonly removalPolicy: RemovalPolicy;
  /** @default three months */
  readonly flowLogRetention?: RetentionDays;
}

export class NetworkConstruct extends Construct {
  readonly vpc: ec2.Vpc;
  /** The Elastic IPs' public addresses (tokens until deploy), in NAT gateway order. */
  readonly egressIps: string[];
  /** Where egress-dependent functions run: private subnets routed through the NAT gateways. */
  readonly egressSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

  constructor(scope: Construct, id: string, props: NetworkConstructProps) {
    super(scope, id);

    const elasticIps = Array.from({ length: props.natGateways }, (_, index) => {
      const eip = new ec2.CfnEIP(this, `EgressIp${index + 1}`, {
        domain: 'vpc',
        tags: [{ key: 'Name', value: `paystep-egress-${index + 1}` }],
      });
      eip.applyRemovalPolicy(props.removalPolicy);
      return eip;
    });
    this.egressIps = elasticIps.map((eip) => eip.attrPublicIp);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: elasticIps.map((eip) => eip.attrAllocationId) }),
      subnetConfiguration: [
        // Only the NAT gateways live here, on their own Elastic IPs: nothing gets a public IP by default (CT.EC2.PR.11).
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'Egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      // DynamoDB traffic from the private subnets stays on the AWS network and off the NAT bill.
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
    });

    const flowLogGroup = new LogGroup(this, 'FlowLogGroup', {
      retention: props.flowLogRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: props.removalPolicy,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }
}
