/** Port: the save-time SSRF check of a merchant URL Paystep will call (lambdas/adapters/url-guard.ts implements it). */
export interface MerchantUrlGuard {
  /**
   * Throws UnsafeUrlError (422 `unsafe_url`, with `param`) unless the URL is https and public (local
   * mode: see url-guard.ts) on 443, 80 or one of the merchant's `allowedPorts`.
   */
  assertSafe(url: string, options: { allowedPorts?: readonly number[] | undefined; param: string }): Promise<void>;
}
