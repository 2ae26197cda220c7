#!/usr/bin/env node
/**
 * The `ibf` executable: wires the process to {@link main}. Ctrl-C (SIGINT / SIGTERM) cancels the run:
 * outputs are staged until the end, so a cancelled run writes nothing; a second Ctrl-C quits at once.
 */
import { IbfError } from '../errors.js';
import { main } from './main.js';

const cancel = new AbortController();
const onSignal = () => {
  if (cancel.signal.aborted) process.exit(130);
  cancel.abort(new IbfError('E_CANCELLED', 'the run was cancelled'));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

process.exitCode = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stderr.isTTY),
  signal: cancel.signal,
});
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
