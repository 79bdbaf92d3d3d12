import type { UserRecord } from '../../records.js';

/** Where each line's partition key comes from. */
export type KeySource =
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'fixed'; readonly key: string }
  | { readonly kind: 'random' };

/** A line that cannot become a record, and why. */
export interface LineProblem {
  readonly code: 'KeyFieldMissing' | 'NotJson';
  readonly message: string;
}

/** The key source of `--key-field`, `--key`, or neither. */
export function keySource(keyField: string | undefined, key: string | undefined): KeySource {
  if (keyField !== undefined) return { kind: 'field', path: keyField.split('.') };
  if (key !== undefined) return { kind: 'fixed', key };
  return { kind: 'random' };
}

/**
 * One line as a user record: the line itself (without its line break) is the data, as UTF-8; the
 * key comes from `source`. A random key spreads the lines evenly over the shards.
 */
export function lineToRecord(line: string, source: KeySource): UserRecord | LineProblem {
  switch (source.kind) {
    case 'fixed':
      return { partitionKey: source.key, data: line };
    case 'random':
      return { partitionKey: randomKey(), data: line };
    case 'field': {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return { code: 'NotJson', message: `the line is not JSON, so --key-field ${source.path.join('.')} cannot be read from it` };
      }
      for (const name of source.path)
        value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') value = String(value);
      if (typeof value !== 'string' || value === '') {
        return { code: 'KeyFieldMissing', message: `the line has no non-empty string or number at ${source.path.join('.')}` };
      }
      return { partitionKey: value, data: line };
    }
  }
}

function randomKey(): string {
  return Math.floor(Math.random() * Number.MAX_SAFE_INTEGER).toString(36);
}
