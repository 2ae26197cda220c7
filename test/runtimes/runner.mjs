// Runtime side of test/runtimes/case.ts: plain ESM that runs unchanged in Chromium and in workerd.
// Decodes the wire case (typed arrays as base64 of raw little-endian bytes), runs it on the kernel
// the runtime loaded, and encodes the results the same way. Uses only atob/btoa, no Node APIs.

function toB64(a) {
  const u8 = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i]);
  return btoa(s);
}

function fromB64(b64, Ctor) {
  const s = atob(b64);
  const u8 = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u8[i] = s.charCodeAt(i);
  return new Ctor(u8.buffer);
}

/** @param wire see wireCase() in case.ts; @param kernel a WasmKernel; @param DamageFunction the class from dist. */
export function runCase(wire, kernel, DamageFunction) {
  const curve = (spec) => new DamageFunction(spec);
  const mdr = wire.mdr.map((c) => toB64(kernel.mdr(curve(c.curve), fromB64(c.xs, Float32Array))));
  const w = wire.impact;
  const p = kernel.impactZonal({
    ...w,
    curves: w.curves.map(curve),
    hazard: fromB64(w.hazard, Float32Array),
    exposure: fromB64(w.exposure, Float64Array),
    zones: fromB64(w.zones, Uint32Array),
    weights: fromB64(w.weights, Float32Array),
    classes: fromB64(w.classes, Uint8Array),
    ...(w.fraction ? { fraction: fromB64(w.fraction, Float32Array), fractionStride: w.fractionStride } : {}),
  });
  return {
    kernel: kernel.name,
    userAgent: globalThis.navigator?.userAgent ?? '',
    mdr,
    impact: { stats: toB64(p.stats), zoneStats: toB64(p.zoneStats), damage: toB64(p.damage) },
  };
}
