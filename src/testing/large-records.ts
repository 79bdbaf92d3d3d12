import { randomBytes } from 'node:crypto';

/** The most data bytes kinesalite stores in one record: it predates records over 1 MiB. */
export const KINESALITE_MAX_DATA_BYTES = 1024 * 1024;

/** A GetRecords answer in JSON, as kinesalite gives it. */
interface GetRecordsAnswer {
  Records?: Array<{ Data?: unknown }>;
}

/**
 * Keeps the data of records larger than kinesalite accepts, and gives kinesalite a short
 * placeholder to store in their place; GetRecords answers get the data back. So a stream whose
 * MaxRecordSizeInKiB is raised stores and returns records of up to 10 MiB, in order, with their
 * sequence numbers from kinesalite like any other record.
 *
 * A placeholder is a per-server random marker and a counter, so user data cannot pass for one.
 */
export class LargeRecordStore {
  readonly #marker = `kpl-local-large-record:${randomBytes(12).toString('hex')}:`;
  readonly #data = new Map<string, Buffer>();
  #next = 0;

  /** True once any record was stashed: until then GetRecords answers need no look inside. */
  get holdsAny(): boolean {
    return this.#data.size > 0;
  }

  /** Stores `data` and returns the base64 placeholder to send to kinesalite instead. */
  stash(data: Buffer): string {
    const placeholder = `${this.#marker}${this.#next++}`;
    this.#data.set(placeholder, data);
    return Buffer.from(placeholder, 'latin1').toString('base64');
  }

  /** Replaces the placeholders of a JSON GetRecords answer (base64 Data) with their data, in place. */
  restore(answer: GetRecordsAnswer): void {
    for (const record of answer.Records ?? []) {
      if (typeof record.Data !== 'string' || record.Data.length > 128) continue;
      const data = this.#data.get(Buffer.from(record.Data, 'base64').toString('latin1'));
      if (data !== undefined) record.Data = data.toString('base64');
    }
  }

  /** Forgets every stashed record, e.g. when the server closes. */
  clear(): void {
    this.#data.clear();
  }
}
