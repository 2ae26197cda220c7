/**
 * @module node/key-file
 * API keys in one JSON file (the `KeyStore` of `ibf serve`; KV on the edge), and `ibf keys
 * create|revoke|list` on it. Only the sha256 of a token is kept.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { IbfError } from '../errors.js';
import { writeFileAtomic } from '../io/node.js';
import { hashKey, newToken } from '../api/security.js';
import { SCOPES, type ApiKeyRecord, type KeyStore, type Scope } from '../api/ports.js';
import { errno } from './fs-common.js';


/** A key as kept in a keys file: the {@link ApiKeyRecord} and when it was created / revoked (ISO 8601). */
export interface KeyFileRecord extends ApiKeyRecord {
  createdAt?: string;
  revokedAt?: string;
}

const PARTNER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Checks a keys file's document; every problem at once (`E_INPUT_FORMAT`). */
export function parseKeyFile(doc: unknown, name: string): KeyFileRecord[] {
  const problems: { path: string; message: string }[] = [];
  if (!Array.isArray(doc)) {
    throw new IbfError('E_INPUT_FORMAT', `${name} must be a JSON array of key records`, { hint: 'Create it with `ibf keys create`.' });
  }
  const ids = new Set<string>();
  doc.forEach((k: Partial<KeyFileRecord>, i) => {
    const at = (f: string, message: string) => problems.push({ path: `[${i}].${f}`, message });
    if (!k || typeof k !== 'object') return at('', 'must be an object');
    if (typeof k.id !== 'string' || !k.id) at('id', 'must be a non-empty string');
    else if (ids.has(k.id)) at('id', `duplicate id ${k.id}`);
    else ids.add(k.id);
    if (typeof k.hash !== 'string' || !HEX64.test(k.hash)) at('hash', 'must be the sha256 of the token, 64 lowercase hex digits');
    if (typeof k.partner !== 'string' || !PARTNER.test(k.partner)) at('partner', 'must be letters, digits, ".", "_", "-" (starting with a letter or digit), at most 64');
    if (!Array.isArray(k.scopes) || !k.scopes.every((s) => (SCOPES as readonly string[]).includes(s))) at('scopes', `must be a list of ${SCOPES.join(', ')}`);
    if (!Array.isArray(k.origins) || !k.origins.every((o) => typeof o === 'string')) at('origins', 'must be a list of origins (or "*")');
    if (k.expiresAt !== undefined && !Number.isFinite(Date.parse(k.expiresAt))) at('expiresAt', 'must be an ISO 8601 time');
    if (k.ratePerMinute !== undefined && !(Number.isInteger(k.ratePerMinute) && k.ratePerMinute > 0)) at('ratePerMinute', 'must be a whole number > 0');
    if (k.revoked !== undefined && typeof k.revoked !== 'boolean') at('revoked', 'must be true or false');
  });
  if (problems.length) throw IbfError.fromProblems('E_INPUT_FORMAT', `${name} is not a valid keys file`, problems);
  return doc as KeyFileRecord[];
}

/** The keys in `path`; `[]` when the file does not exist. Throws `E_INPUT_FORMAT` when it is not a keys file. */
export async function readKeyFile(path: string): Promise<KeyFileRecord[]> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if (errno(e) === 'ENOENT') return [];
    throw new IbfError('E_INPUT_NOT_FOUND', `${path} cannot be read (${errno(e) ?? String(e)})`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new IbfError('E_INPUT_FORMAT', `${path} is not valid JSON: ${(cause as Error).message}`, { cause, hint: 'Fix the file, or move it away and create keys again with `ibf keys create`.' });
  }
  return parseKeyFile(doc, path);
}

