/**
 * @module web/widget-docs
 * The widget's documentation page: the copy-paste snippet (with this site's URLs) and the "try it" form.
 */
import './style.css';

const origin = location.href.replace(/[^/]*$/, '');
const snippet = `<script type="module" src="${origin}widget/ibf-impact-widget.js"></script>
<ibf-impact-widget
  api="${location.origin}"
  key="ibf_your_public_read_key"
  job="your-job-id"
  zones="${origin}demo/zones.geojson"
  lead-time="48-hour"
  lang="en"
  theme="light"></ibf-impact-widget>`;
document.getElementById('snippet')!.textContent = snippet;
document.getElementById('copy')!.addEventListener('click', async () => {
  const out = document.getElementById('copied')!;
  try {
    await navigator.clipboard.writeText(snippet);
    out.textContent = 'Copied.';
  } catch {
    out.textContent = 'Select the text above and copy it (the clipboard is not available here).';
  }
});
const form = document.getElementById('try') as HTMLFormElement;
form.addEventListener('submit', (e) => {
  e.preventDefault();
  const w = document.getElementById('example-job')!;
  w.hidden = false;
  const data = new FormData(form);
  for (const k of ['api', 'key', 'job']) {
    const v = String(data.get(k) ?? '').trim();
    if (v) w.setAttribute(k, v);
    else w.removeAttribute(k);
  }
});
