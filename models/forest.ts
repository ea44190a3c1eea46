import { ModelError } from './errors.js';
import { isLeaf, type CartNode, type RandomForestJson } from './forest-format.js';

/**
 * A random forest in ml-random-forest's JSON format, flattened into typed arrays for prediction on the hot
 * path (no Matrix views, no allocation per window). Per tree it follows the same rule as ml-cart
 * (x < splitValue goes left; the tree's vote is the first class with the highest leaf share), so votes
 * equal the library's exactly (tested).
 */
export class CompiledForest {
  readonly classCount: number;
  readonly treeCount: number;
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly roots: Int32Array;
  private readonly leafDistribution: Float64Array;
  private readonly leafVote: Int32Array;

  private constructor(parts: {
    classCount: number;
    feature: number[];
    threshold: number[];
    left: number[];
    right: number[];
    roots: number[];
    leafDistribution: number[];
    leafVote: number[];
  }) {
    this.classCount = parts.classCount;
    this.treeCount = parts.roots.length;
    this.feature = Int32Array.from(parts.feature);
    this.threshold = Float64Array.from(parts.threshold);
    this.left = Int32Array.from(parts.left);
    this.right = Int32Array.from(parts.right);
    this.roots = Int32Array.from(parts.roots);
    this.leafDistribution = Float64Array.from(parts.leafDistribution);
    this.leafVote = Int32Array.from(parts.leafVote);
  }

  /** `featureCount` bounds the columns the trees may read; a tree reaching beyond it is an invalid model. */
  static fromJson(json: RandomForestJson, classCount: number, featureCount: number): CompiledForest {
    if (json?.name !== 'RFClassifier' || !json.baseModel || !Array.isArray(json.baseModel.estimators)) {
      throw new ModelError('invalid_model', 'not an ml-random-forest RFClassifier model');
    }
    const { estimators, indexes } = json.baseModel;
    if (!Array.isArray(indexes) || indexes.length !== estimators.length || estimators.length === 0) {
      throw new ModelError('invalid_model', 'forest needs one feature index list per tree and at least one tree');
    }
    const parts = {
      classCount,
      feature: [] as number[],
      threshold: [] as number[],
      left: [] as number[],
      right: [] as number[],
      roots: [] as number[],
      leafDistribution: [] as number[],
      leafVote: [] as number[],
    };
    const add = (node: CartNode, columns: number[]): number => {
      const id = parts.feature.length;
      if (isLeaf(node)) {
        const row = node.distribution?.[0];
        if (!Array.isArray(row) || row.length === 0 || row.length > classCount) {
          throw new ModelError('invalid_model', `leaf distribution must have 1..${classCount} entries`);
        }
        const leaf = parts.leafVote.length;
        let vote = 0;
        for (let k = 0; k < classCount; k++) {
          const p = k < row.length ? Number(row[k]) : 0;
          parts.leafDistribution.push(p);
          if (p > parts.leafDistribution[leaf * classCount + vote]) vote = k;
        }
        parts.leafVote.push(vote);
        parts.feature.push(-1);
        parts.threshold.push(0);
        parts.left.push(leaf);
        parts.right.push(-1);
        return id;
      }
      const column = columns[node.splitColumn];
      if (!Number.isInteger(column) || column < 0 || column >= featureCount || typeof node.splitValue !== 'number') {
        throw new ModelError('invalid_model', `split on column ${node.splitColumn} outside the ${featureCount} features`);
      }
      parts.feature.push(column);
      parts.threshold.push(node.splitValue);
      parts.left.push(-1);
      parts.right.push(-1);
      const left = add(node.left, columns);
      const right = add(node.right, columns);
      parts.left[id] = left;
      parts.right[id] = right;
      return id;
    };
    estimators.forEach((tree, t) => {
      if (tree?.name !== 'DTClassifier' || !tree.root) throw new ModelError('invalid_model', `tree ${t} is not a DTClassifier`);
      parts.roots.push(add(tree.root, indexes[t]));
    });
    return new CompiledForest(parts);
  }

  private leafOf(tree: number, x: ArrayLike<number>): number {
    let node = this.roots[tree];
    const feature = this.feature;
    while (feature[node] >= 0) {
      node = x[feature[node]] < this.threshold[node] ? this.left[node] : this.right[node];
    }
    return this.left[node];
  }

  /** Class probabilities: the mean of the trees' leaf distributions (soft voting). */
  predictProba(x: ArrayLike<number>, out: Float64Array = new Float64Array(this.classCount)): Float64Array {
    const K = this.classCount;
    out.fill(0);
    const dist = this.leafDistribution;
    for (let t = 0; t < this.treeCount; t++) {
      const base = this.leafOf(t, x) * K;
      for (let k = 0; k < K; k++) out[k] += dist[base + k];
    }
    for (let k = 0; k < K; k++) out[k] /= this.treeCount;
    return out;
  }

  /** Each tree's vote, as ml-cart's DecisionTreeClassifier.predict gives it. */
  treeVotes(x: ArrayLike<number>, out: Int32Array = new Int32Array(this.treeCount)): Int32Array {
    for (let t = 0; t < this.treeCount; t++) out[t] = this.leafVote[this.leafOf(t, x)];
    return out;
  }

  /** The forest's hard vote with ml-random-forest's tie rule (the class that first reaches the top count). */
  majorityVote(x: ArrayLike<number>): number {
    const counts = new Int32Array(this.classCount);
    let best = 0;
    let bestCount = 0;
    for (let t = 0; t < this.treeCount; t++) {
      const v = this.leafVote[this.leafOf(t, x)];
      if (++counts[v] > bestCount) {
        bestCount = counts[v];
        best = v;
      }
    }
    return best;
  }
}
