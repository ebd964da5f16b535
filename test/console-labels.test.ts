/**
 * The console shows what the service records in its own language (#19 points 5 and 11): every
 * audit action and object kind the code writes anywhere in src/, and every check of `verify`,
 * has its words in Dutch, English and French, and no dictionary names one the service does not
 * have. The actions are read out of the sources themselves (every `action:` of an audit record,
 * string or template), so a new action written without its words fails here, as does a word for
 * an action no longer written.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@babel/parser';
import { describe, expect, it } from 'vitest';
import { audit_actions, audit_object_kinds } from '../src/ledger/audit-actions.js';
import { verify_checks } from '../src/ledger/model.js';
import { nl } from '../web/src/i18n/nl.js';
import { en } from '../web/src/i18n/en.js';
import { fr } from '../web/src/i18n/fr.js';

const root = path.resolve(import.meta.dirname, '..');
const dictionaries = { nl, en, fr };
const action_shape = /^[a-z_]+\.[a-z_]+$/;

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourcesUnder(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

interface Node {
  type: string;
  [key: string]: unknown;
}

/** What an `action:` or an audit object's `kind:` may be written as: a string, a template, either of a condition. */
function writtenValues(value: Node | undefined): Array<{ exact?: string; prefix?: string }> {
  if (value === undefined) return [];
  if (value.type === 'StringLiteral') return [{ exact: value.value as string }];
  if (value.type === 'TemplateLiteral') {
    const quasis = value.quasis as Array<{ value: { cooked: string } }>;
    return quasis.length === 1 ? [{ exact: quasis[0]!.value.cooked }] : [{ prefix: quasis[0]!.value.cooked }];
  }
  if (value.type === 'ConditionalExpression') return [...writtenValues(value.consequent as Node), ...writtenValues(value.alternate as Node)];
  if (value.type === 'TSAsExpression' || value.type === 'TSSatisfiesExpression') return writtenValues(value.expression as Node);
  return [];
}

const keyName = (node: Node) => {
  const key = node.key as Node | undefined;
  return key?.type === 'Identifier' ? key.name as string : key?.type === 'StringLiteral' ? key.value as string : undefined;
};

/** Every audit action and object kind written in src/ (outside the list itself), with where. */
function writtenInSources() {
  const actions: Array<{ exact?: string; prefix?: string; where: string }> = [];
  const kinds: Array<{ exact?: string; prefix?: string; where: string }> = [];
  for (const file of sourcesUnder(path.join(root, 'src'))) {
    if (file.endsWith(path.join('ledger', 'audit-actions.ts'))) continue;
    const ast = parse(readFileSync(file, 'utf8'), { sourceType: 'module', plugins: ['typescript'] });
    const where = path.relative(root, file);
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(visit);
      if (value === null || typeof value !== 'object') return;
      const node = value as Node;
      if (node.type === 'ObjectProperty' && keyName(node) === 'action') {
        for (const found of writtenValues(node.value as Node)) {
          if (found.prefix !== undefined || action_shape.test(found.exact ?? '')) actions.push({ ...found, where });
        }
      }
      if (node.type === 'ObjectProperty' && keyName(node) === 'object' && (node.value as Node).type === 'ObjectExpression') {
        const kind = ((node.value as Node).properties as Node[]).find((p) => p.type === 'ObjectProperty' && keyName(p) === 'kind');
        for (const found of writtenValues(kind?.value as Node | undefined)) kinds.push({ ...found, where });
      }
      for (const [key, child] of Object.entries(node)) {
        if (key !== 'loc' && key !== 'leadingComments' && key !== 'trailingComments') visit(child);
      }
    };
    visit(ast.program);
  }
  return { actions, kinds };
}

/** The dictionary's actions, `<object>.<verb>`, with their words. */
function labelled(actions: Record<string, Record<string, string>>): Map<string, string> {
  return new Map(Object.entries(actions).flatMap(([family, verbs]) => Object.entries(verbs).map(([verb, words]) => [`${family}.${verb}`, words] as const)));
}

describe('the console says what the service records in its own language', () => {
  const written = writtenInSources();

  it('every audit action written in src/ is in the list of actions, and every listed action is written', () => {
    expect(written.actions.length, 'the scan finds the audit records').toBeGreaterThan(40);
    const listed = new Set<string>(audit_actions);
    const unlisted = written.actions.filter((a) => a.exact !== undefined && !listed.has(a.exact)).map((a) => `${a.exact} (${a.where})`);
    expect(unlisted).toEqual([]);
    // A template (`card.${action}`) must stand for listed actions.
    const templates = written.actions.filter((a) => a.prefix !== undefined);
    expect(templates.map((a) => a.prefix).sort()).toEqual(['card.', 'redemption.', 'transfer.']);
    for (const template of templates) {
      expect(audit_actions.some((a) => a.startsWith(template.prefix!)), `${template.prefix}… (${template.where})`).toBe(true);
    }
    const exact = new Set(written.actions.flatMap((a) => (a.exact === undefined ? [] : [a.exact])));
    const never = audit_actions.filter((a) => !exact.has(a) && !templates.some((t) => a.startsWith(t.prefix!)));
    expect(never, 'listed but written nowhere').toEqual([]);
  });

  it('every object kind of an audit record written in src/ is listed', () => {
    const listed = new Set<string>(audit_object_kinds);
    expect(written.kinds.length).toBeGreaterThan(30);
    expect(written.kinds.filter((k) => k.exact === undefined || !listed.has(k.exact)).map((k) => `${k.exact ?? `${k.prefix}…`} (${k.where})`)).toEqual([]);
    const used = new Set(written.kinds.map((k) => k.exact));
    expect(audit_object_kinds.filter((k) => !used.has(k))).toEqual([]);
  });

  for (const [lang, dictionary] of Object.entries(dictionaries)) {
    it(`${lang}: words for exactly the service's audit actions, their objects and kinds of object`, () => {
      const words = labelled(dictionary.console.audit_actions);
      expect([...words.keys()].sort()).toEqual([...audit_actions].sort());
      for (const [action, text] of words) {
        expect(text.trim(), action).not.toBe('');
        expect(text, `${action} in ${lang} is words, not the code`).not.toMatch(/[._]/);
      }
      const families = [...new Set(audit_actions.map((a) => a.split('.')[0]!))].sort();
      expect(Object.keys(dictionary.console.audit_families).sort()).toEqual(families);
      expect(Object.keys(dictionary.console.audit_objects).sort()).toEqual([...audit_object_kinds].sort());
      for (const text of [...Object.values(dictionary.console.audit_families), ...Object.values(dictionary.console.audit_objects)]) {
        expect(text.trim()).not.toBe('');
      }
    });

    it(`${lang}: every check of verify has a name and an explanation`, () => {
      const console_words = dictionary.console as unknown as Record<string, unknown>;
      for (const check of verify_checks) {
        expect(typeof console_words[`verify_${check}`], check).toBe('string');
        expect(dictionary.console.verify_about[check], check).toBeTruthy();
      }
      expect(Object.keys(dictionary.console.verify_about).sort()).toEqual([...verify_checks].sort());
    });
  }

  it('Dutch, English and French say different things (none left untranslated)', () => {
    const [dutch, english, french] = [nl, en, fr].map((d) => labelled(d.console.audit_actions));
    const same = audit_actions.filter((a) => dutch!.get(a) === english!.get(a) || dutch!.get(a) === french!.get(a));
    expect(same).toEqual([]);
  });
});
