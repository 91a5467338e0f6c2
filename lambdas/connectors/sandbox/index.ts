/**
 * The `sandbox` connector (DESIGN "Sandbox PSP"): its gateway, callback reader, status mapping and
 * configuration, behind the one Connector interface the registry lists.
 */
import type { Connector } from '../registry';
import { sandboxCallbackReader } from './callbacks';
import { sandboxCallbackSecretsFromEnv, sandboxGatewayOptionsFromEnv } from './config';
import { SandboxPspGateway } from './gateway';

export const sandboxConnector: Connector = {
  id: 'sandbox',
  async gatewayFromEnv() {
    const options = sandboxGatewayOptionsFromEnv();
    return options === undefined ? undefined : new SandboxPspGateway(options);
  },
  async callbackReaderFromEnv() {
    const secrets = await sandboxCallbackSecretsFromEnv();
    return secrets.length === 0 ? undefined : sandboxCallbackReader(secrets);
  },
};
