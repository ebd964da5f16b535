/**
 * Habits of the codebase that a reader relies on, checked on every run: functions in src/
 * stay at most 70 lines (the limit TigerBeetle's style holds; a longer one says why in a
 * comment starting "longer than 70 lines:" right above it), and the pure domain in
 * src/ledger imports neither Hono nor postgres.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@babel/parser';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const function_lines_max = 70;

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourcesUnder(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

interface Node {
  type: string;
  loc?: { start: { line: number }; end: { line: number } };
  [key: string]: unknown;
}

const function_types = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ObjectMethod', 'ClassMethod', 'ClassPrivateMethod']);

/** Every function of a TypeScript source with its first line and its length in lines. */
function functionsIn(source: string): Array<{ line: number; lines: number }> {
  const ast = parse(source, { sourceType: 'module', plugins: ['typescript'] });
  const found: Array<{ line: number; lines: number }> = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const node = value as Node;
    if (typeof node.type === 'string' && function_types.has(node.type) && node.loc !== undefined) {
      found.push({ line: node.loc.start.line, lines: node.loc.end.line - node.loc.start.line + 1 });
    }
    for (const [key, child] of Object.entries(node)) {
      if (key !== 'loc' && key !== 'leadingComments' && key !== 'trailingComments') visit(child);
    }
  };
  visit(ast.program);
  return found;
}

describe('the codebase\'s habits', () => {
  it(`every function in src/ is at most ${function_lines_max} lines, or says why above it`, () => {
    const files = sourcesUnder(path.join(root, 'src'));
    expect(files.length).toBeGreaterThan(50);
    const too_long: string[] = [];
    let functions = 0;
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      const lines = source.split('\n');
      for (const f of functionsIn(source)) {
        functions += 1;
        if (f.lines <= function_lines_max) continue;
        const above = lines.slice(Math.max(0, f.line - 4), f.line - 1).join('\n');
        if (!/longer than 70 lines:/.test(above)) too_long.push(`${path.relative(root, file)}:${f.line} (${f.lines} lines)`);
      }
    }
    expect(functions).toBeGreaterThan(500);
    expect(too_long, too_long.join('\n')).toEqual([]);
  });

  it('measures every kind of function, nested ones included (the check is real)', () => {
    const body = Array.from({ length: 80 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const source = `export function long(): void {\n${body}\n  const inner = (x: number) => {\n    return x;\n  };\n}\n`
      + 'class K { m(): void {} }\nconst o = { f() { return 1; } };\n';
    expect(functionsIn(source)).toEqual([
      { line: 1, lines: 85 }, { line: 82, lines: 3 }, { line: 86, lines: 1 }, { line: 87, lines: 1 },
    ]);
  });

  it('src/ makes its local days with the one Intl.DateTimeFormat per time zone (src/ledger/local-day.ts), never one per request', () => {
    // Each formatter holds ICU memory outside V8's heap until collected (#15, docs/performance.md);
    // the person page makes two per export, the demo two per run.
    const allowed = ['src/ledger/local-day.ts', 'src/http/person-page.ts', 'src/demo.ts'];
    const offenders = sourcesUnder(path.join(root, 'src'))
      .filter((file) => /new Intl\.DateTimeFormat\(/.test(readFileSync(file, 'utf8')))
      .map((f) => path.relative(root, f)).filter((f) => !allowed.includes(f));
    expect(offenders).toEqual([]);
  });

  it('src/ledger imports neither Hono nor postgres', () => {
    const offenders = sourcesUnder(path.join(root, 'src', 'ledger')).filter((file) =>
      /from '(hono|@hono\/[^']+|postgres)'|from '\.\.\/(db|http)\//.test(readFileSync(file, 'utf8')));
    expect(offenders.map((f) => path.relative(root, f))).toEqual([]);
  });
});
