import { describe, expect, it } from 'vitest';
import { syslogToJson } from '../../src/cli/lines/syslog.js';

describe('syslogToJson', () => {
  it("reads RFC 5424's own examples, structured data and nil values included", () => {
    expect(
      syslogToJson("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed for lonvick on /dev/pts/8"),
    ).toEqual({
      facility: 4,
      severity: 2,
      version: 1,
      timestamp: '2003-10-11T22:14:15.003Z',
      hostname: 'mymachine.example.com',
      program: 'su',
      processid: null,
      msgid: 'ID47',
      structuredData: null,
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
    expect(
      syslogToJson(
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...',
      ),
    ).toMatchObject({
      facility: 20,
      severity: 5,
      program: 'evntslog',
      structuredData: '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]',
      message: 'An application event log entry...',
    });
    expect(
      syslogToJson(
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"][examplePriority@32473 class="high"]',
      ),
    ).toMatchObject({ structuredData: '[exampleSDID@32473 iut="3"][examplePriority@32473 class="high"]', message: null });
    expect(
      syslogToJson("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."),
    ).toMatchObject({
      hostname: '192.0.2.1',
      program: 'myproc',
      processid: '8710',
      msgid: null,
      message: "%% It's time to make the do-nuts.",
    });
  });

  it('reads RFC 3164 lines with and without a priority, as /var/log/syslog holds them', () => {
    expect(syslogToJson("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")).toEqual({
      facility: 4,
      severity: 2,
      timestamp: 'Oct 11 22:14:15',
      hostname: 'mymachine',
      program: 'su',
      processid: null,
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
    expect(syslogToJson('Dec  5 11:59:40 ip-10-0-0-1 sshd[1234]: Accepted publickey for ec2-user from 10.0.0.2 port 52311 ssh2')).toEqual({
      timestamp: 'Dec  5 11:59:40',
      hostname: 'ip-10-0-0-1',
      program: 'sshd',
      processid: '1234',
      message: 'Accepted publickey for ec2-user from 10.0.0.2 port 52311 ssh2',
    });
  });

  it("reads rsyslog's high-precision RFC 3339 timestamps in the BSD layout", () => {
    expect(syslogToJson('2026-12-05T11:59:40.123456+00:00 web-1 systemd[1]: Started Session 42 of User ubuntu.')).toEqual({
      timestamp: '2026-12-05T11:59:40.123456+00:00',
      hostname: 'web-1',
      program: 'systemd',
      processid: '1',
      message: 'Started Session 42 of User ubuntu.',
    });
  });

  it('says a line in neither format is not syslog', () => {
    expect(syslogToJson('hello world')).toBeUndefined();
    expect(syslogToJson('<34>1 2003-10-11T22:14:15.003Z host app')).toBeUndefined();
  });
});
