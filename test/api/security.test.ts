/**
 * The API's guards, case by case: private addresses in every spelling, URL sources, redirects to
 * private hosts (never followed), object keys that try to climb out of a partner's folder, and the
 * token bucket.
 */
import { describe, expect, it } from 'vitest';
import { checkObjectKey, checkSourceUrl, dataKey, guardedFetch, hashKey, isPrivateAddress, newToken } from '../../src/api/security.js';
import { takeToken } from '../../src/api/memory.js';
import { ibfError } from '../helpers.js';

describe('isPrivateAddress', () => {
  const priv = [
    '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1',
    '::1', '[::1]', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '[::ffff:a9fe:a9fe]', '::ffff:7f00:1', '64:ff9b::a00:1',
    'localhost', 'api.localhost', 'printer.local', 'metadata.google.internal',
  ];
  const pub = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', 'data.example.org', '10.example.org'];
  for (const h of priv) it(`${h} is private`, () => expect(isPrivateAddress(h)).toBe(true));
  for (const h of pub) it(`${h} is public`, () => expect(isPrivateAddress(h)).toBe(false));
});

describe('checkSourceUrl', () => {
  const config = { allowHosts: ['data.example.org', '*.cdn.example.net'] };
  it('passes allowed https hosts, including wildcard subdomains', () => {
    expect(checkSourceUrl('https://data.example.org/a.tif', config).host).toBe('data.example.org');
    expect(checkSourceUrl('https://eu.cdn.example.net/a.tif', config).host).toBe('eu.cdn.example.net');
  });
  for (const [url, why] of [
    ['http://data.example.org/a.tif', /only https/],
    ['https://cdn.example.net/a.tif', /not on the allow-list/],
    ['https://evil.example.com/a.tif', /not on the allow-list/],
    ['https://user:secret@data.example.org/a.tif', /credentials/],
    ['https://127.0.0.1/a.tif', /private/],
    ['https://[::ffff:169.254.169.254]/a.tif', /private/],
    ['ftp://data.example.org/a.tif', /only https/],
    ['not a url', /is not a URL/],
  ] as const) {
    it(`refuses ${url}`, async () => {
      const e = await ibfError((async () => checkSourceUrl(url, config))());
      expect(e.code).toBe('E_SOURCE_DENIED');
      expect(e.message).toMatch(why);
      expect(e.message).not.toMatch(/secret/);
    });
  }
  it('development mode reaches loopback over http, but not other hosts', async () => {
    const dev = { ...config, allowPrivateAddresses: true };
    expect(checkSourceUrl('http://127.0.0.1:8080/a.tif', dev).port).toBe('8080');
    expect((await ibfError((async () => checkSourceUrl('http://evil.example.com/a.tif', dev))())).code).toBe('E_SOURCE_DENIED');
  });
});

describe('guardedFetch', () => {
  /** A network where the allowed host redirects as told, and every request is recorded. */
  const network = (location: string) => {
    const seen: string[] = [];
    const base = (async (url: string, init: RequestInit) => {
      seen.push(url);
      expect(init.redirect).toBe('manual');
      if (url.startsWith('https://data.example.org/')) return new Response(null, { status: 302, headers: { location } });
      return new Response('ok', { status: 200 });
    }) as unknown as typeof fetch;
    return { seen, f: guardedFetch({ allowHosts: ['data.example.org', 'mirror.example.org'] }, base) };
  };
  it('follows a redirect to another allowed host', async () => {
    const { seen, f } = network('https://mirror.example.org/a.tif');
    expect((await f('https://data.example.org/a.tif')).status).toBe(200);
    expect(seen).toEqual(['https://data.example.org/a.tif', 'https://mirror.example.org/a.tif']);
  });
  for (const target of ['http://169.254.169.254/latest/meta-data/', 'https://10.0.0.5/x', 'https://[::1]/x', 'https://evil.example.com/x', '//localhost/x']) {
    it(`never requests a redirect to ${target}`, async () => {
      const { seen, f } = network(target);
      const e = await ibfError(f('https://data.example.org/a.tif'));
      expect(e.code).toBe('E_SOURCE_DENIED');
      expect(seen).toEqual(['https://data.example.org/a.tif']);
    });
  }
});

describe('object keys', () => {
  it('keeps ordinary keys, inside the partner folder', () => {
    expect(checkObjectKey('malawi/2026-11-25/hazard_rp10.tif')).toBe('malawi/2026-11-25/hazard_rp10.tif');
    expect(dataKey('p1', 'a/b.tif')).toBe('data/p1/a/b.tif');
  });
  for (const bad of ['../x.tif', 'a/../../b.tif', 'a/..%2F..%2Fb', '/abs.tif', 'a//b.tif', '.hidden', 'a\\b.tif', 'a/b\u0000.tif', 'a b.tif', '', 'x'.repeat(600), Array(17).fill('a').join('/')]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 40))}`, async () => {
      expect((await ibfError((async () => checkObjectKey(bad))())).code).toBe('E_SOURCE_DENIED');
    });
  }
});

describe('keys and the token bucket', () => {
  it('tokens are 256-bit, distinct, and stored as sha256', async () => {
    const a = newToken();
    expect(a).toMatch(/^ibf_[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(a);
    expect(await hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('a burst of perMinute passes, then one per 60/perMinute s', () => {
    let b;
    const oks: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const r = takeToken(b, 0, 3);
      b = r.bucket;
      oks.push(r.ok);
    }
    expect(oks).toEqual([true, true, true, false]);
    expect(takeToken(b, 0, 3).retryAfterSeconds).toBe(20);
    expect(takeToken(b, 19_999, 3).ok).toBe(false);
    expect(takeToken(b, 20_000, 3).ok).toBe(true);
  });
});
