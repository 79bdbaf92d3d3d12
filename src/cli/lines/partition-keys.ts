import { MAX_PARTITION_KEY_LENGTH } from '../../format/limits.js';

/** A random partition key: records without a key field spread evenly over the shards. */
export function randomPartitionKey(): string {
  return Math.floor(Math.random() * Number.MAX_SAFE_INTEGER).toString(36);
}

/**
 * The partition key at `path` in a converted record: a string, or a number or boolean as
 * `String()` gives it. Undefined when the path is missing or holds anything else.
 */
export function keyAtPath(record: unknown, path: readonly string[]): string | undefined {
  let value = record;
  for (const name of path)
    value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

/** Why a key field's value cannot be a partition key, or undefined when it can. */
export function keyProblem(key: string | undefined): 'KeyFieldMissing' | 'KeyFieldTooLong' | undefined {
  if (key === undefined || key === '') return 'KeyFieldMissing';
  return key.length > MAX_PARTITION_KEY_LENGTH ? 'KeyFieldTooLong' : undefined;
}
