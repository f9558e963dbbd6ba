import type mongoose from 'mongoose';
import * as models from './models/index.js';

export const allModels = Object.values(models).filter((value): value is mongoose.Model<any> => typeof value === 'function' && 'createIndexes' in value);

/** Creates every model's indexes, awaited, so a failure stops the start instead of surfacing later. */
export async function createIndexes(): Promise<void> {
  await Promise.all(allModels.map((model) => model.createIndexes()));
}
