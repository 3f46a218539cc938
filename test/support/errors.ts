import { ScopeError, UserFacingError } from '../../src/errors.ts';

/** Runs `fn` and returns the error of the given class it throws; fails the test if it throws nothing or another error. */
export function thrown<E extends Error>(fn: () => unknown, kind: abstract new (...args: never[]) => E): E {
  try {
    fn();
  } catch (err) {
    if (err instanceof kind) return err;
    throw err;
  }
  throw new Error(`expected a ${kind.name}, but nothing was thrown`);
}

export const errorOf = (fn: () => unknown): UserFacingError => thrown(fn, UserFacingError);
export const configError = (fn: () => unknown): ScopeError => thrown(fn, ScopeError);
