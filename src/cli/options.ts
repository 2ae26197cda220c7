/**
 * @module cli/options
 * What every `ibf` command shares about its options: the usage error, numbers checked against a rule,
 * `--kernel` and `--workers`. One place, so `ibf assess`, `ibf flow` and `ibf serve` refuse the same
 * input with the same words.
 */
import { IbfError } from '../errors.js';
import type { KernelName } from '../kernels/types.js';
import { defaultPoolSize } from '../pool/node.js';

export const usage = (message: string): IbfError => new IbfError('E_USAGE', message, { hint: 'Run `ibf --help` for the commands and their options.' });

/** `--name`'s number, undefined when absent; `E_USAGE` saying `what` it must be when `check` refuses it. */
export function numberOption(name: string, v: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw usage(`--${name} must be ${what}, not '${v}'`);
  return n;
}

/** A whole number from `min` to `max` (both included), undefined when absent. */
export const wholeOption = (name: string, v: string | undefined, min: number, max: number): number | undefined =>
  numberOption(name, v, (n) => Number.isInteger(n) && n >= min && n <= max, `a whole number from ${min} to ${max}`);

export function kernelOption(v: string | undefined): KernelName | 'auto' {
  const k = v ?? 'auto';
  if (!['auto', 'wasm-simd', 'wasm-scalar', 'ts'].includes(k)) throw usage(`--kernel must be auto, wasm-simd, wasm-scalar or ts, not '${k}'`);
  return k as KernelName | 'auto';
}

/** `--workers` of the commands that compute: 0 (this thread) to 256, by default one per spare core. */
export const workersOption = (v: string | undefined): number =>
  numberOption('workers', v, (n) => Number.isInteger(n) && n >= 0 && n <= 256, 'a whole number from 0 (this thread) to 256') ?? defaultPoolSize();
