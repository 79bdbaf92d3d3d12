import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonFieldScanner } from '../../src/cli/lines/json-field-scanner.js';

/** What JSON.parse says of `text`: whether it is JSON, and the key at `path` as `kpl send` has always read it. */
function byJsonParse(text: string, path: readonly string[]): { valid: boolean; value: string | undefined } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { valid: false, value: undefined };
  }
  for (const name of path)
    value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
  return {
    valid: true,
    value: typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined,
  };
}

function byScanner(text: string, path: readonly string[]): { valid: boolean; value: string | undefined } {
  const scanner = new JsonFieldScanner(path);
  const bytes = Buffer.from(`xx${text}yy`);
  const valid = scanner.scan(bytes, 2, bytes.length - 2);
  return { valid, value: valid ? scanner.value : undefined };
}

describe('JsonFieldScanner', () => {
  it.each([
    ['{"id":"a1","n":1}', ['id'], 'a1'],
    ['{"meta":{"device":"d-7"},"n":1}', ['meta', 'device'], 'd-7'],
    ['{"n":12.50}', ['n'], '12.5'],
    ['{"ok":true}', ['ok'], 'true'],
    ['{"id":"caf\\u00e9 \\"x\\""}', ['id'], 'café "x"'],
    ['{"id":"a","id":"b"}', ['id'], 'b'],
    ['{"a":{"b":"x"},"a":5}', ['a', 'b'], undefined],
    ['{"id":null}', ['id'], undefined],
    ['{"id":{"x":1}}', ['id'], undefined],
    ['[{"id":"a"}]', ['id'], undefined],
    ['{"i\\u0064":"escaped key"}', ['id'], 'escaped key'],
    [' {"id" : "spaced" } ', ['id'], 'spaced'],
    ['{"id":"ünïcödé ☃"}', ['id'], 'ünïcödé ☃'],
  ])('reads %s at %j as %j', (text, path, expected) => {
    expect(byScanner(text, path)).toEqual({ valid: true, value: expected });
  });

  it.each([
    '',
    '{',
    '{"a":1,}',
    '{"a":01}',
    '{"a":1}x',
    '{"a":"\t"}',
    '{"a":tru}',
    '{"a":1.}',
    '{"a" 1}',
    '[1,]',
    '{"a":"\\x"}',
    '"\\u12"',
  ])('rejects %j as JSON.parse does', (text) => {
    expect(byScanner(text, ['a']).valid).toBe(false);
  });

  it('leaves nesting deeper than it scans to JSON.parse', () => {
    const deep = `{"id":"top","x":${'['.repeat(200)}${']'.repeat(200)}}`;
    expect(byScanner(deep, ['id'])).toEqual({ valid: true, value: 'top' });
    expect(byScanner(`${'['.repeat(200)}${']'.repeat(199)}`, []).valid).toBe(false);
  });

  it('agrees with JSON.parse on any JSON value and any path into it', () => {
    const key = fc.constantFrom('id', 'a', 'b', 'é', '');
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.array(key, { minLength: 1, maxLength: 3 }),
        fc.dictionary(key, fc.jsonValue({ maxDepth: 2 })),
        (value, path, top) => {
          for (const text of [
            JSON.stringify(value),
            JSON.stringify({ ...top, [path[0] as string]: value }),
            JSON.stringify(value, null, 2),
          ]) {
            expect(byScanner(text, path)).toEqual(byJsonParse(text, path));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('agrees with JSON.parse on whether damaged JSON is JSON', () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.string({ maxLength: 2 }), (text, at, insert) => {
        const position = at % (text.length + 1);
        for (const damaged of [
          text.slice(0, position) + insert + text.slice(position),
          text.slice(0, position) + text.slice(position + 1),
        ]) {
          expect(byScanner(damaged, ['id']).valid).toBe(byJsonParse(damaged, ['id']).valid);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
