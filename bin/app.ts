/**
 * CDK entry point (`npx cdk synth`, `npx cdk deploy`): creates the Paystep stacks and runs the
 * cdk-nag AwsSolutions rules and AWS Control Tower's proactive controls (cfn-guard) on them. Every
 * acknowledged finding is acknowledged next to the resource it concerns, with its reason, in lib/
 * (the Control Tower ones in lib/control-tower-guard.ts).
 */
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addPaystepStacks } from '../lib/paystep-app';

const app = new App();
addPaystepStacks(app);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new CfnGuardValidator({}));
app.synth();
