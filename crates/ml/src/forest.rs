//! A random forest regressor (Breiman 2001): CART regression trees grown on bootstrap samples,
//! each split chosen among a random subset of the features, predictions averaged.
//!
//! Why our own and not smartcore's: the weather model is evaluated leave-one-city-out, which
//! means ~270 complete refits, and must stay well under a minute on two cores. Two choices make
//! that possible:
//!
//! * **Binned split search.** Before growing, each feature's values are mapped to at most 256
//!   ordered bins (exact when a feature has ≤ 256 distinct values, quantile cut points
//!   otherwise). A node then finds its best split with one pass over its rows per candidate
//!   feature (a histogram of weight and target sum per bin) instead of sorting — the approach of
//!   LightGBM and scikit-learn's `HistGradientBoosting`. Thresholds are stored as real feature
//!   values (midpoints between neighbouring bins), so prediction needs no binning.
//! * **Bootstrap as weights.** A bootstrap sample is kept as a count per row; a row drawn three
//!   times is one row of weight 3. `min_samples_split` and `min_samples_leaf` count bootstrap
//!   draws (the sum of those weights), as if the duplicates were materialised.
//!
//! Trees are grown in parallel with rayon; tree `i` draws from its own RNG seeded from
//! `(seed, i)`, so a forest is identical for a given seed however the threads are scheduled.
//! [`Forest`] is serde-serialisable so a trained model can be cached on disk.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Most bins per feature; bin indices are stored as `u8`.
const MAX_BINS: usize = 256;

/// Nodes with fewer rows than this find splits by sorting their rows instead of filling a
/// 256-slot histogram per feature (deep nodes are small; zeroing and scanning a mostly empty
/// histogram would dominate). Both paths consider the same candidate splits.
const SORT_BELOW_ROWS: usize = 48;

/// Hyper-parameters of a forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    /// Number of trees (≥ 1).
    pub n_trees: usize,
    /// Maximum depth of a tree; `None` grows until the other limits stop it.
    pub max_depth: Option<usize>,
    /// A node is split only if it holds at least this many bootstrap draws (≥ 2).
    pub min_samples_split: usize,
    /// Each child of a split must hold at least this many bootstrap draws (≥ 1).
    pub min_samples_leaf: usize,
    /// Features considered at each split; `None` means all (bagged trees). Larger than the
    /// number of features means all.
    pub max_features: Option<usize>,
    /// Seed of the bootstrap and feature sampling; same data + same params ⇒ same forest.
    pub seed: u64,
}

impl Default for ForestParams {
    /// The configuration tuned for the weather model by leave-one-city-out over the shipped
    /// climate normals (`docs/weather.md`). The large leaves matter most: each city gives 12
    /// correlated rows, so a leaf of 72 bootstrap draws averages over about six cities instead
    /// of memorising one city's quirk (an unseen altitude, say) and pasting it onto its
    /// neighbours. Two features per split decorrelates the trees further.
    fn default() -> Self {
        Self {
            n_trees: 100,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 72,
            max_features: Some(2),
            seed: 42,
        }
    }
}

impl ForestParams {
    /// The hyper-parameter grid of the mission: trees 10/50/100/150/200 × depth 5/10/none ×
    /// min split 2/5 × min leaf 1/2/4 (180 settings); other fields as in [`Default`].
    pub fn grid() -> Vec<ForestParams> {
        let mut grid = Vec::with_capacity(180);
        for n_trees in [10, 50, 100, 150, 200] {
            for max_depth in [Some(5), Some(10), None] {
                for min_samples_split in [2, 5] {
                    for min_samples_leaf in [1, 2, 4] {
                        grid.push(ForestParams {
                            n_trees,
                            max_depth,
                            min_samples_split,
                            min_samples_leaf,
                            ..ForestParams::default()
                        });
                    }
                }
            }
        }
        grid
    }

    fn validate(&self) -> Result<(), ForestError> {
        let problem = if self.n_trees == 0 {
            "n_trees must be at least 1"
        } else if self.min_samples_split < 2 {
            "min_samples_split must be at least 2"
        } else if self.min_samples_leaf == 0 {
            "min_samples_leaf must be at least 1"
        } else if self.max_features == Some(0) {
            "max_features must be at least 1 (or None for all)"
        } else {
            return Ok(());
        };
        Err(ForestError::InvalidParams(problem.to_string()))
    }
}

