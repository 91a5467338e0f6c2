/**
 * The SSRF policy for merchant URLs (see url-guard.ts, which checks URLs and addresses against
 * it): the policy's shape, the ports rules (a merchant's `allowed_ports`) and the policy from the
 * environment. A module of its own so that code which only reads the policy (the wiring, request
 * validation) does not bundle the address ranges and DNS checks of url-guard.ts.
 */
export interface UrlPolicy {
  /** Accept `http:` URLs (local mode only). */
  readonly allowHttp: boolean;
  /** Accept loopback addresses (127/8, ::1, `localhost`): local mode with ALLOW_LOOPBACK_URLS=true only. */
  readonly allowLoopback: boolean;
  /**
   * Accept any port. Otherwise only 443 (https) and 80 (http): a merchant URL must not reach
   * internal services on other ports of a public host. Local mode allows any port (the demo
   * merchant and test receivers listen on random loopback ports).
   */
  readonly allowAnyPort?: boolean;
  /**
   * Ports a merchant allowed on top of 443 and 80 (its `allowed_ports` setting, see
   * `withMerchantPorts`). Only entries that pass `merchantPortRefusal` are honoured.
   */
  readonly extraPorts?: readonly number[];
}

/** Ports a merchant URL may name under the production policy. */
export const ALLOWED_URL_PORTS: readonly number[] = [443, 80];

/** At most this many entries in a merchant's `allowed_ports`. */
export const MAX_MERCHANT_ALLOWED_PORTS = 10;

/**
 * Ports above 1023 that a merchant may never allow: well-known internal services a public host
 * may expose by mistake (a merchant URL must not become a way to talk to them). Ports 1-1023
 * other than 443 and 80 (SSH 22, SMTP 25, DNS 53, LDAP 389, SMB 445, ...) are refused as a range.
 */
export const REFUSED_MERCHANT_PORTS: ReadonlyMap<number, string> = new Map([
  [1433, 'SQL Server'],
  [1521, 'Oracle'],
  [2049, 'NFS'],
  [2375, 'Docker API'],
  [2376, 'Docker API'],
  [2379, 'etcd'],
  [2380, 'etcd'],
  [3306, 'MySQL'],
  [5432, 'PostgreSQL'],
  [5984, 'CouchDB'],
  [6379, 'Redis'],
  [6443, 'Kubernetes API'],
  [8500, 'Consul'],
  [9200, 'Elasticsearch'],
  [9300, 'Elasticsearch'],
  [10250, 'kubelet'],
  [11211, 'memcached'],
  [27017, 'MongoDB'],
]);

/**
 * Why `port` cannot be in a merchant's `allowed_ports`, or undefined when it can. The rule:
 * an integer 1024-65535 not in REFUSED_MERCHANT_PORTS; 443 and 80 are accepted too (always allowed anyway).
 */
export function merchantPortRefusal(port: number): string | undefined {
  if (!Number.isSafeInteger(port) || port < 1 || port > 65_535) return 'must be an integer between 1 and 65535';
  if (ALLOWED_URL_PORTS.includes(port)) return undefined;
  if (port < 1024) return `must not be a system port (1-1023) other than 443 and 80 (not ${port})`;
  const service = REFUSED_MERCHANT_PORTS.get(port);
  if (service !== undefined) return `must not be ${port}, the usual port of ${service}`;
  return undefined;
}

/** `policy` with the merchant's `allowed_ports` on top (no change when it has none). */
export function withMerchantPorts(policy: UrlPolicy, allowedPorts: readonly number[] | undefined): UrlPolicy {
  if (allowedPorts === undefined || allowedPorts.length === 0) return policy;
  return { ...policy, extraPorts: allowedPorts.filter((port) => merchantPortRefusal(port) === undefined) };
}

/** Production: https, public addresses only. The default wherever a policy is not given. */
export const STRICT_URL_POLICY: UrlPolicy = Object.freeze({ allowHttp: false, allowLoopback: false, allowAnyPort: false });

/** What `npm start` runs with: http and loopback allowed (the demo merchant listens on 127.0.0.1). */
export const LOCAL_URL_POLICY: UrlPolicy = Object.freeze({ allowHttp: true, allowLoopback: true, allowAnyPort: true });

/**
 * The policy from the environment, read once by the wiring: production unless PAYSTEP_MODE=local,
 * and loopback only with the explicit ALLOW_LOOPBACK_URLS=true on top of local mode.
 */
export function urlPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): UrlPolicy {
  const local = env.PAYSTEP_MODE === 'local';
  return { allowHttp: local, allowLoopback: local && env.ALLOW_LOOPBACK_URLS === 'true', allowAnyPort: local };
}
