/**
 * @module node/json
 * Reading JSON documents (scenarios, zones) with an `IbfError` that names the file, not a bare SyntaxError.
 */
import { IbfError } from '../errors.js';
import { readFileBytes } from '../io/node.js';

export function parseJson(text: string | Uint8Array, name: string, hint: string): unknown {
  try {
    return JSON.parse(typeof text === 'string' ? text : new TextDecoder().decode(text));
  } catch (cause) {
    throw new IbfError('E_INPUT_FORMAT', `${name} is not valid JSON: ${(cause as Error).message}`, { cause, hint });
  }
}

export async function readJsonFile(path: string, hint: string): Promise<unknown> {
  return parseJson(await readFileBytes(path), path, hint);
}
