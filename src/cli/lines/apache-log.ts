/** A quoted field of an Apache log: Apache writes a `"` inside it as `\"`. */
const QUOTED = String.raw`"((?:[^"\\]|\\.)*)"`;

/**
 * The common log format (`%h %l %u %t "%r" %>s %b`), then, for the combined format, the referer and
 * the user agent. Anything after that (a `%D` some servers add) is allowed and left out.
 */
const APACHE_LOG = new RegExp(String.raw`^(\S+) (\S+) (\S+) \[([^\]]+)\] ${QUOTED} (\d{3}|-) (\d+|-)(?: ${QUOTED} ${QUOTED})?(?:\s.*)?$`);

/** The fields of the common log format, as the Kinesis Agent's LOGTOJSON names them. */
const COMMON_FIELDS = ['host', 'ident', 'authuser', 'datetime', 'request', 'response', 'bytes'] as const;

/**
 * An Apache common or combined log line as an object, as the Kinesis Agent's LOGTOJSON turns it:
 * `host`, `ident`, `authuser`, `datetime`, `request`, `response`, `bytes`, and for the combined
 * format `referer` and `agent`. Every value is the line's text; a `-` is null. Undefined when the
 * line is neither format.
 */
export function apacheLogToJson(line: string): Record<string, string | null> | undefined {
  const match = APACHE_LOG.exec(line);
  if (match === null) return undefined;
  const record: Record<string, string | null> = {};
  for (let i = 0; i < COMMON_FIELDS.length; i++) record[COMMON_FIELDS[i] as string] = orNull(match[i + 1]);
  if (match[8] !== undefined) {
    record['referer'] = orNull(match[8]);
    record['agent'] = orNull(match[9]);
  }
  return record;
}

function orNull(value: string | undefined): string | null {
  return value === undefined || value === '-' ? null : value;
}
