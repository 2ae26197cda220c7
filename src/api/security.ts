/**
 * @module api/security
 * API keys (sha256 of the bearer token, never the token), object keys that cannot climb out of a
 * partner's folder, and URL sources that cannot reach private networks (SSRF): an allow-list of hosts,
 * IP literals in private, loopback, link-local, shared, multicast and IPv4-mapped ranges refused, no
 * credentials in URLs, and every redirect checked again before it is followed.
 *
 * Host names are not resolved here (Workers cannot resolve DNS): a name is trusted because it is on the
 * allow-list. Point the allow-list only at hosts you control or trust not to resolve inwards.
 */
import { IbfError } from '../errors.js';
import { sha256Hex } from '../engine/manifest.js';
import type { ApiConfig } from './ports.js';

export const hashKey = (token: string): Promise<string> => sha256Hex(token);

/** A new bearer token: `ibf_` + 32 random bytes as base64url (256 bits). */
export function newToken(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return `ibf_${btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A user-chosen object key (`PUT /v1/data/{key}`, `r2://bucket/{key}`): 1 to 16 segments of letters,
 * digits, `.`, `_`, `-`, each starting with a letter or digit (so no `..`, no hidden files), 512 chars at most.
 */
export function checkObjectKey(key: string): string {
  let decoded = key;
  try {
    decoded = decodeURIComponent(key);
  } catch {
    // left as is: the segment check refuses the stray %
  }
  const segments = decoded.split('/');
  if (decoded.length === 0 || decoded.length > 512 || segments.length > 16 || !segments.every((s) => SEGMENT.test(s))) {
    throw new IbfError('E_SOURCE_DENIED', `object key ${JSON.stringify(key.slice(0, 200))} is not allowed`, {
      hint: 'Use 1 to 16 path segments of letters, digits, ".", "_" and "-", each starting with a letter or digit, e.g. malawi/2026-11-25/hazard.tif.',
      details: { key: key.slice(0, 200) },
    });
  }
  return decoded;
}

/** Where a partner's uploads live in the object store. */
export const dataKey = (partner: string, key: string): string => `data/${partner}/${checkObjectKey(key)}`;

// ---------------------------------------------------------------------------------------------------
// addresses

function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

function privateV4([a, b]: number[]): boolean {
  return (
    a === 0 || a === 10 || a === 127 || (a === 100 && b! >= 64 && b! <= 127) || (a === 169 && b === 254) || (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) || (a === 192 && b === 0) || (a === 198 && (b === 18 || b === 19)) || a! >= 224
  );
}

/** The 8 groups of an IPv6 literal (with an embedded IPv4 tail expanded), or null. */
function ipv6(host: string): number[] | null {
  let h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (!h.includes(':')) return null;
  h = h.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (v4) {
    const b = ipv4(v4[1]!);
    if (!b) return null;
    h = h.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = h.split('::');
  if (h.split('::').length > 2) return null;
  const parts = (s: string | undefined) => (s ? s.split(':') : []);
  const hs = parts(head);
  const ts = parts(tail);
  const fill = tail === undefined ? 0 : 8 - hs.length - ts.length;
  const groups = [...hs, ...Array(Math.max(0, fill)).fill('0'), ...ts];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

/** True for loopback, private, link-local, unique-local, unspecified, multicast and mapped private addresses. */
export function isPrivateAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal')) return true;
  const v4 = ipv4(h);
  if (v4) return privateV4(v4);
  const v6 = ipv6(h);
  if (!v6) return false;
  const [g0, , , , , g5, g6, g7] = v6;
  const zeros5 = v6.slice(0, 5).every((g) => g === 0);
  if (v6.every((g) => g === 0) || (v6.slice(0, 7).every((g) => g === 0) && g7 === 1)) return true; // :: and ::1
  if (zeros5 && (g5 === 0xffff || g5 === 0)) return privateV4([g6! >> 8, g6! & 255, g7! >> 8, g7! & 255]); // ::ffff:a.b.c.d, ::a.b.c.d
  if (g0 === 0x64 && v6[1] === 0xff9b) return privateV4([g6! >> 8, g6! & 255, g7! >> 8, g7! & 255]); // NAT64
  return (g0! & 0xfe00) === 0xfc00 || (g0! & 0xffc0) === 0xfe80 || (g0! & 0xff00) === 0xff00;
}

function hostAllowed(host: string, allow: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allow.some((a) => {
    const p = a.toLowerCase();
    return p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p;
  });
}

/**
 * Checks a URL source before any request: http(s) only (http only in development), no credentials, a
 * host on the allow-list, and not a private address unless `allowPrivateAddresses`.
 */
export function checkSourceUrl(raw: string, config: Pick<ApiConfig, 'allowHosts' | 'allowPrivateAddresses'>): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new IbfError('E_SOURCE_DENIED', `${JSON.stringify(raw.slice(0, 200))} is not a URL`, { details: { url: raw.slice(0, 200) } });
  }
  const shown = `${u.protocol}//${u.host}${u.pathname}`;
  const deny = (why: string) => new IbfError('E_SOURCE_DENIED', `${shown}: ${why}`, { details: { url: shown } });
  const dev = config.allowPrivateAddresses === true;
  if (!(u.protocol === 'https:' || (dev && u.protocol === 'http:'))) throw deny(`only https URLs are read${dev ? ' (http too in development)' : ''}`);
  if (u.username || u.password) throw deny('URLs with credentials are refused; make the file readable without them, or upload it');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isPrivateAddress(host) && !dev) throw deny('private, loopback and link-local addresses are refused');
  if (!hostAllowed(host, config.allowHosts) && !(dev && isPrivateAddress(host))) throw deny(`host ${host} is not on the allow-list (${config.allowHosts.join(', ') || 'empty'})`);
  return u;
}

/** fetch that checks every redirect target with {@link checkSourceUrl} before following it (at most 5). */
export function guardedFetch(config: Pick<ApiConfig, 'allowHosts' | 'allowPrivateAddresses'>, base: typeof fetch = globalThis.fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    let url = checkSourceUrl(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, config);
    for (let hop = 0; hop <= 5; hop++) {
      const res = await base(url.href, { ...init, redirect: 'manual' });
      if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
      const loc = res.headers.get('location');
      await res.body?.cancel().catch(() => {});
      if (!loc) return res;
      url = checkSourceUrl(new URL(loc, url).href, config);
    }
    throw new IbfError('E_SOURCE_DENIED', `${url.host}: more than 5 redirects`, { details: { url: url.href } });
  }) as typeof fetch;
}
