/**
 * @module io/frequencies-csv
 * Event frequencies from a CSV (`band,frequency`, one row per hazard band, 1-based band numbers as GDAL
 * counts them, frequency in events per year), the event-set convention of CLIMADA's `frequency` array
 * kept beside a multi-band GeoTIFF.
 */
import { IbfError, type Problem } from '../errors.js';

/** Frequency (1/year) per band number. Every problem of the file is reported at once. */
export function parseFrequencyCsv(text: string, name = 'frequencies.csv'): Map<number, number> {
  const problems: Problem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const header = (lines.shift() ?? '').split(/[,;\t]/).map((h) => h.trim().toLowerCase());
  const bi = header.indexOf('band');
  const fi = header.indexOf('frequency');
  if (bi < 0 || fi < 0) {
    throw new IbfError('E_INPUT_FORMAT', `${name}: the header must name the columns band and frequency, got "${header.join(',')}"`, {
      hint: 'Write a first line "band,frequency", then one line per hazard band, e.g. "1,0.1".',
    });
  }
  const out = new Map<number, number>();
  lines.forEach((line, k) => {
    const cells = line.split(/[,;\t]/).map((c) => c.trim());
    const row = `line ${k + 2}`;
    const band = Number(cells[bi]);
    const freq = Number(cells[fi]);
    if (!Number.isInteger(band) || band < 1) problems.push({ path: row, message: `band "${cells[bi] ?? ''}" is not a band number (1, 2, ...)` });
    else if (out.has(band)) problems.push({ path: row, message: `band ${band} appears twice` });
    if (cells[fi] === undefined || cells[fi] === '' || !Number.isFinite(freq) || freq < 0) problems.push({ path: row, message: `frequency "${cells[fi] ?? ''}" is not a number >= 0 (events per year)` });
    if (Number.isInteger(band) && band >= 1 && Number.isFinite(freq) && freq >= 0 && !out.has(band)) out.set(band, freq);
  });
  if (problems.length) throw IbfError.fromProblems('E_INPUT_FORMAT', `${name} is not a valid frequency table`, problems);
  return out;
}
