/** What the dashboard's and the widget's Vite builds share (vite.config.ts, vite.widget.config.ts). */
import { fileURLToPath } from 'node:url';

/** A path in web/. */
export const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** src/pool loads the engine lazily for Node; in these bundles it is loaded anyway, which is fine. */
export const quiet = (w: { code?: string }, warn: (w: never) => void): void => {
  if (w.code !== 'INEFFECTIVE_DYNAMIC_IMPORT') warn(w as never);
};
