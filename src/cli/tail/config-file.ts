import { readFile } from 'node:fs/promises';
import { LINE_FORMATS, type LineRecordOptions, MAX_LINE_BYTES, UNPARSED_ACTIONS } from '../lines/line-record-options.js';
import type { FlowSpec } from './flow.js';

/** A --config file that cannot be used; the message names the flow and the field. */
export class TailConfigError extends Error {
  override readonly name = 'TailConfigError';
}

const FLOW_FIELDS = [
  'name',
  'patterns',
  'stream',
  'format',
  'keyField',
  'key',
  'from',
  'multilineStart',
  'fields',
  'skipHeaderLines',
  'maxLineBytes',
  'truncatedTerminator',
  'longLines',
  'unparsed',
] as const;

/**
 * Reads the flows of a --config file:
 * `{ "flows": [ { "name", "patterns": [...], "stream", "format", "keyField" | "key", "from", ... } ] }`.
 * @throws TailConfigError naming the flow and the field at the first problem.
 */
export async function loadFlows(file: string): Promise<FlowSpec[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new TailConfigError(`--config ${file}: ${(error as Error).message}`);
  }
  return parseFlows(parsed, file);
}

/** The flows of a parsed --config document; `source` names it in messages. */
export function parseFlows(document: unknown, source: string): FlowSpec[] {
  const flows = (document as { flows?: unknown } | null)?.flows;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new TailConfigError(`--config ${source}: expected a JSON object with a "flows" array`);
  }
  for (const key of Object.keys(document)) {
    if (key !== 'flows') throw new TailConfigError(`--config ${source}: unknown field "${key}"; the file holds "flows"`);
  }
  if (!Array.isArray(flows) || flows.length === 0) throw new TailConfigError(`--config ${source}: "flows" must be a non-empty array`);
  const names = new Set<string>();
  return flows.map((flow: unknown, index) => {
    const flowName = typeof (flow as { name?: unknown } | null)?.name === 'string' ? (flow as { name: string }).name : `flows[${index}]`;
    const fail = (field: string, problem: string): never => {
      throw new TailConfigError(`--config ${source}: flow "${flowName}", field "${field}": ${problem}`);
    };
    if (typeof flow !== 'object' || flow === null || Array.isArray(flow)) fail('(flow)', 'expected an object');
    const fields = flow as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (!(FLOW_FIELDS as readonly string[]).includes(key)) fail(key, `unknown field; expected one of ${FLOW_FIELDS.join(', ')}`);
    }
    if (names.has(flowName)) fail('name', 'another flow has the same name');
    names.add(flowName);
    const text = (field: string): string | undefined => {
      const value = fields[field];
      if (value === undefined) return undefined;
      if (typeof value !== 'string' || value === '') fail(field, `expected a non-empty string, got ${JSON.stringify(value)}`);
      return value as string;
    };
    const whole = (field: string, max: number): number | undefined => {
      const value = fields[field];
      if (value === undefined) return undefined;
      if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max) {
        fail(field, `expected a whole number from 0 to ${max.toLocaleString('en-US')}, got ${JSON.stringify(value)}`);
      }
      return value as number;
    };
    const oneOf = <T extends string>(field: string, choices: readonly T[]): T | undefined => {
      const value = text(field);
      if (value !== undefined && !(choices as readonly string[]).includes(value))
        fail(field, `expected one of ${choices.join(', ')}, got "${value}"`);
      return value as T | undefined;
    };
    const patterns = fields['patterns'];
    if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((pattern) => typeof pattern === 'string' && pattern !== '')) {
      fail('patterns', 'expected a non-empty array of glob patterns');
    }
    const stream = text('stream') ?? fail('stream', 'missing; every flow names its stream');
    if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(stream)) fail('stream', 'expected 1 to 128 characters of a-z A-Z 0-9 _ . -');
    const keyField = text('keyField');
    const key = text('key');
    if (keyField !== undefined && key !== undefined) fail('key', 'give keyField or key, not both');
    if (key !== undefined && key.length > 256) fail('key', `a partition key is 1 to 256 characters; this one has ${key.length}`);
    const multilineStart = text('multilineStart');
    let multilineRegex: RegExp | undefined;
    if (multilineStart !== undefined) {
      try {
        multilineRegex = new RegExp(multilineStart);
      } catch (error) {
        fail('multilineStart', (error as Error).message);
      }
    }
    const csvFields = fields['fields'];
    if (csvFields !== undefined && (!Array.isArray(csvFields) || !csvFields.every((field) => typeof field === 'string' && field !== ''))) {
      fail('fields', 'expected an array of column names');
    }
    const maxLineBytes = whole('maxLineBytes', MAX_LINE_BYTES);
    if (maxLineBytes === 0) fail('maxLineBytes', 'expected at least 1');
    const skipHeaderLines = whole('skipHeaderLines', 1_000_000);
    const truncatedTerminator = fields['truncatedTerminator'];
    if (truncatedTerminator !== undefined && typeof truncatedTerminator !== 'string') fail('truncatedTerminator', 'expected a string');
    const longLines = oneOf('longLines', ['split', 'truncate'] as const);
    const unparsed = oneOf('unparsed', UNPARSED_ACTIONS);
    const reader: LineRecordOptions = {
      format: oneOf('format', LINE_FORMATS) ?? 'lines',
      ...(csvFields !== undefined ? { fields: csvFields as string[] } : {}),
      ...(keyField !== undefined ? { keyField } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(multilineRegex !== undefined ? { multilineStart: multilineRegex } : {}),
      ...(skipHeaderLines !== undefined ? { skipHeaderLines } : {}),
      ...(maxLineBytes !== undefined ? { maxLineBytes } : {}),
      ...(typeof truncatedTerminator === 'string' ? { truncatedTerminator } : {}),
      ...(longLines !== undefined ? { longLines } : {}),
      ...(unparsed !== undefined ? { unparsed } : {}),
    };
    return { name: flowName, patterns: patterns as string[], stream, reader, from: oneOf('from', ['start', 'end'] as const) ?? 'end' };
  });
}