/// Why a forest could not be trained.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ForestError {
    /// No training rows, or rows without features.
    #[error("no training data: need at least one row with at least one feature")]
    Empty,
    /// Feature rows and targets differ in number.
    #[error("{rows} feature rows but {targets} targets")]
    LengthMismatch {
        /// Number of feature rows.
        rows: usize,
        /// Number of targets.
        targets: usize,
    },
    /// A row has a different number of features than the first row.
    #[error("row {row} has {found} features, expected {expected} like row 0")]
    Ragged {
        /// Index of the offending row.
        row: usize,
        /// Features in row 0.
        expected: usize,
        /// Features in this row.
        found: usize,
    },
    /// A feature or target is NaN or infinite.
    #[error("row {row}: {what} is not a finite number")]
    NonFinite {
        /// Index of the offending row.
        row: usize,
        /// "target" or "feature N".
        what: String,
    },
    /// A hyper-parameter is out of range.
    #[error("invalid forest parameters: {0}")]
    InvalidParams(String),
}

/// A trained random forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    trees: Vec<Tree>,
    n_features: usize,
}

/// One regression tree as a flat node array; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Node {
    /// Mean target of the (bootstrap) rows that reached it.
    Leaf(f64),
    /// `row[feature] <= threshold` goes to `left`, anything else (including NaN) to `right`.
    Split {
        feature: u32,
        threshold: f64,
        left: u32,
        right: u32,
    },
}

impl Forest {
    /// Train a forest on rows `x` (all of equal length, finite) and targets `y`.
    pub fn fit(x: &[Vec<f64>], y: &[f64], params: &ForestParams) -> Result<Forest, ForestError> {
        params.validate()?;
        let n_features = validate_data(x, y)?;
        let binned = Binned::new(x, n_features);
        let trees = (0..params.n_trees)
            .into_par_iter()
            .map(|i| grow_tree(&binned, y, params, tree_seed(params.seed, i)))
            .collect();
        Ok(Forest { trees, n_features })
    }

    /// Predicted value for one row of `n_features` values. A missing trailing feature is
    /// treated like NaN: it takes the right branch of every split on it.
    pub fn predict(&self, row: &[f64]) -> f64 {
        let sum: f64 = self.trees.iter().map(|t| t.predict(row)).sum();
        sum / self.trees.len() as f64
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Number of features the forest was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }
}

impl Tree {
    fn predict(&self, row: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            match self.nodes.get(i) {
                Some(Node::Leaf(v)) => return *v,
                Some(Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                }) => {
                    let v = row.get(*feature as usize).copied().unwrap_or(f64::NAN);
                    i = if v <= *threshold { *left } else { *right } as usize;
                }
                // Unreachable for trees built by `grow_tree`; a corrupt deserialised tree must
                // not panic.
                None => return f64::NAN,
            }
        }
    }
}

fn validate_data(x: &[Vec<f64>], y: &[f64]) -> Result<usize, ForestError> {
    let n_features = x.first().map_or(0, Vec::len);
    if x.is_empty() || n_features == 0 {
        return Err(ForestError::Empty);
    }
    if x.len() != y.len() {
        return Err(ForestError::LengthMismatch {
            rows: x.len(),
            targets: y.len(),
        });
    }
    for (row, (features, target)) in x.iter().zip(y).enumerate() {
        if features.len() != n_features {
            return Err(ForestError::Ragged {
                row,
                expected: n_features,
                found: features.len(),
            });
        }
        if let Some(f) = features.iter().position(|v| !v.is_finite()) {
            return Err(ForestError::NonFinite {
                row,
                what: format!("feature {f}"),
            });
        }
        if !target.is_finite() {
            return Err(ForestError::NonFinite {
                row,
                what: "target".into(),
            });
        }
    }
    Ok(n_features)
}

