import type { CartNode, CartTreeJson, RandomForestJson } from './forest-format.js';
import { binFeatures, type Binned } from './feature-bins.js';
import { randomInt, seededRandom } from './random.js';

/**
 * A random-forest trainer that writes ml-random-forest's model format (forest-format.ts). The library's own
 * trainer re-sorts every feature at every node and copies matrices (one tree on 3000 x 200 took ~38 s); this
 * one bins each feature once into at most maxBins quantile bins and grows trees on class histograms, with a
 * fresh random feature subset at every split (the usual random forest; the library only draws one subset
 * per tree). Split thresholds are bin edges, so `x < splitValue` means the same thing in training and in
 * prediction, in our predictor (forest.ts) and in the library's.
 */
export interface ForestTrainOptions {
  nEstimators?: number;
  maxDepth?: number;
  /** A node with fewer samples than this becomes a leaf. */
  minSamplesSplit?: number;
  minSamplesLeaf?: number;
  /** Features tried at each split: a count, or 'sqrt' / 'log2' of the pool size. */
  maxFeatures?: number | 'sqrt' | 'log2';
  /** Columns the trees may use; all columns when omitted. */
  featurePool?: readonly number[];
  /** Bootstrap sample size as a fraction of the training rows. */
  sampleFraction?: number;
  maxBins?: number;
  /** 'balanced' weighs each class by rows / (classes * rows of that class). */
  classWeight?: 'balanced' | 'none';
  seed?: number;
}

export const DEFAULT_FOREST_OPTIONS: Required<Omit<ForestTrainOptions, 'featurePool'>> = {
  nEstimators: 100,
  maxDepth: 20,
  minSamplesSplit: 4,
  minSamplesLeaf: 1,
  maxFeatures: 'sqrt',
  sampleFraction: 1,
  maxBins: 64,
  classWeight: 'balanced',
  seed: 42,
};

const DISTRIBUTION_DECIMALS = 1e4;

export function trainForest(
  rows: readonly ArrayLike<number>[],
  labels: readonly number[],
  classCount: number,
  options: ForestTrainOptions = {},
): RandomForestJson {
  const opts = { ...DEFAULT_FOREST_OPTIONS, ...options };
  if (rows.length === 0 || rows.length !== labels.length) throw new RangeError('need as many labels as rows, and at least one');
  const featureCount = rows[0].length;
  const pool = options.featurePool ? [...options.featurePool] : Array.from({ length: featureCount }, (_, i) => i);
  if (opts.maxBins < 2 || opts.maxBins > 256) throw new RangeError('maxBins must be in 2..256');
  const mtry = featuresPerSplit(opts.maxFeatures, pool.length);
  const binned = binFeatures(rows, pool, opts.maxBins);
  const classWeights = weightsOf(labels, classCount, opts.classWeight);
  const random = seededRandom(opts.seed);
  const treeOptions = {
    gainFunction: 'gini',
    splitFunction: 'mean',
    minNumSamples: opts.minSamplesSplit - 1,
    maxDepth: opts.maxDepth,
    gainThreshold: 0,
    kind: 'classifier',
  };
  const grower = new TreeGrower(binned, labels, classCount, classWeights, pool, mtry, opts, random);
  const estimators: CartTreeJson[] = [];
  const indexes: number[][] = [];
  for (let t = 0; t < opts.nEstimators; t++) {
    const { root, columns } = grower.grow();
    estimators.push({ options: treeOptions, root, name: 'DTClassifier' });
    indexes.push(columns);
  }
  return {
    name: 'RFClassifier',
    baseModel: {
      indexes,
      n: pool.length,
      replacement: false,
      maxFeatures: pool.length,
      nEstimators: opts.nEstimators,
      treeOptions: { ...treeOptions, maxFeaturesPerSplit: mtry, maxBins: opts.maxBins, classWeight: opts.classWeight },
      isClassifier: true,
      seed: opts.seed,
      estimators,
      useSampleBagging: true,
    },
  };
}

function featuresPerSplit(setting: number | 'sqrt' | 'log2', poolSize: number): number {
  const n = setting === 'sqrt' ? Math.sqrt(poolSize) : setting === 'log2' ? Math.log2(poolSize) : setting;
  return Math.max(1, Math.min(poolSize, Math.round(n)));
}

function weightsOf(labels: readonly number[], classCount: number, mode: 'balanced' | 'none'): Float64Array {
  const weights = new Float64Array(classCount).fill(1);
  if (mode === 'none') return weights;
  const counts = new Float64Array(classCount);
  for (const y of labels) counts[y]++;
  for (let c = 0; c < classCount; c++) weights[c] = counts[c] > 0 ? labels.length / (classCount * counts[c]) : 0;
  return weights;
}

interface GrowOptions {
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  sampleFraction: number;
}

class TreeGrower {
  private readonly rowCount: number;
  private readonly weights: Float64Array;
  private readonly order: Int32Array;
  private readonly perm: Int32Array;
  private readonly hist: Float64Array;
  private readonly histCount: Int32Array;
  private readonly classTotals: Float64Array;
  private readonly left: Float64Array;
  private usedColumns = new Set<number>();

  constructor(
    private readonly binned: Binned,
    private readonly labels: readonly number[],
    private readonly classCount: number,
    private readonly classWeights: Float64Array,
    pool: readonly number[],
    private readonly mtry: number,
    private readonly opts: GrowOptions,
    private readonly random: () => number,
  ) {
    this.rowCount = labels.length;
    this.weights = new Float64Array(this.rowCount);
    this.order = new Int32Array(this.rowCount);
    this.perm = Int32Array.from(pool);
    this.hist = new Float64Array(256 * classCount);
    this.histCount = new Int32Array(256);
    this.classTotals = new Float64Array(classCount);
    this.left = new Float64Array(classCount);
  }

