import { describe, expect, it } from 'vitest';
import { parseFlows, TailConfigError } from '../../src/cli/tail/config-file.js';

describe('kpl tail --config flows', () => {
  it('reads flows with their patterns, stream, format, key and start position', () => {
    const flows = parseFlows(
      {
        flows: [
          { name: 'web', patterns: ['/var/log/httpd/access_log*'], stream: 'web-logs', format: 'apache', keyField: 'host', from: 'start' },
          {
            patterns: ['/var/log/app/*.log'],
            stream: 'app-logs',
            key: 'app',
            multilineStart: '^\\d{4}-',
            maxLineBytes: 1000,
            longLines: 'split',
          },
        ],
      },
      'flows.json',
    );
    expect(flows[0]).toMatchObject({ name: 'web', stream: 'web-logs', from: 'start', reader: { format: 'apache', keyField: 'host' } });
    expect(flows[1]).toMatchObject({
      name: 'flows[1]',
      stream: 'app-logs',
      from: 'end',
      reader: { format: 'lines', key: 'app', maxLineBytes: 1000, longLines: 'split' },
    });
    expect(flows[1]?.reader.multilineStart).toEqual(/^\d{4}-/);
  });

  it.each([
    [{ flows: [{ name: 'web', patterns: ['a'] }] }, 'flow "web", field "stream": missing'],
    [{ flows: [{ name: 'web', patterns: [], stream: 's' }] }, 'flow "web", field "patterns"'],
    [
      { flows: [{ patterns: ['a'], stream: 's', format: 'xml' }] },
      'flow "flows[0]", field "format": expected one of lines, json, csv, apache, syslog, got "xml"',
    ],
    [
      { flows: [{ name: 'x', patterns: ['a'], stream: 's', keyField: 'k', key: 'k' }] },
      'flow "x", field "key": give keyField or key, not both',
    ],
    [{ flows: [{ name: 'x', patterns: ['a'], stream: 's', multilineStart: '(' }] }, 'flow "x", field "multilineStart"'],
    [{ flows: [{ name: 'x', patterns: ['a'], stream: 's', streem: 'typo' }] }, 'flow "x", field "streem": unknown field'],
    [{ flows: [{ name: 'x', patterns: ['a'], stream: 's', maxLineBytes: -1 }] }, 'flow "x", field "maxLineBytes": expected a whole number'],
    [
      {
        flows: [
          { name: 'x', patterns: ['a'], stream: 's' },
          { name: 'x', patterns: ['b'], stream: 's' },
        ],
      },
      'flow "x", field "name": another flow has the same name',
    ],
    [{ flows: [] }, '"flows" must be a non-empty array'],
    [{ flows: [{ patterns: ['a'], stream: 's' }], extra: 1 }, 'unknown field "extra"'],
  ])('names the flow and the field of a problem: %j', (document, message) => {
    expect(() => parseFlows(document, 'flows.json')).toThrow(TailConfigError);
    expect(() => parseFlows(document, 'flows.json')).toThrow(message);
  });
});
