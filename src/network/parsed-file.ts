import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/** Larger than any leases file or neighbour table of a router (a lease line is about 80 bytes). */
export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;

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
 *
 * Only a regular file is read, never through a symbolic link, and never more than `maxBytes`:
 * anything else throws, and the caller treats the file as unusable.
 */
export class ParsedFile<T> {
  private cached: { key: string; value: T; trusted: boolean } | null = null;
  /** Times the file was read and parsed (for tests). */
  reads = 0;

  constructor(
    readonly path: string,
    private readonly parse: (text: string) => T,
    private readonly options: { racyMs?: number; now?: () => number; maxBytes?: number } = {},
  ) {}

  /** The parsed file; a missing file parses as empty text. */
  async get(): Promise<T> {
    const stats = statOptional(this.path);
    if (!stats) return this.parse('');
    const key = `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
    if (this.cached?.trusted && this.cached.key === key) return this.cached.value;
    if (!stats.isFile()) throw notRegular(this.path);
    const maxBytes = this.options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
    // A file without a size is a kernel table (procfs), read on every lookup and so on every
    // answer: read at once, a few µs, instead of five trips through the thread pool.
    const text = stats.size === 0 ? readCappedSync(this.path, maxBytes) : await readCapped(this.path, maxBytes);
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
    return lstatSync(path);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Opened without following a link and without blocking (a FIFO), then checked again on the open file. */
async function readCapped(path: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    return emptyIfMissing(path, error);
  }
  try {
    if (!(await handle.stat()).isFile()) throw notRegular(path);
    const reader = cappedReader(path, maxBytes);
    while (reader.took((await handle.read(reader.buffer, 0, reader.buffer.length, null)).bytesRead));
    return reader.text();
  } finally {
    await handle.close();
  }
}

/** readCapped without awaiting: the same flags and checks, for kernel tables that never block. */
function readCappedSync(path: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    return emptyIfMissing(path, error);
  }
  try {
    if (!fstatSync(fd).isFile()) throw notRegular(path);
    const reader = cappedReader(path, maxBytes);
    while (reader.took(readSync(fd, reader.buffer, 0, reader.buffer.length, null)));
    return reader.text();
  } finally {
    closeSync(fd);
  }
}

/** What a failed open means: a missing file reads as empty; a link or anything else is refused. */
function emptyIfMissing(path: string, error: unknown): string {
  if (isMissing(error)) return '';
  if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new Error(`${path} is a symbolic link; it is not read`);
  throw error;
}

function notRegular(path: string): Error {
  return new Error(`${path} is not a regular file; it is not read`);
}

/** Collects what each read put in `buffer` until the end of the file, refusing more than `maxBytes`. */
function cappedReader(path: string, maxBytes: number) {
  const buffer = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
  const chunks: Buffer[] = [];
  let total = 0;
  return {
    buffer,
    /** Keeps the `bytesRead` the last read gave; false at the end of the file. */
    took(bytesRead: number): boolean {
      if (bytesRead === 0) return false;
      total += bytesRead;
      if (total > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes; it is not read`);
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
      return true;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
