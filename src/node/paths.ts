/**
 * @module node/paths
 * Where the package's own files (build/, examples/) are, from src/ under tsx/vitest or dist/src when built.
 */
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  const here = fileURLToPath(import.meta.url);
  return here.replace(/[\\/](dist[\\/])?src[\\/]node[\\/][^\\/]+$/, '');
}