/** Writes a keys file atomically (creating its folder). */
export async function writeKeyFile(path: string, keys: readonly KeyFileRecord[]): Promise<void> {
  await fsp.mkdir(dirname(resolve(path)), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(keys, null, 2)}\n`);
}

function checkOrigin(o: string): string {
  if (o === '*') return o;
  let u: URL | undefined;
  try {
    u = new URL(o);
  } catch {
    u = undefined;
  }
  if (!u || !/^https?:$/.test(u.protocol) || u.origin !== o) {
    throw new IbfError('E_USAGE', `--origin ${JSON.stringify(o)} is not an origin`, { hint: 'Give scheme, host and port only, e.g. https://partner.example.org (no path, no trailing slash), or *.' });
  }
  return o;
}

export interface NewKey {
  partner: string;
  scopes: Scope[];
  origins?: string[];
  /** ISO 8601 (or anything Date.parse reads); stored as ISO 8601 UTC. */
  expiresAt?: string;
  ratePerMinute?: number;
}

/**
 * Appends a new key to the keys file `path` and returns its record and token. The token is returned
 * here only: the file keeps its sha256 (`hash`). Throws `E_USAGE` for a bad partner, scope, origin,
 * expiry or rate.
 */
export async function createKey(path: string, k: NewKey, now: () => Date = () => new Date()): Promise<{ record: KeyFileRecord; token: string }> {
  const usage = (m: string, hint?: string) => new IbfError('E_USAGE', m, { hint: hint ?? 'Run `ibf --help` for the options of ibf keys.' });
  if (!PARTNER.test(k.partner)) throw usage(`--partner ${JSON.stringify(k.partner)} is not a partner name`, 'Use letters, digits, ".", "_" and "-", starting with a letter or digit (at most 64): it names the partner\'s data folder.');
  if (k.scopes.length === 0 || !k.scopes.every((s) => (SCOPES as readonly string[]).includes(s))) throw usage(`--scopes must be a comma list of ${SCOPES.join(', ')}, not ${JSON.stringify(k.scopes.join(','))}`);
  const origins = (k.origins ?? []).map(checkOrigin);
  let expiresAt: string | undefined;
  if (k.expiresAt !== undefined) {
    const t = Date.parse(k.expiresAt);
    if (!Number.isFinite(t)) throw usage(`--expires ${JSON.stringify(k.expiresAt)} is not a time`, 'Give an ISO 8601 time, e.g. 2027-01-01T00:00:00Z.');
    expiresAt = new Date(t).toISOString();
  }
  if (k.ratePerMinute !== undefined && !(Number.isInteger(k.ratePerMinute) && k.ratePerMinute > 0)) throw usage('--rate must be a whole number of requests per minute > 0');
    const keys = await readKeyFile(path);
  const token = newToken();
  const record: KeyFileRecord = {
    id: `key_${randomBytes(6).toString('hex')}`,
    hash: await hashKey(token),
    partner: k.partner,
    scopes: [...new Set(k.scopes)],
    origins,
    ...(expiresAt ? { expiresAt } : {}),
    ...(k.ratePerMinute !== undefined ? { ratePerMinute: k.ratePerMinute } : {}),
    createdAt: now().toISOString(),
  };
  await writeKeyFile(path, [...keys, record]);
  return { record, token };
}

/** Marks key `id` revoked in `path` (kept, for the record). Throws `E_NOT_FOUND` when there is no such key. */
export async function revokeKey(path: string, id: string, now: () => Date = () => new Date()): Promise<KeyFileRecord> {
  const keys = await readKeyFile(path);
  const k = keys.find((x) => x.id === id);
  if (!k) throw new IbfError('E_NOT_FOUND', `no key ${JSON.stringify(id)} in ${path}`, { hint: '`ibf keys list` shows the ids.' });
  if (!k.revoked) {
    k.revoked = true;
    k.revokedAt = now().toISOString();
    await writeKeyFile(path, keys);
  }
  return k;
}

/**
 * A {@link KeyStore} over a keys file (a JSON array of {@link KeyFileRecord}: hashes only). The file is
 * read again whenever its modification time, size or inode changes (a `stat` per lookup), so `ibf keys
 * create` / `revoke` take effect without a restart. A missing file means no keys; a file that turns
 * invalid keeps the last good keys and reports through `onError`.
 */
export function fileKeyStore(path: string, opts: { onError?: (e: IbfError) => void } = {}): KeyStore {
  let stamp = '';
  let keys: KeyFileRecord[] = [];
  let byHash = new Map<string, KeyFileRecord>();
  let loading: Promise<void> | null = null;
  const refresh = async (): Promise<void> => {
    const st = await fsp.stat(path).catch((e: unknown) => {
      if (errno(e) === 'ENOENT') return null;
      throw e;
    });
    const s = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'none';
    if (s === stamp) return;
    try {
      keys = st ? await readKeyFile(path) : [];
      byHash = new Map(keys.map((k) => [k.hash, k]));
    } catch (e) {
      if (!(e instanceof IbfError)) throw e;
      opts.onError?.(e);
    }
    stamp = s;
  };
  const fresh = async () => {
    loading ??= refresh().finally(() => (loading = null));
    await loading;
  };
  return {
    async byHash(hash) {
      await fresh();
      return byHash.get(hash) ?? null;
    },
    async originAllowed(origin) {
      await fresh();
      const t = Date.now();
      return keys.some((k) => !k.revoked && !(k.expiresAt && Date.parse(k.expiresAt) <= t) && (k.origins.includes(origin) || k.origins.includes('*')));
    },
  };
}

