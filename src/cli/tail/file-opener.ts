import { type FileHandle, open } from 'node:fs/promises';

/**
 * Opens followed files for reading, and says once that a file cannot be read (until it can again):
 * a file the patterns match on every scan would otherwise be logged four times a second.
 */
export class FileOpener {
  readonly #unreadable = new Set<string>();
  readonly #log: (message: string) => void;

  constructor(log: (message: string) => void) {
    this.#log = log;
  }

  /** The open file, or undefined (logged) when it cannot be opened; the next scan tries it again. */
  async open(filePath: string): Promise<FileHandle | undefined> {
    try {
      const handle = await open(filePath, 'r');
      this.#unreadable.delete(filePath);
      return handle;
    } catch (error) {
      this.cannotRead(filePath, error);
      return undefined;
    }
  }

  /** Logs an unreadable file once until it becomes readable; a file that is gone (ENOENT) is not a problem. */
  cannotRead(filePath: string, error: unknown): void {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || this.#unreadable.has(filePath)) return;
    this.#unreadable.add(filePath);
    this.#log(`cannot read ${filePath}: ${(error as Error).message}; trying again`);
  }
}
