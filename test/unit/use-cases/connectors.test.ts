/**
 * Connector accounts and routing rules (lambdas/use-cases/connectors/) with port fakes: credentials
 * stored only as ciphertext, a connector the merchant has not enabled is refused with its param.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/errors';
import { addConnectorAccount, listConnectorAccounts } from '../../../lambdas/use-cases/connectors/connector-accounts';
import { getRouting, updateRouting } from '../../../lambdas/use-cases/connectors/routing';
import type { SecretCipher } from '../../../lambdas/ports/secrets';
import { aMerchant, FakeMerchants } from '../fakes';

/** A cipher whose ciphertext does not contain the plaintext (base64), so "never stored in clear" can fail. */
const fakeCipher: SecretCipher = {
  encrypt: async (plaintext) => `enc:${Buffer.from(plaintext).toString('base64')}`,
  decrypt: async (ciphertext) => Buffer.from(ciphertext.replace(/^enc:/, ''), 'base64').toString(),
};

const RULES = { rules: [{ conditions: { currency: ['EUR'] }, connectors: ['stripe'] }], default: ['sandbox'], failover: true };

describe('connector accounts', () => {
  it('stores the credentials only as ciphertext and lists the connector as the merchant’s own', async () => {
    // Prepare
    const merchants = new FakeMerchants();
    const merchant = aMerchant();
    await merchants.createMerchant(merchant);
    const deps = { merchants, cipher: fakeCipher, platformConnectors: ['sandbox'] };
    // Act
    const view = await addConnectorAccount(deps, { merchant, connector: 'stripe', credentials: { api_key: 'sk_live_abc123' } });
    // Assess
    const stored = (await merchants.getMerchant(merchant.id))!;
    expect(view).toMatchObject({ connector: 'stripe', credentials: 'merchant' });
    expect(JSON.stringify(stored.connectorAccounts)).not.toContain('sk_live_abc123');
    expect(JSON.parse(await fakeCipher.decrypt(stored.connectorAccounts![0]!.credentialsCiphertext))).toEqual({
      api_key: 'sk_live_abc123',
    });
    expect(listConnectorAccounts(deps, stored).map((account) => [account.connector, account.credentials])).toEqual([
      ['sandbox', 'platform'],
      ['stripe', 'merchant'],
    ]);
  });

  it('refuses a credential field the connector does not take, with its param', async () => {
    // Prepare
    const merchants = new FakeMerchants();
    const merchant = aMerchant();
    await merchants.createMerchant(merchant);
    // Act
    const attempt = addConnectorAccount(
      { merchants, cipher: fakeCipher, platformConnectors: ['sandbox'] },
      { merchant, connector: 'stripe', credentials: { api_key: 'sk_test_1', password: 'x' } },
    );
    // Assess
    await expect(attempt).rejects.toMatchObject({ status: 422, param: 'credentials.password' });
  });
});

describe('routing rules', () => {
  it('reads the default routing (sandbox, no failover) for a merchant that set none', () => {
    expect(getRouting(aMerchant())).toEqual({ rules: [], default: ['sandbox'], failover: false });
  });

  it('refuses a connector the merchant has not enabled 422 connector_not_enabled, naming where it is', async () => {
    // Prepare: only sandbox is enabled (no stripe account, platform enables sandbox only)
    const merchants = new FakeMerchants();
    const merchant = aMerchant();
    await merchants.createMerchant(merchant);
    // Act
    const error = await updateRouting({ merchants, platformConnectors: ['sandbox'] }, { merchant, routing: RULES }).catch(
      (caught: unknown) => caught,
    );
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 422, code: 'connector_not_enabled', param: 'rules.0.connectors.0' });
    expect((await merchants.getMerchant(merchant.id))?.routing).toBeUndefined();
  });

  it('stores rules whose connectors are all enabled', async () => {
    // Prepare
    const merchants = new FakeMerchants();
    const merchant = aMerchant();
    await merchants.createMerchant(merchant);
    // Act
    const stored = await updateRouting({ merchants, platformConnectors: ['sandbox', 'stripe'] }, { merchant, routing: RULES });
    // Assess
    expect(stored).toEqual(RULES);
    expect((await merchants.getMerchant(merchant.id))?.routing).toEqual(RULES);
  });
});
