import { DEFAULT_MAX_RECORD_SIZE_KIB, MAX_MAX_RECORD_SIZE_KIB } from './local-kinesis-options.js';
import { streamNameOf } from './stream-names.js';
import type { BodyCodec } from './wire.js';

/** The request's fields, or undefined if it does not decode to an object. */
export function decodeFields(codec: BodyCodec, body: Buffer): Record<string, unknown> | undefined {
  let input: unknown;
  try {
    input = codec.decode(body);
  } catch {
    return undefined;
  }
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined;
}

/**
 * Replaces a StreamARN with the StreamName it names, since kinesalite knows streams only by name.
 * Returns true if it changed the fields.
 */
export function nameStreamByArn(fields: Record<string, unknown>): boolean {
  if (typeof fields['StreamARN'] !== 'string' || fields['StreamName'] !== undefined) return false;
  const name = streamNameOf(fields);
  delete fields['StreamARN'];
  if (name !== undefined) fields['StreamName'] = name;
  return true;
}

/** The service's ValidationException message for a MaxRecordSizeInKiB out of range, quoting `shown`. */
export function maxRecordSizeMessage(shown: string): string {
  return (
    `1 validation error detected: Value '${shown}' at 'maxRecordSizeInKiB' failed to satisfy constraint: ` +
    `Member must have value between ${DEFAULT_MAX_RECORD_SIZE_KIB} and ${MAX_MAX_RECORD_SIZE_KIB}`
  );
}
