/** How error messages show numbers and values, the same in every error this library raises. */

/** A number with thousands separators: 1,048,576. */
export function formatNumber(value: number): string {
  return value.toLocaleString('en-US');
}

const MAX_QUOTED_LENGTH = 60;

/** A value as an error message quotes what it got: a string in quotes (cut at 60 characters), else its kind. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}...` : value;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  return typeof value;
}
