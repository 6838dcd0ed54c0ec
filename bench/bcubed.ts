/**
 * B-cubed precision and recall (Bagga & Baldwin 1998): for each item, precision is the share of
 * its predicted cluster that shares its true label, recall the share of its true cluster that
 * shares its predicted cluster; both averaged over items. F1 is their harmonic mean.
 */
export interface BCubed {
  precision: number;
  recall: number;
  f1: number;
}

export function bcubed<Id>(
  truth: ReadonlyMap<Id, string | number>,
  predicted: ReadonlyMap<Id, string | number>,
): BCubed {
  const ids = [...truth.keys()];
  if (ids.length === 0) return { precision: 1, recall: 1, f1: 1 };
  const pair = (a: string | number, b: string | number) => `${String(a)}\u0000${String(b)}`;
  const trueSize = new Map<string | number, number>();
  const predSize = new Map<string | number, number>();
  const both = new Map<string, number>();
  for (const id of ids) {
    const t = truth.get(id)!;
    const p = predicted.get(id);
    if (p === undefined) throw new Error(`bcubed: no prediction for ${String(id)}`);
    trueSize.set(t, (trueSize.get(t) ?? 0) + 1);
    predSize.set(p, (predSize.get(p) ?? 0) + 1);
    both.set(pair(t, p), (both.get(pair(t, p)) ?? 0) + 1);
  }
  let precision = 0;
  let recall = 0;
  for (const id of ids) {
    const t = truth.get(id)!;
    const p = predicted.get(id)!;
    const shared = both.get(pair(t, p))!;
    precision += shared / predSize.get(p)!;
    recall += shared / trueSize.get(t)!;
  }
  precision /= ids.length;
  recall /= ids.length;
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}
