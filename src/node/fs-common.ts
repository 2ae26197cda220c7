/**
 * @module node/fs-common
 * What the folder stores of `ibf serve` (fs-store, fs-jobs, key-file) share: one write queue per name,
 * and the errno of a failed file call.
 */

/** Runs `f` after every earlier call with the same `name` has settled (one queue per name, in this process). */
export function serialiser(): <T>(name: string, f: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (name, f) => {
    const run = (tails.get(name) ?? Promise.resolve()).then(f, f);
    const tail = run.catch(() => {});
    tails.set(name, tail);
    void tail.then(() => {
      if (tails.get(name) === tail) tails.delete(name);
    });
    return run;
  };
}

export const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;
