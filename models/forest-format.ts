/**
 * The JSON model format of ml-random-forest (RandomForestClassifier.toJSON / .load) and of ml-cart's
 * DecisionTreeClassifier, as far as loading and predicting use it. Our own trainer (forest-train.ts) writes
 * exactly this, so a model can always be loaded and checked by the library itself.
 */
export interface CartLeaf {
  /** Class distribution as a 1-row matrix: [[p0, p1, ...]]; may be shorter than the number of classes. */
  distribution: number[][];
}

export interface CartSplit {
  /** Rows with x[splitColumn] < splitValue go left. splitColumn indexes the tree's own feature subset. */
  splitColumn: number;
  splitValue: number;
  gain?: number;
  numberSamples?: number;
  left: CartNode;
  right: CartNode;
}

export type CartNode = CartLeaf | CartSplit;

export interface CartTreeJson {
  name: 'DTClassifier';
  options: Record<string, unknown>;
  root: CartNode;
}

export interface RandomForestJson {
  name: 'RFClassifier';
  baseModel: {
    /** For each tree, the columns of the full feature vector it sees, in the order its splitColumn uses. */
    indexes: number[][];
    n: number;
    replacement: boolean;
    maxFeatures: number;
    nEstimators: number;
    treeOptions: Record<string, unknown>;
    isClassifier: true;
    seed: number;
    estimators: CartTreeJson[];
    useSampleBagging: boolean;
  };
}

export function isLeaf(node: CartNode): node is CartLeaf {
  return (node as CartLeaf).distribution !== undefined;
}
