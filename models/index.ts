/**
 * The public face of models/: what the hub's pipeline and API, the CLI and the cloud retraining job use.
 * Pure computation on samples; no transports, HTTP, LevelDB or Postgres.
 */
export type { Sample, Vec3 } from './sample.js';
export { ModelError, isModelError, type ModelErrorCode } from './errors.js';
export { DEFAULT_RATE_HZ, DEFAULT_MAX_GAP_MS, resample, StreamingResampler, type Segment, type ResampleOptions } from './resample.js';
export { DEFAULT_WINDOW_S, DEFAULT_OVERLAP, windowShape, segmentWindows, type WindowShape, type WindowOptions } from './windowing.js';
export { FEATURE_VERSION, FEATURE_COUNT, FEATURE_NAMES, FEATURES, INVARIANT_FEATURES } from './features/feature-list.js';
export { FeatureExtractor } from './features/extractor.js';
export { parseModel, parseModelJson, serializeModel, type ModelFile, type MotionGate } from './model-file.js';
export { loadModelFile, loadBundledModel, bundledModelPath } from './load-model.js';
export { Recognizer, REST_LABEL, UNKNOWN_LABEL, type WindowPrediction } from './recognizer.js';
export { LiveRecognizer, type LivePrediction, type LiveRecognizerOptions } from './live.js';
export { ProbabilitySmoother, DEFAULT_SMOOTHING, type SmoothingSettings } from './smoothing.js';
export { predictReadings, type PredictResult, type PredictOptions } from './predict.js';
export { sessionLabel } from './session-label.js';
export { RepCounter, countReps, type RepCountOptions, type RepCountResult } from './reps.js';
export { ModelRegistry, type RegistryEntry, type ModelRegistryOptions } from './registry.js';
export { trainModel, buildTrainingSet, trainModelFromSet, type LabelledRecording, type TrainOptions } from './train.js';
export { BUNDLED_TRAIN_OPTIONS } from './bundled-options.js';
export { evaluateSets, evaluateDataset, formatEvaluation, type EvaluationResult, type EvaluationSet } from './evaluate.js';
export { runEvaluate, EVALUATE_USAGE } from './cli-evaluate.js';
export { runTrain, TRAIN_USAGE } from './cli-train.js';
