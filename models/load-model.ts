import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ModelError } from './errors.js';
import { parseModelJson, type ModelFile } from './model-file.js';

/**
 * Where the committed bundled model is: next to this module in the source tree, and still found from a
 * compiled copy under dist/models/ (tsc does not copy JSON files).
 */
export function bundledModelCandidates(): string[] {
  return [
    fileURLToPath(new URL('./bundled/model.json', import.meta.url)),
    fileURLToPath(new URL('../../models/bundled/model.json', import.meta.url)),
  ];
}

export async function bundledModelPath(): Promise<string> {
  for (const path of bundledModelCandidates()) {
    try {
      await access(path);
      return path;
    } catch {
      // try the next place
    }
  }
  throw new ModelError('model_not_found', `bundled model not found (looked in ${bundledModelCandidates().join(', ')}); run npm run train`);
}

export async function loadModelFile(path: string): Promise<ModelFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelError('model_not_found', `cannot read model file ${path}: ${(err as Error).message}`, { path });
  }
  return parseModelJson(text);
}

export async function loadBundledModel(): Promise<ModelFile> {
  return loadModelFile(await bundledModelPath());
}
