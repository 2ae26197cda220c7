/**
 * @module engine/derive
 * Zone x band tables -> metrics: event sets (atEvent, eai, aai, exceedance curve, local exceedance),
 * return-period maps (EAD), ensembles (member distribution, exceedance probability), and the
 * validation of all of it. Triggers live in `engine/trigger`. Pure functions: no I/O, no kernels.
 */
export * from './events.js';
export * from './ead.js';
export * from './ensemble.js';
export * from './lead-time.js';
export * from './validate.js';
export { npInterp, interp1d, quantileSorted, medianSorted, argsortStable, searchsortedLeft, roundSigDigits, aroundDecimals, type Interp1dFill } from './numeric.js';
