import { DEFAULT_SMOOTHING } from './smoothing.js';
import type { TrainOptions } from './train.js';

/**
 * How the bundled model is trained (npm run train) and how scripts/cross-validate.ts evaluates that recipe.
 * Seeded: the same data give the same bytes.
 *
 * maxFeatures 5 (of 494): few features tried per split make the trees more random and less alike. On new
 * lifters that alone moves little (LOLO macro-F1 0.644 vs 0.636, mean of seeds 42, 1, 2), but their votes
 * err less often on the same consecutive windows, so the temporal smoothing gains far more from them
 * (0.716 vs 0.678 with smoothing). Trees of 5 features grow slightly larger (60 trees: 60k nodes, 4.0 MB
 * of model file, against 48k and 3.2 MB with sqrt = 22); 100 or 150 trees gave no more (0.718).
 */
export const BUNDLED_TRAIN_OPTIONS: TrainOptions & { forest: NonNullable<TrainOptions['forest']> } = {
  featurePool: 'invariant',
  augmentSpeeds: [0.5, 0.7, 1.4, 2],
  forest: {
    nEstimators: 60,
    maxDepth: 20,
    minSamplesSplit: 10,
    minSamplesLeaf: 5,
    maxFeatures: 5,
    maxBins: 64,
    classWeight: 'balanced',
    seed: 42,
  },
  smoothing: DEFAULT_SMOOTHING,
  notes: { data: 'shared/data/barbell-imu' },
};
