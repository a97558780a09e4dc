import * as fs from 'fs';
import * as path from 'path';

/** The source of `entry` and of every module it imports from this repository, transitively, keyed by file. */
export function moduleGraph(entry: string): Map<string, string> {
  const sources = new Map<string, string>();
  const visit = (file: string) => {
    if (sources.has(file)) return;
    const source = fs.readFileSync(file, 'utf8');
    sources.set(file, source);
    for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const base = path.resolve(path.dirname(file), m[1]);
      const next = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
      if (next) visit(next);
    }
  };
  visit(entry);
  return sources;
}
