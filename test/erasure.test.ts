/**
 * Issue #21 point 1, the pure part of an erasure (src/ledger/erasure.ts): the pseudonym, masked
 * card codes, and recorded text losing what named the person — whole words only, whatever the
 * case, longest first, an earlier name under a personal key too.
 */
import { describe, expect, it } from 'vitest';
import { maskCardCode, names, personal_keys, pseudonymFrom, scrubbed } from '../src/ledger/erasure.js';

describe('the pseudonym and masked card codes', () => {
  it('is "Gewist" and four hex digits of the random bytes', () => {
    expect(pseudonymFrom(new Uint8Array([0x7f, 0x3a]))).toBe('Gewist 7F3A');
    expect(pseudonymFrom(new Uint8Array([0, 1]))).toBe('Gewist 0001');
    expect(() => pseudonymFrom(new Uint8Array([1]))).toThrow();
  });

  it('a card code shows only its last group and check symbol', () => {
    expect(maskCardCode('K7QM3D9XP2RT8HWVZ')).toBe('••••-••••-••••-8HWV-Z');
  });
});

describe('what names the person', () => {
  const jo = [{ text: 'Jo', by: 'Gewist 0001' }, { text: 'Jo Peeters', by: 'Gewist 0001' }];

  it('a name as a whole word, in any case, but not inside another word', () => {
    expect(names('gebeld door jo', jo)).toBe(true);
    expect(names('JO belde', jo)).toBe(true);
    expect(names('Jo-Anne', jo)).toBe(true);
    expect(names('Johan en Joke', jo)).toBe(false);
    expect(names('ijo', jo)).toBe(false);
    expect(names('anything', [])).toBe(false);
  });

  it('accented letters are letters: "Zoë" is not found in "Zoëlle", but is in "(Zoë)"', () => {
    const zoe = [{ text: 'Zoë', by: 'X' }];
    expect(names('Zoëlle', zoe)).toBe(false);
    expect(names('(Zoë)', zoe)).toBe(true);
  });

  it('texts with characters that mean something to a regular expression are taken literally', () => {
    const odd = [{ text: 'A+B (x)', by: 'P' }, { text: '+32 470 12.34.56', by: 'P' }];
    expect(names('met A+B (x) gesproken', odd)).toBe(true);
    expect(names('AAB (x)', odd)).toBe(false);
    expect(names('tel +32 470 12.34.56', odd)).toBe(true);
    expect(names('tel +32 470 12-34-56', odd)).toBe(false);
  });
});

describe('recorded text scrubbed', () => {
  const replacements = [
    { text: 'Zoë', by: 'Gewist 7F3A' }, { text: 'Zoë Peeters', by: 'Gewist 7F3A' },
    { text: 'K7QM3D9XP2RT8HWVZ', by: 'NEWCODE0000000000' },
  ];

  it('replaces every occurrence in every string, nested, longest first; leaves other values and keys', () => {
    const value = {
      memo: 'voor Zoë Peeters en zoë', card: 'K7QM3D9XP2RT8HWVZ', list: ['Zoëlle', 'ZOË'], amount: '1.00', n: 3, ok: true, none: null,
      Zoë: 'key stays',
    };
    expect(scrubbed(value, replacements)).toEqual({
      memo: 'voor Gewist 7F3A en Gewist 7F3A', card: 'NEWCODE0000000000', list: ['Zoëlle', 'Gewist 7F3A'], amount: '1.00', n: 3, ok: true, none: null,
      Zoë: 'key stays',
    });
  });

  it('under a personal key every string goes, also an earlier name no replacement knows', () => {
    const changes = { fields: ['display_name'], display_name: { from: 'Zoetje', to: 'Zoë' }, language: 'nl', full_name: null };
    expect(scrubbed(changes, replacements, personal_keys, 'Gewist 7F3A')).toEqual({
      fields: ['display_name'], display_name: { from: 'Gewist 7F3A', to: 'Gewist 7F3A' }, language: 'nl', full_name: null,
    });
  });

  it('a plain string is scrubbed too (an audit row\'s object id), and nothing to replace changes nothing', () => {
    expect(scrubbed('K7QM3D9XP2RT8HWVZ', replacements)).toBe('NEWCODE0000000000');
    expect(scrubbed({ a: 'Zoë' }, [])).toEqual({ a: 'Zoë' });
  });
});
