/**
 * SSRF fuzz: private, loopback, link-local, shared and multicast IPv4 addresses written every way a
 * URL parser accepts (dotted, one decimal / hex / octal number, dotted hex, IPv4-mapped IPv6 in both
 * forms, a trailing dot), and private IPv6 ranges, as source URLs and as redirect targets. Each must be
 * refused (E_SOURCE_DENIED, "private"), even when the allow-list names that very host, and a redirect
 * to one must never be requested.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { checkSourceUrl, guardedFetch } from '../../src/api/security.js';
import { fuzzParams } from './budget.js';

/** Private IPv4 ranges as [first octets, prefix length]. */
const RANGES: Array<[number[], number]> = [[[127], 8], [[10], 8], [[172, 16], 12], [[192, 168], 16], [[169, 254], 16], [[100, 64], 10], [[0], 8], [[224], 4], [[198, 18], 15]];

const privateV4 = fc.tuple(fc.constantFrom(...RANGES), fc.integer({ min: 0, max: 0xffffffff })).map(([[octets, bits], r]) => {
  const base = octets.concat([0, 0, 0, 0]).slice(0, 4).reduce((a, o) => a * 256 + o, 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((base & mask) | (r & ~mask)) >>> 0;
});

const spell = (n: number, how: number): string => {
  const o = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  switch (how) {
    case 0: return o.join('.');
    case 1: return String(n);
    case 2: return `0x${n.toString(16)}`;
    case 3: return `0${n.toString(8)}`;
    case 4: return o.map((x) => `0x${x.toString(16)}`).join('.');
    case 5: return `[::ffff:${o.join('.')}]`;
    case 6: return `[::ffff:${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}]`;
    case 7: return `${o.join('.')}.`;
    default: return `${o[0]}.${(n & 0xffffff).toString()}`; // a.b-style: the last part holds 24 bits
  }
};

const privateV6 = fc.oneof(
  fc.constant('[::1]'),
  fc.integer({ min: 0xfc00, max: 0xfdff }).map((h) => `[${h.toString(16)}::1]`),
  fc.integer({ min: 0xfe80, max: 0xfebf }).map((h) => `[${h.toString(16)}::abcd]`),
  fc.integer({ min: 0xff00, max: 0xffff }).map((h) => `[${h.toString(16)}::2]`),
);

const host = fc.oneof(fc.tuple(privateV4, fc.integer({ min: 0, max: 8 })).map(([n, how]) => spell(n, how)), privateV6);

describe('SSRF fuzz: private addresses in any spelling are refused, directly and as redirect targets', () => {
  it('as a source URL, even with the host on the allow-list', () => {
    fc.assert(
      fc.property(host, fc.constantFrom('https', 'http'), (h, scheme) => {
        const url = `${scheme}://${h}/x.tif`;
        const allowHosts = [new URL(url).hostname.replace(/^\[|\]$/g, ''), h.replace(/^\[|\]$/g, '')];
        let e: unknown;
        try {
          checkSourceUrl(url, { allowHosts });
        } catch (x) {
          e = x;
        }
        expect(e, url).toBeInstanceOf(IbfError);
        expect((e as IbfError).code).toBe('E_SOURCE_DENIED');
        if (scheme === 'https') expect((e as IbfError).message, url).toMatch(/private/);
      }),
      fuzzParams(500),
    );
  });

  it('as a redirect target of an allowed host: never requested', async () => {
    await fc.assert(
      fc.asyncProperty(host, fc.constantFrom(301, 302, 303, 307, 308), async (h, status) => {
        const seen: string[] = [];
        const base = (async (u: string) => {
          seen.push(u);
          return u.startsWith('https://data.example.org/') ? new Response(null, { status, headers: { location: `https://${h}/latest/meta-data` } }) : new Response('secret');
        }) as unknown as typeof fetch;
        const f = guardedFetch({ allowHosts: ['data.example.org', h.replace(/^\[|\]$/g, '')] }, base);
        await expect(f('https://data.example.org/a.tif')).rejects.toMatchObject({ code: 'E_SOURCE_DENIED' });
        expect(seen).toEqual(['https://data.example.org/a.tif']);
      }),
      fuzzParams(300),
    );
  });
});
