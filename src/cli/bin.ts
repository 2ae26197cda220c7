#!/usr/bin/env node
/** The `ibf` executable: wires the process to {@link main}. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stderr.isTTY),
});
