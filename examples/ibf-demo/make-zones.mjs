// Writes zones.geojson: six Natural Earth 1:50m country polygons of south-eastern Africa, from the
// world-atlas 2.0.2 TopoJSON (countries-50m.json), arcs decoded exactly (quantized deltas x scale +
// translate, as topojson-client's feature()). Run once; the output is committed.
//   node examples/ibf-demo/make-zones.mjs ../shared/data/natural-earth-world-atlas/countries-50m.json > examples/ibf-demo/zones.geojson
import { readFileSync } from 'node:fs';

const PICK = { 72: ['BWA', 'Botswana'], 454: ['MWI', 'Malawi'], 508: ['MOZ', 'Mozambique'], 748: ['SWZ', 'Eswatini'], 716: ['ZWE', 'Zimbabwe'], 894: ['ZMB', 'Zambia'] };
const topo = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const [sx, sy] = topo.transform.scale;
const [tx, ty] = topo.transform.translate;
const round = (v) => Math.round(v * 1e6) / 1e6;
const arcs = topo.arcs.map((a) => {
  let x = 0;
  let y = 0;
  return a.map(([dx, dy]) => {
    x += dx;
    y += dy;
    return [round(x * sx + tx), round(y * sy + ty)];
  });
});
const arc = (i) => (i >= 0 ? arcs[i] : [...arcs[~i]].reverse());
const ring = (r) => r.flatMap((i, k) => (k ? arc(i).slice(1) : arc(i)));
const features = topo.objects.countries.geometries
  .filter((g) => PICK[Number(g.id)])
  .map((g) => {
    const [iso3, name] = PICK[Number(g.id)];
    const polygons = (g.type === 'Polygon' ? [g.arcs] : g.arcs).map((p) => p.map(ring));
    return {
      type: 'Feature',
      properties: { iso3, name, iso_n3: g.id },
      geometry: polygons.length === 1 ? { type: 'Polygon', coordinates: polygons[0] } : { type: 'MultiPolygon', coordinates: polygons },
    };
  })
  .sort((a, b) => a.properties.iso3.localeCompare(b.properties.iso3));
process.stdout.write(`${JSON.stringify({
  type: 'FeatureCollection',
  name: 'ibf-demo-zones',
  attribution: 'Made with Natural Earth (public domain), 1:50m admin 0 countries, via world-atlas 2.0.2 (ISC, Copyright 2013-2019 Michael Bostock)',
  features,
})}\n`);
