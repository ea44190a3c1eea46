import { chmod, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Adapter } from 'lowdb';
import { StateFileError } from './errors.js';

const FILE_MODE = 0o600;

/**
 * A lowdb adapter for a small JSON file that holds secrets (the API token's hash). Unlike lowdb's own
 * JSONFile it keeps the file at mode 0600 across writes (a rename would otherwise bring the temp file's
 * default mode) and fsyncs the data and the directory, so that a power cut leaves the old or the new file,
 * never an empty one. Writes run one after another, in the order they were asked for.
 */
export class SecureJsonFile<T> implements Adapter<T> {
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateFileError(this.path, [(err as Error).message]);
    }
    await this.tightenMode();
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new StateFileError(this.path, [`not valid JSON: ${(err as Error).message}`]);
    }
  }

  /** A state file someone made readable to others (it holds the token hash) is set back to 0600. */
  private async tightenMode(): Promise<void> {
    try {
      if (((await stat(this.path)).mode & 0o777) !== FILE_MODE) await chmod(this.path, FILE_MODE);
    } catch (err) {
      throw new StateFileError(this.path, [`cannot set mode 0600: ${(err as Error).message}`]);
    }
  }

  write(data: T): Promise<void> {
    // Serialised now, so that each write stores the state as it was when it was asked for.
    const text = `${JSON.stringify(data, null, 2)}\n`;
    const next = this.queue.catch(() => undefined).then(() => this.replace(text));
    this.queue = next;
    return next;
  }

  private async replace(text: string): Promise<void> {
    const temp = `${this.path}.tmp`;
    const file = await open(temp, 'w', FILE_MODE);
    try {
      // A temp file left over from a crash keeps its old mode through open(): set it.
      await file.chmod(FILE_MODE);
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, this.path);
    const directory = await open(dirname(this.path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}