  grow(): { root: CartNode; columns: number[] } {
    const n = this.rowCount;
    const draws = Math.max(1, Math.round(n * this.opts.sampleFraction));
    const counts = new Uint16Array(n);
    for (let d = 0; d < draws; d++) counts[randomInt(this.random, n)]++;
    let size = 0;
    for (let i = 0; i < n; i++) {
      if (counts[i] === 0) continue;
      this.weights[i] = counts[i] * this.classWeights[this.labels[i]];
      this.order[size++] = i;
    }
    this.usedColumns = new Set();
    const root = this.node(0, size, 0);
    // a tree that never split still needs a column list the library can select (it reads none of it)
    const columns = this.usedColumns.size > 0 ? [...this.usedColumns].sort((a, b) => a - b) : [this.perm[0]];
    const local = new Map(columns.map((c, i) => [c, i]));
    remapColumns(root, local);
    return { root, columns };
  }

  private node(start: number, end: number, depth: number): CartNode {
    const K = this.classCount;
    const totals = this.classTotals;
    totals.fill(0);
    let total = 0;
    for (let j = start; j < end; j++) {
      const i = this.order[j];
      totals[this.labels[i]] += this.weights[i];
      total += this.weights[i];
    }
    const count = end - start;
    let classesPresent = 0;
    for (let k = 0; k < K; k++) if (totals[k] > 0) classesPresent++;
    if (depth >= this.opts.maxDepth || count < this.opts.minSamplesSplit || classesPresent <= 1 || !(total > 0)) {
      return this.leaf(totals, total);
    }
    let parentSq = 0;
    for (let k = 0; k < K; k++) parentSq += (totals[k] / total) ** 2;
    const parentGini = 1 - parentSq;

    let bestGain = 1e-12;
    let bestFeature = -1;
    let bestBin = -1;
    const perm = this.perm;
    for (let t = 0; t < this.mtry; t++) {
      const r = t + randomInt(this.random, perm.length - t);
      const f = perm[r];
      perm[r] = perm[t];
      perm[t] = f;
      const split = this.bestSplitOn(f, start, end, total, parentGini);
      if (split.gain > bestGain) {
        bestGain = split.gain;
        bestFeature = f;
        bestBin = split.bin;
      }
    }
    if (bestFeature < 0) return this.leaf(totals, total);

    const leafTotals = Float64Array.from(totals);
    const codes = this.binned.codes[bestFeature];
    let lo = start;
    let hi = end - 1;
    const order = this.order;
    while (lo <= hi) {
      if (codes[order[lo]] <= bestBin) lo++;
      else {
        const tmp = order[lo];
        order[lo] = order[hi];
        order[hi] = tmp;
        hi--;
      }
    }
    if (lo === start || lo === end) return this.leaf(leafTotals, total);
    this.usedColumns.add(bestFeature);
    const splitValue = this.binned.edges[bestFeature][bestBin];
    const left = this.node(start, lo, depth + 1);
    const right = this.node(lo, end, depth + 1);
    return { splitColumn: bestFeature, splitValue, gain: Number(bestGain.toPrecision(4)), numberSamples: count, left, right };
  }

  private bestSplitOn(f: number, start: number, end: number, total: number, parentGini: number): { gain: number; bin: number } {
    const K = this.classCount;
    const codes = this.binned.codes[f];
    const edgeCount = this.binned.edges[f].length;
    const hist = this.hist;
    const histCount = this.histCount;
    hist.fill(0, 0, (edgeCount + 1) * K);
    histCount.fill(0, 0, edgeCount + 1);
    for (let j = start; j < end; j++) {
      const i = this.order[j];
      const b = codes[i];
      hist[b * K + this.labels[i]] += this.weights[i];
      histCount[b]++;
    }
    const left = this.left;
    left.fill(0);
    const totals = this.classTotals;
    let leftTotal = 0;
    let leftCount = 0;
    const count = end - start;
    let best = { gain: -1, bin: -1 };
    for (let b = 0; b < edgeCount; b++) {
      for (let k = 0; k < K; k++) left[k] += hist[b * K + k];
      leftCount += histCount[b];
      if (histCount[b] === 0) continue;
      leftTotal = 0;
      for (let k = 0; k < K; k++) leftTotal += left[k];
      const rightTotal = total - leftTotal;
      if (leftCount < this.opts.minSamplesLeaf || count - leftCount < this.opts.minSamplesLeaf) continue;
      if (!(leftTotal > 0) || !(rightTotal > 1e-12)) continue;
      let leftSq = 0;
      let rightSq = 0;
      for (let k = 0; k < K; k++) {
        leftSq += left[k] * left[k];
        const r = totals[k] - left[k];
        rightSq += r * r;
      }
      const gini = (leftTotal - leftSq / leftTotal + (rightTotal - rightSq / rightTotal)) / total;
      const gain = parentGini - gini;
      if (gain > best.gain + 1e-15) best = { gain, bin: b };
    }
    return best;
  }

  private leaf(totals: Float64Array, total: number): CartNode {
    const distribution = new Array<number>(this.classCount);
    for (let k = 0; k < this.classCount; k++) distribution[k] = total > 0 ? roundTo(totals[k] / total, DISTRIBUTION_DECIMALS) : 0;
    return { distribution: [distribution] };
  }
}

function roundTo(value: number, scale: number): number {
  return Math.round(value * scale) / scale;
}

function remapColumns(node: CartNode, local: Map<number, number>): void {
  if ('distribution' in node) return;
  node.splitColumn = local.get(node.splitColumn)!;
  remapColumns(node.left, local);
  remapColumns(node.right, local);
}
