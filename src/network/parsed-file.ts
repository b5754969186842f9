import { statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * A changing text file (a DHCP leases file) parsed once and re-parsed only when it changes, so a
 * lookup costs one stat instead of reading and parsing the whole file.
 *
 * "Changed" is any difference in inode, size, mtime or ctime: a rename over it (new inode), a
 * rewrite in place (size, mtime, ctime), even `touch`. File times are coarse (the kernel's clock
 * tick), so two writes of the same size in one tick could look identical; as git does with its
 * "racily clean" index entries, a file modified within `racyMs` of being read is not trusted
 * and is read again on every call until it has been quiet that long.
 * Files without a size (procfs, like /proc/net/arp) are read every time.
 */
export class ParsedFile<T> {
  private cached: { key: string; value: T; trusted: boolean } | null = null;
  /** Times the file was read and parsed (for tests). */
  reads = 0;

  constructor(
    readonly path: string,
    private readonly parse: (text: string) => T,
    private readonly options: { racyMs?: number; now?: () => number } = {},
  ) {}

  /** The parsed file; a missing file parses as empty text. */
  async get(): Promise<T> {
    const stats = statOptional(this.path);
    if (!stats) return this.parse('');
    const key = `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
    if (this.cached?.trusted && this.cached.key === key) return this.cached.value;
    const text = await readOptional(this.path);
    this.reads += 1;
    const value = this.parse(text);
    const now = (this.options.now ?? Date.now)();
    const quiet = now - Math.max(stats.mtimeMs, stats.ctimeMs) >= (this.options.racyMs ?? 2000);
    this.cached = { key, value, trusted: stats.isFile() && stats.size > 0 && quiet };
    return value;
  }
}

function statOptional(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return '';
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
