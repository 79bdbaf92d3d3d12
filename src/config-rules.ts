/**
 * The rules an option's value must follow (a whole number in a range, a boolean, one of a few
 * choices) and their checks. Each check throws a ValidationError with code KPL_CONFIG_INVALID that
 * names the option, its problem and the limit.
 */
import { describeValue, formatNumber } from './describe-value.js';
import { closestWord } from './closest-word.js';
import { ValidationError } from './errors.js';

/** A whole number in a range, with a default. */
export interface NumberRule {
  readonly kind: 'number';
  readonly default: number;
  readonly min: number;
  readonly max: number;
}
/** true or false, with a default. */
export interface BooleanRule {
  readonly kind: 'boolean';
  readonly default: boolean;
}
/** One of a few strings, with a default. */
export interface ChoiceRule {
  readonly kind: 'choice';
  readonly default: string;
  readonly choices: readonly string[];
}
/** Any value: the code that reads the option checks it. */
export interface FreeRule {
  readonly kind: 'free';
}
/** A number with no default: absent means "ask the service". */
export interface OptionalNumberRule {
  readonly kind: 'optionalNumber';
  readonly min: number;
  readonly max: number;
}
/** An option's rule, as the option tables hold it. */
export type Rule = NumberRule | BooleanRule | ChoiceRule | FreeRule | OptionalNumberRule;

/** A whole number from `min` to `max`, `value` when absent. */
export const number = (value: number, min: number, max: number): NumberRule => ({ kind: 'number', default: value, min, max });
/** true or false, `value` when absent. */
export const boolean = (value: boolean): BooleanRule => ({ kind: 'boolean', default: value });
/** One of `choices`, `value` when absent. */
export const choice = (value: string, choices: readonly string[]): ChoiceRule => ({ kind: 'choice', default: value, choices });
/** Any value: the code that reads the option checks it. */
export const free: FreeRule = { kind: 'free' };
/** A whole number from `min` to `max`, undefined when absent. */
export const optionalNumber = (min: number, max: number): OptionalNumberRule => ({ kind: 'optionalNumber', min, max });

/** The value of `field` under `rule`: its default when absent. @throws ValidationError when it breaks the rule. */
export function checkRule(field: string, rule: Rule, value: unknown): unknown {
  if (rule.kind === 'free') return value;
  if (value === undefined) return rule.kind === 'optionalNumber' ? undefined : rule.default;
  switch (rule.kind) {
    case 'number':
    case 'optionalNumber':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw configError(
          field,
          `${field} must be a whole number from ${formatNumber(rule.min)} to ${formatNumber(rule.max)}, got ${describeValue(value)}`,
          rule.max,
          describeValue(value),
        );
      }
      if (value < rule.min || value > rule.max) {
        throw configError(
          field,
          `${field} is ${formatNumber(value)}; it must be from ${formatNumber(rule.min)} to ${formatNumber(rule.max)}`,
          value < rule.min ? rule.min : rule.max,
          value,
        );
      }
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw configError(field, `${field} must be true or false, got ${describeValue(value)}`);
      return value;
    case 'choice':
      if (typeof value !== 'string' || !rule.choices.includes(value)) {
        throw configError(field, `${field} must be one of ${rule.choices.map((c) => `'${c}'`).join(', ')}, got ${describeValue(value)}`);
      }
      return value;
  }
}

/** A non-empty string option, or undefined when absent. @throws ValidationError otherwise. */
export function optionalString(options: Record<string, unknown>, field: string): string | undefined {
  const value = options[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw configError(field, `${field} must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

/** Throws for the first key of `value` that is not `known`, suggesting the closest known one (`prefix` names the parent option). */
export function rejectUnknownKeys(value: object, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const suggestion = closestWord(key, known);
    const hint = suggestion !== undefined ? `; did you mean ${prefix}${suggestion}?` : `; known options are ${known.join(', ')}`;
    throw configError(`${prefix}${key}`, `unknown option ${prefix}${key}${hint}`);
  }
}

/** A ValidationError of the config: code KPL_CONFIG_INVALID. */
export function configError(field: string, message: string, limit?: number, actual?: number | string): ValidationError {
  return new ValidationError(field, message, limit, actual, { code: 'KPL_CONFIG_INVALID' });
}
