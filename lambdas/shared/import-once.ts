/**
 * A value built on its first use, then reused for the function's life (the synchronous sibling of
 * importOnce below): wiring a step may never need, zod schemas a route may never parse.
 */
export function builtOnFirstUse<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

/**
 * The loader behind every `*-lazy.ts` wiring file: a dynamic `import()` (a chunk of its own in the
 * bundle, lib/bundling.ts) run on first use and shared by every later call; a failed import is
 * forgotten, so the next call tries again instead of failing for the container's life.
 */
export function importOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    }));
}
