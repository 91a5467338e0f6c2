/**
 * A merchant repository that reads each merchant once for the span of one run (a saga Task, one
 * notify): the same promise answers every later `getMerchant` of that id; a failed read is not kept.
 * Other methods are the wrapped repository's. A stale value is harmless for the callers: they are a
 * few milliseconds of one invocation, and the next invocation reads again.
 */
import type { MerchantRepository } from '../ports/merchants';

export function merchantReadOnce<R extends Pick<MerchantRepository, 'getMerchant'>>(merchants: R): R {
  const reads = new Map<string, ReturnType<R['getMerchant']>>();
  const once = Object.create(merchants) as R;
  once.getMerchant = ((merchantId: string) => {
    let read = reads.get(merchantId);
    if (read === undefined) {
      read = merchants.getMerchant(merchantId) as ReturnType<R['getMerchant']>;
      reads.set(merchantId, read);
      read.catch(() => reads.delete(merchantId));
    }
    return read;
  }) as R['getMerchant'];
  return once;
}
