/**
 * The sandbox PSP's default per-call timeout, in its own module so an entry that only needs the
 * figure (api-newstore's invocation margin) does not bundle the gateway at a cold start.
 */
export const DEFAULT_PSP_TIMEOUT_MS = 8000;
