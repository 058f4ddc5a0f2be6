/// <reference types="node" />
/* eslint-disable no-restricted-imports -- the test itself runs under Node: it reads the renderer's sources */
// The renderer's shape, read from its imports: stores form no cycle, components never reach the transport, and the
// stores start in one place (stores/startStores.ts, called from main.tsx), not from component effects.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [p] : [];
  });
}

/** Relative imports of a file, resolved to source files of the renderer (type-only imports included). */
function importsOf(file: string): { file: string; names: string }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/import\s+(?:type\s+)?([^'";]*?)\s*from\s*'(\.[^']+)'/g)].flatMap(([, names, spec]) => {
    const base = path.resolve(path.dirname(file), spec!).replace(/\.js$/, '');
    const hit = ['.ts', '.tsx'].map((ext) => base + ext).find((p) => all.includes(p));
    return hit ? [{ file: hit, names: names! }] : [];
  });
}

const all = sources(src);
const rel = (p: string) => path.relative(src, p);

describe('renderer store graph', () => {
  it('has no import cycles (basemapStore and dropStore imported each other)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map(rel).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const dep of importsOf(file)) visit(dep.file, [...trail, file]);
      state.set(file, 'done');
    };
    for (const f of all) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('lets only stores call the transport: components import neither clientRef nor transport/', () => {
    const offenders = all
      .filter((f) => rel(f).startsWith(`components${path.sep}`))
      .flatMap((f) => importsOf(f).filter((d) => /^(stores[/\\]clientRef|transport[/\\])/.test(rel(d.file))).map((d) => `${rel(f)} imports ${rel(d.file)}`));
    expect(offenders).toEqual([]);
  });

  it('starts the stores in one place: components import no start-up action (start…, watch…, load…)', () => {
    const offenders = all
      .filter((f) => rel(f).startsWith(`components${path.sep}`))
      .flatMap((f) => importsOf(f).flatMap((d) => (d.names.match(/\b(start|watch|load)[A-Z]\w*/g) ?? []).map((n) => `${rel(f)} imports ${n}`)));
    expect(offenders).toEqual([]);
    const main = readFileSync(path.join(src, 'main.tsx'), 'utf8');
    expect(main).toMatch(/\bstartStores\(/);
  });
});
