import type { TrainOptions } from './train.js';

/**
 * How the bundled model is trained (npm run train) and how scripts/cross-validate.ts evaluates that recipe.
 * Seeded: the same data give the same bytes.
 */
export const BUNDLED_TRAIN_OPTIONS: TrainOptions & { forest: NonNullable<TrainOptions['forest']> } = {
  featurePool: 'invariant',
  augmentSpeeds: [0.5, 0.7, 1.4, 2],
  forest: {
    nEstimators: 60,
    maxDepth: 20,
    minSamplesSplit: 10,
    minSamplesLeaf: 5,
    maxFeatures: 'sqrt',
    maxBins: 64,
    classWeight: 'balanced',
    seed: 42,
  },
  notes: { data: 'shared/data/barbell-imu' },
};
