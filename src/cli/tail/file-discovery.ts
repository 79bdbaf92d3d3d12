import { stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';

/** A regular file a pattern matches now. */
export interface MatchedFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
}

/** The key a file is known by while it is followed: its device and inode, not its name. */
export function inodeKey(file: { readonly dev: number; readonly ino: number }): string {
  return `${file.dev}:${file.ino}`;
}

/**
 * The regular files the patterns match, in name order, each inode once (a file under two matching
 * names, through a hard link, is one file). A file that cannot be stat'ed goes to `cannotRead`.
 *
 * @throws when the patterns cannot be listed at all.
 */
export async function findMatchedFiles(
  patterns: readonly string[],
  cannotRead: (filePath: string, error: unknown) => void,
): Promise<MatchedFile[]> {
  const paths = await glob([...patterns], { absolute: true, onlyFiles: true, expandDirectories: false, dot: true });
  const found: MatchedFile[] = [];
  const keys = new Set<string>();
  for (const filePath of paths.sort()) {
    try {
      const stats = await stat(filePath);
      const key = inodeKey(stats);
      if (!stats.isFile() || keys.has(key)) continue;
      keys.add(key);
      found.push({ path: filePath, dev: stats.dev, ino: stats.ino, size: stats.size });
    } catch (error) {
      cannotRead(filePath, error);
    }
  }
  return found;
}

/**
 * New files that may be copies still being written: each is looked at again at the next scan, and
 * taken as it is once its size holds still for one scan or it has waited long enough.
 */
export class GrowingFiles {
  readonly #seen = new Map<string, { readonly size: number; readonly since: number }>();

  /** Whether the file's size held since it was last seen (`stable`), and since when it has waited. */
  look(key: string, size: number, now: number): { readonly stable: boolean; readonly since: number } {
    const seen = this.#seen.get(key);
    return { stable: seen !== undefined && seen.size === size, since: seen?.since ?? now };
  }

  /** Looks at the file again at the next scan. */
  wait(key: string, size: number, since: number): void {
    this.#seen.set(key, { size, since });
  }

  /** The file is followed now, or known for what it is. */
  forget(key: string): void {
    this.#seen.delete(key);
  }

  /** Forgets the files no pattern matched at this scan. */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const key of this.#seen.keys()) if (!keys.has(key)) this.#seen.delete(key);
  }
}
