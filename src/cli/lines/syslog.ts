/** RFC 5424: `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`. */
const RFC5424 = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$/s;

/**
 * RFC 3164 (BSD syslog), with or without its `<PRI>`: `Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, where
 * the timestamp may also be RFC 3339 (rsyslog's high-precision format), as the Agent's SYSLOG and
 * RFC3339SYSLOG formats accept.
 */
const RFC3164 =
  /^(?:<(\d{1,3})>)?((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (\S+) ([\w./%-]+)(?:\[(\d+)\])?: ?(.*)$/s;

/** UTF-8's byte order mark, which RFC 5424 lets a message begin with. */
const BOM = '\ufeff';

/**
 * A syslog line as an object. RFC 3164 lines get the Kinesis Agent's LOGTOJSON fields
 * (`timestamp`, `hostname`, `program`, `processid`, `message`); RFC 5424 lines get the same names
 * plus `version`, `msgid` and `structuredData` (its text). Both get `facility` and `severity`
 * (numbers) when the line has a priority. A `-` (RFC 5424's nil) or a missing part is null.
 * Undefined when the line is neither format.
 */
export function syslogToJson(line: string): Record<string, string | number | null> | undefined {
  const modern = RFC5424.exec(line);
  if (modern !== null) {
    const priority = Number(modern[1]);
    const message = modern[9];
    return {
      facility: priority >> 3,
      severity: priority & 7,
      version: Number(modern[2]),
      timestamp: nil(modern[3]),
      hostname: nil(modern[4]),
      program: nil(modern[5]),
      processid: nil(modern[6]),
      msgid: nil(modern[7]),
      structuredData: nil(modern[8]),
      message: message === undefined ? null : message.startsWith(BOM) ? message.slice(1) : message,
    };
  }
  const bsd = RFC3164.exec(line);
  if (bsd === null) return undefined;
  const record: Record<string, string | number | null> = {};
  if (bsd[1] !== undefined) {
    const priority = Number(bsd[1]);
    record['facility'] = priority >> 3;
    record['severity'] = priority & 7;
  }
  record['timestamp'] = bsd[2] as string;
  record['hostname'] = bsd[3] as string;
  record['program'] = bsd[4] as string;
  record['processid'] = bsd[5] ?? null;
  record['message'] = bsd[6] as string;
  return record;
}

function nil(value: string | undefined): string | null {
  return value === undefined || value === '-' ? null : value;
}
