/**
 * Client options for an AWS SDK v3 client pointed at a loopback stand-in (DynamoDB Local, the
 * local Step Functions emulator). Neither checks request signatures, so SigV4 (a canonical
 * request, two SHA-256 hashes and five HMACs per request: about a third of the SDK's CPU per
 * call on the local runtime) is replaced by a fixed Authorization header naming the same access
 * key and region. Only for loopback endpoints: on AWS, and against any other endpoint,
 * the SDK's own SigV4 signer is kept. The handlers' code is the same either way; only how the
 * client is built differs.
 */

/** True for an endpoint URL whose host is the loopback interface (127.0.0.0/8, ::1, localhost). */
export function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined || endpoint === '') return false;
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** The request shape the signer touches (an @smithy HttpRequest). */
interface SignableRequest {
  headers: Record<string, string>;
}

/** What the SDK hands a signer: the resolved identity and the scheme's signing properties. */
interface SigningIdentity {
  accessKeyId?: string;
}

interface SigningProperties {
  signingRegion?: string;
  signingName?: string;
  /** The client's resolved config (its region provider). */
  config?: { region?: () => Promise<string> };
}

/**
 * A signer that sets an Authorization header of SigV4's shape (same access key and region) without
 * computing a signature. The local stand-ins read at most the access key.
 */
export const unsignedLocalSigner = {
  async sign<T extends SignableRequest>(request: T, identity: SigningIdentity, properties: SigningProperties = {}): Promise<T> {
    const region = properties.signingRegion ?? (await properties.config?.region?.()) ?? 'us-east-1';
    const scope = `${identity.accessKeyId ?? 'local'}/19700101/${region}/${properties.signingName ?? 'local'}/aws4_request`;
    request.headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=host, Signature=unsigned`;
    return request;
  },
};

/**
 * Extra client options for `endpoint`: the unsigned signer for a loopback endpoint, nothing
 * otherwise. Spread into the client's constructor options; the identity (credentials from the
 * usual env variables) is still resolved, once, by the SDK's memoized provider.
 */
export function localEndpointClientOptions(endpoint: string | undefined): { httpAuthSchemes?: never[] } {
  if (!isLoopbackEndpoint(endpoint)) return {};
  const scheme = {
    schemeId: 'aws.auth#sigv4',
    identityProvider: (config: { getIdentityProvider(schemeId: string): unknown }) =>
      config.getIdentityProvider('aws.auth#sigv4'),
    signer: unsignedLocalSigner,
  };
  // The clients' HttpAuthScheme type is structural; the cast keeps @smithy/types out of this module.
  return { httpAuthSchemes: [scheme] as unknown as never[] };
}
