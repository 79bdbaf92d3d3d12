/**
 * Turns one CSV line into an object of the given column names, as the Kinesis Agent's CSVTOJSON
 * does: every value a string, a missing column null, columns past the names dropped. Quoting
 * follows RFC 4180: a quoted field may hold the delimiter and doubled quotes (`""` is one `"`).
 * A record must lie on one line: a quoted line break is not joined.
 */
export class CsvToJson {
  readonly #fields: readonly string[];
  readonly #delimiter: number;
  readonly #values: Array<string | null> = [];

  /** @param fields the column names, in order; @param delimiter one character, `,` by default. */
  constructor(fields: readonly string[], delimiter = ',') {
    this.#fields = fields;
    this.#delimiter = delimiter.charCodeAt(0);
  }

  /** The line as an object of the column names, or undefined when it is not CSV (an unclosed quote, text after a closing quote). */
  convert(line: string): Record<string, string | null> | undefined {
    const values = this.#values;
    values.length = 0;
    if (!this.#split(line, values)) return undefined;
    const record: Record<string, string | null> = {};
    const fields = this.#fields;
    for (let i = 0; i < fields.length; i++) record[fields[i] as string] = i < values.length ? (values[i] as string) : null;
    return record;
  }

  #split(line: string, values: Array<string | null>): boolean {
    const delimiter = this.#delimiter;
    const length = line.length;
    let pos = 0;
    for (;;) {
      if (line.charCodeAt(pos) === 0x22) {
        let value = '';
        let from = pos + 1;
        for (;;) {
          const quote = line.indexOf('"', from);
          if (quote === -1) return false;
          value += line.slice(from, quote);
          if (line.charCodeAt(quote + 1) === 0x22) {
            value += '"';
            from = quote + 2;
            continue;
          }
          pos = quote + 1;
          break;
        }
        values.push(value);
        if (pos === length) return true;
        if (line.charCodeAt(pos) !== delimiter) return false;
        pos++;
        continue;
      }
      let next = pos;
      while (next < length && line.charCodeAt(next) !== delimiter) next++;
      values.push(line.slice(pos, next));
      if (next === length) return true;
      pos = next + 1;
    }
  }
}
