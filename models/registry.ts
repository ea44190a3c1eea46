import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ModelError } from './errors.js';
import { loadModelFile } from './load-model.js';
import { parseModel, serializeModel, type ModelFile } from './model-file.js';

/**
 * Versioned models on the file system: `<dataDir>/models/<version>/model.json` (the model with its
 * metrics) and `meta.json` (when and from where it came); `<dataDir>/models/active.json` names the active
 * version and the versions active before it (for rollback). The bundled model is always available and is
 * the fallback when nothing else is active or the active one cannot be loaded.
 */
export interface RegistryEntry {
  version: string;
  featureVersion: number;
  classes: string[];
  metrics?: Record<string, unknown>;
  /** ms since the epoch; undefined for the bundled model. */
  addedAt?: number;
  source: string;
  active: boolean;
}

interface ActivePointer {
  active: string;
  /** Versions that were active before, most recent last. */
  history: string[];
}

export interface ModelRegistryOptions {
  dataDir: string;
  /** Loads the bundled model (injected so tests and the cloud job can use another one). */
  loadBundled: () => Promise<ModelFile>;
  now?: () => number;
}

const VERSION_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;
const HISTORY_LIMIT = 20;

export class ModelRegistry {
  private readonly dir: string;
  private readonly loadBundled: () => Promise<ModelFile>;
  private readonly now: () => number;
  private bundledEntry: BundledEntry | undefined;

  constructor(options: ModelRegistryOptions) {
    this.dir = join(options.dataDir, 'models');
    this.loadBundled = options.loadBundled;
    this.now = options.now ?? Date.now;
  }

  /**
   * The bundled model, read from its file at each call (start-up, activation, training). Kept, it would hold
   * its forest's JSON trees, about 7 MB of objects, for the life of the hub while recognition uses the
   * compiled copy (bench/soak, heap snapshot); only its summary is kept.
   */
  async bundledModel(): Promise<ModelFile> {
    const model = await this.loadBundled();
    this.bundledEntry ??= summary(model);
    return model;
  }

  private async bundled(): Promise<BundledEntry> {
    if (!this.bundledEntry) await this.bundledModel();
    return this.bundledEntry!;
  }

  /** Every available model, the bundled one first, then stored ones oldest first. */
  async list(): Promise<RegistryEntry[]> {
    const bundled = await this.bundled();
    const activeVersion = await this.activeVersion();
    const entries: RegistryEntry[] = [
      { ...bundled, classes: [...bundled.classes], source: 'bundled', active: activeVersion === bundled.version },
    ];
    for (const version of await this.storedVersions()) {
      if (version === bundled.version) continue;
      const meta = await this.readMeta(version);
      if (!meta) continue;
      entries.push({ ...meta, active: activeVersion === version });
    }
    return entries.sort((a, b) => (a.addedAt ?? -1) - (b.addedAt ?? -1));
  }

  /** The active version; the bundled model's when none is set or the set one is gone. */
  async activeVersion(): Promise<string> {
    const pointer = await this.readPointer();
    const bundled = await this.bundled();
    if (!pointer || pointer.active === bundled.version) return bundled.version;
    return (await this.readMeta(pointer.active)) ? pointer.active : bundled.version;
  }

  /** The active model, falling back to the bundled one when the active file is missing or unusable. */
  async active(): Promise<{ model: ModelFile; fallback?: string }> {
    // At start-up the bundled model is not known yet: the copy read to learn its version is the one returned.
    const loaded = this.bundledEntry ? undefined : await this.bundledModel();
    const version = await this.activeVersion();
    const bundled = await this.bundled();
    if (version === bundled.version) return { model: loaded ?? (await this.bundledModel()) };
    try {
      return { model: await this.get(version) };
    } catch (err) {
      return { model: loaded ?? (await this.bundledModel()), fallback: `active model ${version} unusable: ${(err as Error).message}` };
    }
  }