/// A distinct, well-mixed seed per tree (SplitMix64 finaliser), so neighbouring tree indices
/// and neighbouring user seeds do not give correlated RNG streams.
fn tree_seed(seed: u64, tree: usize) -> u64 {
    let mut z = seed
        ^ (tree as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The training features mapped to bins, column-major.
struct Binned {
    /// `bins[f][row]`: the bin of feature `f` in `row`.
    bins: Vec<Vec<u8>>,
    /// `cuts[f][b]`: upper edge of bin `b` of feature `f` (`value <= cuts[f][b]` ⇔ bin ≤ b).
    /// One fewer than the number of bins; the last bin is open.
    cuts: Vec<Vec<f64>>,
}

impl Binned {
    fn new(x: &[Vec<f64>], n_features: usize) -> Self {
        let (bins, cuts) = (0..n_features)
            .map(|f| {
                let column: Vec<f64> = x.iter().map(|row| row[f]).collect();
                let cuts = cut_points(&column);
                // `cuts` has at most MAX_BINS - 1 entries, so the count fits in a u8.
                let bins = column
                    .iter()
                    .map(|v| cuts.partition_point(|c| c < v) as u8)
                    .collect();
                (bins, cuts)
            })
            .unzip();
        Self { bins, cuts }
    }
}

/// Bin edges for one feature: midpoints between consecutive distinct values when there are at
/// most [`MAX_BINS`] of them; otherwise midpoints at (roughly) equal-count quantiles.
fn cut_points(column: &[f64]) -> Vec<f64> {
    let mut sorted = column.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut distinct = sorted.clone();
    distinct.dedup();
    if distinct.len() <= MAX_BINS {
        return distinct.windows(2).map(|w| midpoint(w[0], w[1])).collect();
    }
    let n = sorted.len();
    let mut cuts: Vec<f64> = (1..MAX_BINS)
        .map(|j| j * n / MAX_BINS)
        .filter(|&i| i > 0 && sorted[i - 1] < sorted[i])
        .map(|i| midpoint(sorted[i - 1], sorted[i]))
        .collect();
    cuts.dedup();
    cuts
}

fn midpoint(a: f64, b: f64) -> f64 {
    a + (b - a) / 2.0
}

/// The best split found for a node.
struct Split {
    feature: usize,
    bin: u8,
}

/// Per-tree scratch space and settings shared by the node searches.
struct Grower<'a> {
    binned: &'a Binned,
    y: &'a [f64],
    /// Per training row: (bootstrap count, count × target); count 0 = out of bag.
    stats: Vec<[f64; 2]>,
    params: &'a ForestParams,
    rng: StdRng,
    features: Vec<usize>,
    /// Per bin: (weight, weighted target sum). Indexed by a `u8`, so no bounds checks.
    hist: [[f64; 2]; MAX_BINS],
    small: Vec<(u8, [f64; 2])>,
    nodes: Vec<Node>,
}

fn grow_tree(binned: &Binned, y: &[f64], params: &ForestParams, seed: u64) -> Tree {
    let n = y.len();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut weight = vec![0.0; n];
    for _ in 0..n {
        weight[rng.random_range(0..n)] += 1.0;
    }
    let mut rows: Vec<u32> = (0..n as u32)
        .filter(|&i| weight[i as usize] > 0.0)
        .collect();
    let stats = weight.iter().zip(y).map(|(&w, &t)| [w, w * t]).collect();
    let n_features = binned.bins.len();
    let mut grower = Grower {
        binned,
        y,
        stats,
        params,
        rng,
        features: (0..n_features).collect(),
        hist: [[0.0; 2]; MAX_BINS],
        small: Vec::new(),
        nodes: Vec::new(),
    };
    grower.grow(&mut rows, 0);
    Tree {
        nodes: grower.nodes,
    }
}

impl Grower<'_> {
    /// Grow the subtree over `rows` and return its node index.
    fn grow(&mut self, rows: &mut [u32], depth: usize) -> u32 {
        let id = self.nodes.len() as u32;
        let (w, s, ss) = rows.iter().fold((0.0, 0.0, 0.0), |(w, s, ss), &r| {
            let [wr, sr] = self.stats[r as usize];
            (w + wr, s + sr, ss + sr * self.y[r as usize])
        });
        let mean = s / w;
        self.nodes.push(Node::Leaf(mean));

        let p = self.params;
        let variance = ss / w - mean * mean;
        let may_split = p.max_depth.is_none_or(|d| depth < d)
            && w >= p.min_samples_split as f64
            && w >= 2.0 * p.min_samples_leaf as f64
            && variance > 1e-12 * (1.0 + mean * mean);
        let Some(split) = may_split.then(|| self.best_split(rows, w, s)).flatten() else {
            return id;
        };

        let bins = &self.binned.bins[split.feature];
        let mut n_left = 0;
        for i in 0..rows.len() {
            if bins[rows[i] as usize] <= split.bin {
                rows.swap(i, n_left);
                n_left += 1;
            }
        }
        let (left_rows, right_rows) = rows.split_at_mut(n_left);
        let left = self.grow(left_rows, depth + 1);
        let right = self.grow(right_rows, depth + 1);
        self.nodes[id as usize] = Node::Split {
            feature: split.feature as u32,
            threshold: self.binned.cuts[split.feature][usize::from(split.bin)],
            left,
            right,
        };
        id
    }

    /// The split with the largest reduction of squared error among `max_features` randomly
    /// chosen features, or `None` if no allowed split improves on the node.
    fn best_split(&mut self, rows: &[u32], w: f64, s: f64) -> Option<Split> {
        let n_features = self.features.len();
        let k = self
            .params
            .max_features
            .map_or(n_features, |m| m.min(n_features));
        // Partial Fisher–Yates: the first k entries become a uniform random subset.
        for i in 0..k {
            let j = self.rng.random_range(i..n_features);
            self.features.swap(i, j);
        }
        let min_leaf = self.params.min_samples_leaf as f64;
        // Maximising SL²/WL + SR²/WR is minimising the children's squared error; the parent's
        // S²/W is the score to beat.
        let mut best: Option<Split> = None;
        let mut best_score = s * s / w + 1e-12 * (1.0 + s.abs());
        for fi in 0..k {
            let feature = self.features[fi];
            let n_cuts = self.binned.cuts[feature].len();
            let mut consider = |bin: u8, wl: f64, sl: f64| {
                let wr = w - wl;
                if wl < min_leaf || wr < min_leaf || usize::from(bin) >= n_cuts {
                    return;
                }
                let sr = s - sl;
                let score = sl * sl / wl + sr * sr / wr;
                if score > best_score {
                    best_score = score;
                    best = Some(Split { feature, bin });
                }
            };
            let bins = &self.binned.bins[feature];
            if rows.len() < SORT_BELOW_ROWS {
                self.small.clear();
                let stats = &self.stats;
                self.small
                    .extend(rows.iter().map(|&r| (bins[r as usize], stats[r as usize])));
                self.small.sort_unstable_by_key(|e| e.0);
                let (mut wl, mut sl) = (0.0, 0.0);
                for (i, &(bin, [wr, sr])) in self.small.iter().enumerate() {
                    wl += wr;
                    sl += sr;
                    if self.small.get(i + 1).is_none_or(|next| next.0 != bin) {
                        consider(bin, wl, sl);
                    }
                }
            } else {
                let n_bins = n_cuts + 1;
                self.hist[..n_bins].fill([0.0; 2]);
                for &r in rows {
                    let [wr, sr] = self.stats[r as usize];
                    let h = &mut self.hist[usize::from(bins[r as usize])];
                    h[0] += wr;
                    h[1] += sr;
                }
                let (mut wl, mut sl) = (0.0, 0.0);
                for (b, &[wb, sb]) in self.hist[..n_bins].iter().enumerate() {
                    if wb > 0.0 {
                        wl += wb;
                        sl += sb;
                        consider(b as u8, wl, sl);
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y = sin(x0)·3 + x1² with an irrelevant x2, on a deterministic grid-like sample.
    fn synthetic(n: usize, offset: f64) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut x = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let t = i as f64 + offset;
            let row = vec![
                (t * 0.618_034).fract() * 6.0 - 3.0,
                (t * 0.414_214).fract() * 4.0 - 2.0,
                (t * 0.732_051).fract(),
            ];
            y.push(3.0 * row[0].sin() + row[1] * row[1]);
            x.push(row);
        }
        (x, y)
    }

    /// Generic settings for the synthetic tests (the default is tuned for weather data).
    fn params() -> ForestParams {
        ForestParams {
            n_trees: 50,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: None,
            seed: 1,
        }
    }

    fn mae(forest: &Forest, x: &[Vec<f64>], y: &[f64]) -> f64 {
        x.iter()
            .zip(y)
            .map(|(r, t)| (forest.predict(r) - t).abs())
            .sum::<f64>()
            / y.len() as f64
    }

    #[test]
    fn fits_a_known_function_much_better_than_the_mean() {
        let (x, y) = synthetic(2000, 0.0);
        let (x_test, y_test) = synthetic(500, 0.5);
        let forest = Forest::fit(&x, &y, &params()).expect("fit");
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let mean_mae = y_test.iter().map(|t| (t - mean).abs()).sum::<f64>() / y_test.len() as f64;
        let forest_mae = mae(&forest, &x_test, &y_test);
        assert!(
            forest_mae < 0.15 * mean_mae,
            "forest MAE {forest_mae:.3} vs mean {mean_mae:.3}"
        );
        assert_eq!((forest.n_trees(), forest.n_features()), (50, 3));
    }

    #[test]
    fn more_than_256_distinct_values_still_split_finely() {
        // 5000 distinct x values, a step at 0.5: quantile bins must place a cut close to it.
        let x: Vec<Vec<f64>> = (0..5000).map(|i| vec![i as f64 / 5000.0]).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|r| if r[0] < 0.5 { 0.0 } else { 10.0 })
            .collect();
        let forest = Forest::fit(&x, &y, &params()).expect("fit");
        assert!(forest.predict(&[0.49]) < 0.5, "{}", forest.predict(&[0.49]));
        assert!(forest.predict(&[0.51]) > 9.5, "{}", forest.predict(&[0.51]));
    }

    #[test]
    fn deterministic_for_a_seed_and_different_across_seeds() {
        let (x, y) = synthetic(600, 0.0);
        let params = ForestParams {
            n_trees: 20,
            max_features: Some(2),
            ..params()
        };
        let a = Forest::fit(&x, &y, &params).expect("fit");
        let b = Forest::fit(&x, &y, &params).expect("fit");
        assert_eq!(a, b);
        // Same forest on one thread as on the default pool: per-tree seeds, not scheduling.
        let single = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool")
            .install(|| Forest::fit(&x, &y, &params))
            .expect("fit");
        assert_eq!(a, single);
        let c = Forest::fit(&x, &y, &ForestParams { seed: 7, ..params }).expect("fit");
        assert_ne!(a, c);
        let probe = [0.3, -0.7, 0.5];
        assert_eq!(a.predict(&probe), b.predict(&probe));
    }

    #[test]
    fn limits_are_respected() {
        let (x, y) = synthetic(600, 0.0);
        let stump = Forest::fit(
            &x,
            &y,
            &ForestParams {
                n_trees: 5,
                max_depth: Some(1),
                ..params()
            },
        )
        .expect("fit");
        assert!(stump.trees.iter().all(|t| t.nodes.len() == 3));
        let constant = Forest::fit(&x, &vec![4.0; x.len()], &params()).expect("fit");
        assert_eq!(constant.predict(&[1.0, 1.0, 1.0]), 4.0);
        assert!(constant.trees.iter().all(|t| t.nodes.len() == 1));
    }

    #[test]
    fn serde_round_trip_predicts_the_same() {
        let (x, y) = synthetic(300, 0.0);
        let forest = Forest::fit(&x, &y, &params()).expect("fit");
        let json = serde_json::to_string(&forest).expect("serialise");
        let back: Forest = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back.predict(&x[17]), forest.predict(&x[17]));
    }

    #[test]
    fn rejects_bad_input() {
        let p = params();
        assert_eq!(Forest::fit(&[], &[], &p), Err(ForestError::Empty));
        assert_eq!(Forest::fit(&[vec![]], &[1.0], &p), Err(ForestError::Empty));
        assert_eq!(
            Forest::fit(&[vec![1.0, 2.0], vec![3.0]], &[1.0, 2.0], &p),
            Err(ForestError::Ragged {
                row: 1,
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            Forest::fit(&[vec![1.0]], &[1.0, 2.0], &p),
            Err(ForestError::LengthMismatch {
                rows: 1,
                targets: 2
            })
        );
        let err = Forest::fit(&[vec![1.0], vec![f64::NAN]], &[1.0, 2.0], &p).expect_err("NaN");
        assert_eq!(err.to_string(), "row 1: feature 0 is not a finite number");
        let err = Forest::fit(&[vec![1.0]], &[f64::INFINITY], &p).expect_err("inf");
        assert_eq!(err.to_string(), "row 0: target is not a finite number");
        for bad in [
            ForestParams {
                n_trees: 0,
                ..p.clone()
            },
            ForestParams {
                min_samples_split: 1,
                ..p.clone()
            },
            ForestParams {
                min_samples_leaf: 0,
                ..p.clone()
            },
            ForestParams {
                max_features: Some(0),
                ..p.clone()
            },
        ] {
            assert!(matches!(
                Forest::fit(&[vec![1.0]], &[1.0], &bad),
                Err(ForestError::InvalidParams(_))
            ));
        }
    }

    #[test]
    fn mission_grid_has_every_combination() {
        let grid = ForestParams::grid();
        assert_eq!(grid.len(), 5 * 3 * 2 * 3);
        assert!(grid.iter().any(|p| p.n_trees == 200
            && p.max_depth.is_none()
            && p.min_samples_split == 5
            && p.min_samples_leaf == 4));
    }
}
