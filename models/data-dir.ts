import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * The shared recordings (`../shared/data/barbell-imu` from the repository root), from the source tree or
 * from a compiled copy under dist/; GYMHUB_SHARED_DATA (the shared folder) wins when set.
 */
export async function defaultDataDir(env: Record<string, string | undefined> = {}): Promise<string> {
  const candidates = [
    ...(env.GYMHUB_SHARED_DATA ? [`${env.GYMHUB_SHARED_DATA.replace(/\/+$/, '')}/data/barbell-imu`, env.GYMHUB_SHARED_DATA] : []),
    fileURLToPath(new URL('../../shared/data/barbell-imu', import.meta.url)),
    fileURLToPath(new URL('../../../shared/data/barbell-imu', import.meta.url)),
  ];
  for (const dir of candidates) {
    try {
      await access(dir);
      return dir;
    } catch {
      // next candidate
    }
  }
  return candidates[candidates.length - 2];
}
