import { GymhubError } from '../errors.js';

/** state.json exists but cannot be used; it is never silently replaced, since it holds the hub's identity. */
export class StateFileError extends GymhubError {
  constructor(path: string, problems: string[]) {
    super('state_file_invalid', `${path} cannot be used: ${problems.join('; ')}`, 500, { path, problems });
  }
}
