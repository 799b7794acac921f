import type { Change } from '../change.js';
import type { StoredChange } from '../stored.js';
import { fileHandler } from './file.js';
import { objectHandler } from './object.js';
import { releaseHandler } from './release.js';
import type { KindHandler } from './types.js';

const HANDLERS = { object: objectHandler, file: fileHandler, release: releaseHandler } as const;

/** The one handler of a change's kind (a change or its stored form). */
export const handlerOf = (c: Change | StoredChange): KindHandler => HANDLERS[c.kind] as unknown as KindHandler;

export type { ApplyOutcome, EngineContext, KindHandler, RollbackStep, Written } from './types.js';
export { ConflictError } from './types.js';

import type { DryRunResult } from '../change.js';
import type { DiffLine } from '../diff.js';

/** The diff of any change, as typed lines (object YAML, file text, or a release's rendered manifests). */
export const diffOf = (c: Change, dry?: DryRunResult): DiffLine[] => handlerOf(c).diff(c, dry);