  async get(version: string): Promise<ModelFile> {
    const bundled = await this.bundled();
    if (version === bundled.version) return this.bundledModel();
    checkVersion(version);
    return loadModelFile(join(this.dir, version, 'model.json'));
  }

  /** Stores a model (with its metrics); `activate` makes it active at once. */
  async add(
    model: ModelFile,
    metrics?: Record<string, unknown>,
    options: { source?: string; activate?: boolean } = {},
  ): Promise<RegistryEntry> {
    const checked = parseModel(model);
    checkVersion(checked.version);
    const stored: ModelFile = metrics ? { ...checked, metrics } : checked;
    const versionDir = join(this.dir, checked.version);
    await mkdir(versionDir, { recursive: true });
    await writeAtomic(join(versionDir, 'model.json'), serializeModel(stored));
    const entry: Omit<RegistryEntry, 'active'> = {
      ...summary(stored),
      addedAt: this.now(),
      source: options.source ?? 'trained',
    };
    await writeAtomic(join(versionDir, 'meta.json'), `${JSON.stringify(entry, null, 2)}\n`);
    if (options.activate) await this.activate(checked.version);
    return { ...entry, active: options.activate === true };
  }

  /** Makes `version` active; the previous one is remembered for rollback(). */
  async activate(version: string): Promise<void> {
    const bundled = await this.bundled();
    if (version !== bundled.version) await this.get(version);
    const current = await this.activeVersion();
    if (current === version) return;
    const pointer = (await this.readPointer()) ?? { active: current, history: [] };
    const history = [...pointer.history, current].slice(-HISTORY_LIMIT);
    await this.writePointer({ active: version, history });
  }

  /** Re-activates the previously active version (the bundled model when there is no history). */
  async rollback(): Promise<string> {
    const bundled = await this.bundled();
    const pointer = await this.readPointer();
    const current = await this.activeVersion();
    const history = [...(pointer?.history ?? [])];
    let target: string | undefined;
    while (history.length > 0 && target === undefined) {
      const candidate = history.pop()!;
      if (candidate !== current && (candidate === bundled.version || (await this.readMeta(candidate)))) target = candidate;
    }
    if (target === undefined) {
      if (current === bundled.version) throw new ModelError('model_not_found', 'nothing to roll back to');
      target = bundled.version;
    }
    await this.writePointer({ active: target, history });
    return target;
  }

  private async storedVersions(): Promise<string[]> {
    try {
      const entries = await readdir(this.dir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && VERSION_PATTERN.test(e.name)).map((e) => e.name).sort();
    } catch {
      return [];
    }
  }

  private async readMeta(version: string): Promise<Omit<RegistryEntry, 'active'> | undefined> {
    if (!VERSION_PATTERN.test(version)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir, version, 'meta.json'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  private async readPointer(): Promise<ActivePointer | undefined> {
    try {
      const value = JSON.parse(await readFile(join(this.dir, 'active.json'), 'utf8')) as ActivePointer;
      if (typeof value.active !== 'string' || !Array.isArray(value.history)) return undefined;
      return value;
    } catch {
      return undefined;
    }
  }

  private async writePointer(pointer: ActivePointer): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeAtomic(join(this.dir, 'active.json'), `${JSON.stringify(pointer, null, 2)}\n`);
  }
}

type BundledEntry = Omit<RegistryEntry, 'active' | 'source'>;

function summary(model: ModelFile): BundledEntry {
  return {
    version: model.version,
    featureVersion: model.featureVersion,
    classes: [...model.classes],
    ...(model.metrics ? { metrics: model.metrics } : {}),
  };
}

function checkVersion(version: string): void {
  if (!VERSION_PATTERN.test(version)) {
    throw new ModelError('invalid_model', `model version must match ${VERSION_PATTERN}, got ${JSON.stringify(version)}`);
  }
}

/** Write to a temporary file, then rename: a crash leaves the old file or the new one, never half of one. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
