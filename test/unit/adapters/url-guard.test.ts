/**
 * The SSRF guard: which addresses are never called (private, loopback, link-local incl. cloud
 * metadata, CGNAT, ULA, multicast, reserved, IPv4-mapped), https-only in production, loopback
 * only with the explicit local setting, the configuration-time check with a resolver, and the
 * connect-time lookup guard that defeats DNS rebinding.
 */
import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postToMerchant } from '../../../lambdas/adapters/merchant-http';
import {
  assertSafeUrl,
  createGuardedLookup,
  LOCAL_URL_POLICY,
  merchantPortRefusal,
  STRICT_URL_POLICY,
  unsafeAddressReason,
  unsafeUrlReasonWithoutDns,
  urlPolicyFromEnv,
  withMerchantPorts,
} from '../../../lambdas/adapters/url-guard';
import { UnsafeUrlError } from '../../../lambdas/errors';
import { freePort } from '../../../local/net';

describe('unsafeAddressReason', () => {
  it.each([
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique local'],
    ['fc00::abcd', 'unique local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped link-local'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['2002:a00:1::1', '6to4'],
  ])('refuses %s (%s) in production', (address, why) => {
    expect(unsafeAddressReason(address, STRICT_URL_POLICY)).toContain(why);
  });

  it.each([['93.184.216.34'], ['8.8.8.8'], ['172.32.0.1'], ['100.128.0.1'], ['2606:4700:4700::1111'], ['::ffff:8.8.8.8']])(
    'allows the public address %s',
    (address) => {
      expect(unsafeAddressReason(address, STRICT_URL_POLICY)).toBeUndefined();
    },
  );

  it('allows loopback only under the local policy, and never private or metadata addresses', () => {
    expect(unsafeAddressReason('127.0.0.1', LOCAL_URL_POLICY)).toBeUndefined();
    expect(unsafeAddressReason('::1', LOCAL_URL_POLICY)).toBeUndefined();
    expect(unsafeAddressReason('169.254.169.254', LOCAL_URL_POLICY)).toContain('link-local');
    expect(unsafeAddressReason('10.0.0.1', LOCAL_URL_POLICY)).toContain('private');
  });
});

describe('urlPolicyFromEnv', () => {
  it('is production unless PAYSTEP_MODE=local, and loopback needs ALLOW_LOOPBACK_URLS=true on top', () => {
    expect(urlPolicyFromEnv({})).toEqual(STRICT_URL_POLICY);
    expect(urlPolicyFromEnv({ ALLOW_LOOPBACK_URLS: 'true' })).toEqual(STRICT_URL_POLICY);
    expect(urlPolicyFromEnv({ PAYSTEP_MODE: 'local' })).toEqual({ allowHttp: true, allowLoopback: false, allowAnyPort: true });
    expect(urlPolicyFromEnv({ PAYSTEP_MODE: 'local', ALLOW_LOOPBACK_URLS: 'true' })).toEqual(LOCAL_URL_POLICY);
  });
});

describe('unsafeUrlReasonWithoutDns (production)', () => {
  it.each([
    ['https://10.0.0.1/hooks', 'private address (10.0.0.0/8) (10.0.0.1)'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://[::1]/hooks', 'loopback address (::1)'],
    ['https://[::ffff:169.254.169.254]/x', 'IPv4-mapped link-local'],
    ['https://localhost/hooks', 'loopback host (localhost)'],
    ['https://api.localhost/hooks', 'loopback host'],
    ['http://merchant.example/hooks', 'must use https'],
    ['https://user:pw@merchant.example/hooks', 'credentials'],
    ['ftp://merchant.example/x', 'must use https'],
    ['not a url', 'absolute URL'],
  ])('refuses %s', (url, reason) => {
    expect(unsafeUrlReasonWithoutDns(url, STRICT_URL_POLICY)).toContain(reason);
  });

  it('accepts a public https URL, and http + loopback under the local policy', () => {
    expect(unsafeUrlReasonWithoutDns('https://merchant.example/hooks', STRICT_URL_POLICY)).toBeUndefined();
    expect(unsafeUrlReasonWithoutDns('http://127.0.0.1:3002/webhooks', LOCAL_URL_POLICY)).toBeUndefined();
  });
});

describe('assertSafeUrl (configuration time)', () => {
  const resolver = (table: Record<string, string[]>) => async (host: string) => {
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };

  it('refuses a hostname that resolves to 127.0.0.1, naming the field and the address', async () => {
    // Act
    const error = await assertSafeUrl('https://rebind.example/hooks', STRICT_URL_POLICY, {
      param: 'url',
      resolveAll: resolver({ 'rebind.example': ['93.184.216.34', '127.0.0.1'] }),
    }).catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(UnsafeUrlError);
    expect(error).toMatchObject({ status: 422, code: 'unsafe_url', param: 'url' });
    expect((error as Error).message).toBe(
      'url resolves to a loopback address (rebind.example -> 127.0.0.1), which Paystep never calls',
    );
  });

  it('refuses localhost without asking DNS, and IP literals', async () => {
    await expect(
      assertSafeUrl('https://localhost:8443/x', STRICT_URL_POLICY, { param: 'url', resolveAll: resolver({}) }),
    ).rejects.toThrow('points at a loopback host');
    await expect(assertSafeUrl('https://10.0.0.1/x', STRICT_URL_POLICY, { param: 'url' })).rejects.toThrow('private address');
    await expect(
      assertSafeUrl('https://169.254.169.254/x', STRICT_URL_POLICY, { param: 'inventory_confirmation_url' }),
    ).rejects.toMatchObject({
      param: 'inventory_confirmation_url',
    });
    await expect(assertSafeUrl('https://[::1]/x', STRICT_URL_POLICY, { param: 'url' })).rejects.toThrow('loopback address (::1)');
  });

  it('accepts public addresses, and a host that does not resolve yet (checked again at call time)', async () => {
    await expect(
      assertSafeUrl('https://shop.example/x', STRICT_URL_POLICY, {
        param: 'url',
        resolveAll: resolver({ 'shop.example': ['93.184.216.34'] }),
      }),
    ).resolves.toBeUndefined();
    await expect(
      assertSafeUrl('https://nowhere.example/x', STRICT_URL_POLICY, { param: 'url', resolveAll: resolver({}) }),
    ).resolves.toBeUndefined();
  });
});

describe('connect-time guard', () => {
  let server: Server;
  let port: number;
  let hits = 0;

  beforeAll(async () => {
    port = await freePort();
    server = createServer((_req, res) => {
      hits += 1;
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A dns.lookup stand-in: every name resolves to `address` (a rebinding attacker's DNS). */
  function lookupTo(address: string) {
    return ((_host: string, _options: unknown, callback: (error: null, addresses: LookupAddress[]) => void) =>
      callback(null, [{ address, family: address.includes(':') ? 6 : 4 }])) as unknown as typeof import('node:dns').lookup;
  }

  it('refuses to connect when the name resolves to loopback at call time (DNS rebinding), sending nothing', async () => {
    // Prepare
    const policy = { allowHttp: true, allowLoopback: false, allowAnyPort: true };
    // Act
    const result = await postToMerchant(`http://rebind.example:${port}/x`, '{}', {}, 2_000, {
      policy,
      lookup: createGuardedLookup(policy, lookupTo('127.0.0.1')),
    });
    // Assess
    expect(result).toMatchObject({ kind: 'blocked' });
    expect(result.kind === 'blocked' && result.message).toContain('rebind.example resolves to a loopback address (127.0.0.1)');
    expect(hits).toBe(0);
  });

  it('connects when the policy allows loopback (local mode)', async () => {
    const result = await postToMerchant(`http://rebind.example:${port}/x`, '{}', {}, 2_000, {
      policy: LOCAL_URL_POLICY,
      lookup: createGuardedLookup(LOCAL_URL_POLICY, lookupTo('127.0.0.1')),
    });
    expect(result).toMatchObject({ kind: 'response', status: 200, body: 'ok' });
    expect(hits).toBe(1);
  });

  it.each([
    ['https://10.0.0.1/hooks'],
    ['https://169.254.169.254/latest/meta-data/'],
    ['https://[::1]/hooks'],
    ['https://localhost/hooks'],
  ])('refuses %s before connecting in production mode', async (url) => {
    const result = await postToMerchant(url, '{}', {}, 2_000);
    expect(result.kind).toBe('blocked');
    expect(result.kind === 'blocked' && result.message).toMatch(/^unsafe_url: /);
  });
});

describe('URL guard gaps closed (hardening)', () => {
  it.each([
    ['64:ff9b:0:0:0:0:a9fe:a9fe', 'NAT64 link-local'],
    ['64:ff9b:0000:0000:0000:0000:0a00:0001', 'NAT64 private'],
    ['64:ff9b::169.254.169.254', 'NAT64 link-local'],
    ['::ffff:0:a9fe:a9fe', 'SIIT IPv4-translated link-local'],
    ['::ffff:0:127.0.0.1', 'SIIT IPv4-translated loopback'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'IPv4-mapped link-local'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['2001::1', 'Teredo'],
  ])('refuses %s (%s) in production', (address, why) => {
    expect(unsafeAddressReason(address, STRICT_URL_POLICY)).toContain(why);
  });

  it('still allows public IPv6 and public addresses behind NAT64', () => {
    expect(unsafeAddressReason('2001:4860:4860::8888', STRICT_URL_POLICY)).toBeUndefined();
    expect(unsafeAddressReason('64:ff9b::808:808', STRICT_URL_POLICY)).toBeUndefined();
  });

  it('refuses ports other than 443 and 80 in production, and allows any port in local mode', () => {
    expect(unsafeUrlReasonWithoutDns('https://hooks.example:8443/x', STRICT_URL_POLICY)).toContain('port 443 or 80');
    expect(unsafeUrlReasonWithoutDns('https://hooks.example:22/x', STRICT_URL_POLICY)).toContain('port 443 or 80');
    expect(unsafeUrlReasonWithoutDns('https://hooks.example:443/x', STRICT_URL_POLICY)).toBeUndefined();
    expect(unsafeUrlReasonWithoutDns('https://hooks.example/x', STRICT_URL_POLICY)).toBeUndefined();
    expect(unsafeUrlReasonWithoutDns('http://127.0.0.1:3002/inventory', LOCAL_URL_POLICY)).toBeUndefined();
    expect(
      unsafeUrlReasonWithoutDns(
        'http://127.0.0.1:3002/inventory',
        urlPolicyFromEnv({ PAYSTEP_MODE: 'local', ALLOW_LOOPBACK_URLS: 'true' }),
      ),
    ).toBeUndefined();
  });
});

describe("a merchant's allowed_ports (production policy)", () => {
  it('accepts a port the merchant allowed, and still refuses the others', () => {
    // Prepare
    const policy = withMerchantPorts(STRICT_URL_POLICY, [8443]);
    // Act
    const allowed = unsafeUrlReasonWithoutDns('https://hooks.example:8443/x', policy);
    const other = unsafeUrlReasonWithoutDns('https://hooks.example:9443/x', policy);
    const withoutSetting = unsafeUrlReasonWithoutDns('https://hooks.example:8443/x', withMerchantPorts(STRICT_URL_POLICY, []));
    // Assess
    expect(allowed).toBeUndefined();
    expect(other).toBe('must use port 443 or 80, 8443 (not 9443; allowed_ports in the settings can add one)');
    expect(withoutSetting).toContain('must use port 443 or 80 (not 8443');
    expect(unsafeUrlReasonWithoutDns('https://hooks.example/x', policy)).toBeUndefined();
  });

  it('never honours a refused port, even if one reached the stored settings', () => {
    // Prepare
    const policy = withMerchantPorts(STRICT_URL_POLICY, [22, 6379, 8443]);
    // Act + Assess
    expect(unsafeUrlReasonWithoutDns('https://hooks.example:22/x', policy)).toContain('not 22');
    expect(unsafeUrlReasonWithoutDns('https://hooks.example:6379/x', policy)).toContain('not 6379');
    expect(unsafeUrlReasonWithoutDns('https://hooks.example:8443/x', policy)).toBeUndefined();
  });

  it('keeps the address checks: an allowed port does not make a private address safe', async () => {
    const resolver = (table: Record<string, string[]>) => async (host: string) => table[host] ?? [];
    const policy = withMerchantPorts(STRICT_URL_POLICY, [8443]);
    await expect(assertSafeUrl('https://10.0.0.1:8443/x', policy, { param: 'url' })).rejects.toThrow(/private address/);
    await expect(
      assertSafeUrl('https://rebind.example:8443/x', policy, {
        param: 'url',
        resolveAll: resolver({ 'rebind.example': ['169.254.169.254'] }),
      }),
    ).rejects.toThrow(/link-local/);
    await expect(
      assertSafeUrl('https://shop.example:8443/x', policy, {
        param: 'url',
        resolveAll: resolver({ 'shop.example': ['93.184.216.34'] }),
      }),
    ).resolves.toBeUndefined();
  });

  it.each([
    [22, 'system port'],
    [25, 'system port'],
    [1023, 'system port'],
    [3306, 'MySQL'],
    [5432, 'PostgreSQL'],
    [6379, 'Redis'],
    [0, 'between 1 and 65535'],
    [65_536, 'between 1 and 65535'],
    [8443.5, 'between 1 and 65535'],
  ])('refuses %s as an allowed port (%s)', (port, why) => {
    expect(merchantPortRefusal(port)).toContain(why);
  });

  it.each([[443], [80], [1024], [8080], [8443], [65_535]])('accepts %s as an allowed port', (port) => {
    expect(merchantPortRefusal(port)).toBeUndefined();
  });

  it('leaves the policy unchanged when the merchant allowed no port', () => {
    expect(withMerchantPorts(STRICT_URL_POLICY, undefined)).toBe(STRICT_URL_POLICY);
    expect(withMerchantPorts(STRICT_URL_POLICY, [])).toBe(STRICT_URL_POLICY);
  });
});

describe("connect-time guard with a merchant's allowed_ports", () => {
  let server: Server;
  let port: number;
  let hits = 0;

  beforeAll(async () => {
    port = await freePort();
    server = createServer((_req, res) => {
      hits += 1;
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // Loopback and http allowed so the test can reach its own receiver; the port rule is production's.
  const portStrict = { allowHttp: true, allowLoopback: true, allowAnyPort: false };

  it('refuses the connection on a port the merchant did not allow, sending nothing', async () => {
    // Act
    const result = await postToMerchant(`http://127.0.0.1:${port}/x`, '{}', {}, 2_000, { policy: portStrict });
    // Assess
    expect(result.kind).toBe('blocked');
    expect(result.kind === 'blocked' && result.message).toContain(`must use port 443 or 80 (not ${port}`);
    expect(hits).toBe(0);
  });

  it('connects on a port the merchant allowed', async () => {
    // Act
    const result = await postToMerchant(`http://127.0.0.1:${port}/x`, '{}', {}, 2_000, {
      policy: withMerchantPorts(portStrict, [port]),
    });
    // Assess
    expect(result).toMatchObject({ kind: 'response', status: 200, body: 'ok' });
    expect(hits).toBe(1);
  });
});
