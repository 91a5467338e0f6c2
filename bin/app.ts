/**
 * CDK entry point (`npx cdk synth`, `npx cdk deploy`): creates the Paystep stacks and runs the
 * cdk-nag AwsSolutions rules on them. Every acknowledged finding is acknowledged next to the
 * resource it concerns, with its reason, in lib/.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addPaystepStacks } from '../lib/paystep-app';

const app = new App();
addPaystepStacks(app);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
