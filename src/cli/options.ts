import { InvalidArgumentError } from 'commander';

/** Exit code of a usage error: a bad flag, a bad value, a missing argument. */
export const USAGE_EXIT_CODE = 2;

/** A commander argument parser for a whole number from `min` to `max`. */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}.`);
    }
    return number;
  };
}

/** A commander argument parser for a number above 0 and at most `max`. */
export function positiveNumber(max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number <= 0 || number > max) {
      throw new InvalidArgumentError(`expected a number above 0, at most ${max.toLocaleString('en-US')}.`);
    }
    return number;
  };
}

/** A commander argument parser for an http:// or https:// URL. */
export function endpointUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL like http://127.0.0.1:4567 or https://kinesis.us-east-1.amazonaws.com.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http:// or https:// URL.');
  return value;
}

/** A commander argument parser for a Kinesis stream name. */
export function streamName(value: string): string {
  if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(value)) throw new InvalidArgumentError('expected 1 to 128 characters of a-z A-Z 0-9 _ . -');
  return value;
}

/** Dummy credentials for a local endpoint when the environment has none: a local Kinesis checks signatures' form, not their keys. */
export function localCredentials(
  endpoint: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { accessKeyId: string; secretAccessKey: string } | undefined {
  if (endpoint === undefined || env['AWS_ACCESS_KEY_ID'] !== undefined || env['AWS_PROFILE'] !== undefined) return undefined;
  const host = new URL(endpoint).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined;
}
