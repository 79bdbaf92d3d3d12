/**
 * The stream a request names, by StreamName or by StreamARN
 * (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`), or undefined if it names none.
 */
export function streamNameOf(input: { StreamName?: unknown; StreamARN?: unknown }): string | undefined {
  if (typeof input.StreamName === 'string') return input.StreamName;
  if (typeof input.StreamARN !== 'string') return undefined;
  const marker = input.StreamARN.lastIndexOf(':stream/');
  return marker === -1 ? undefined : input.StreamARN.slice(marker + ':stream/'.length);
}

/** The account ID that kinesalite reports in its ARNs and error messages. */
export const LOCAL_ACCOUNT_ID = '000000000000';
