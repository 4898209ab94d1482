/**
 * The statistics of online test results, from per-variant sufficient statistics (what one SQL
 * aggregate returns on DuckDB and BigQuery alike). CTR is a ratio of per-user sums (clicks over
 * exposures): a user's requests are not independent, so its variance comes from the delta
 * method over users, as GrowthBook and most experimentation platforms do.
 */

/** Sums over the users of one variant: x = a user's exposures, y = a user's clicked exposures. */
export interface UserSums {
  users: number;
  exposures: number;
  clicks: number;
  sumX2: number;
  sumY2: number;
  sumXY: number;
}

export interface Estimate {
  value: number;
  /** Variance of the estimate (not of the users' values). */
  variance: number;
}

const Z95 = 1.959963984540054;

/** CTR = Σy / Σx with its delta-method variance; NaN variance below two users. */
export function ctr(s: UserSums): Estimate {
  const n = s.users;
  const mx = s.exposures / n;
  const my = s.clicks / n;
  const varX = (s.sumX2 - n * mx * mx) / (n - 1);
  const varY = (s.sumY2 - n * my * my) / (n - 1);
  const cov = (s.sumXY - n * mx * my) / (n - 1);
  const r = my / mx;
  return { value: r, variance: (varY - 2 * r * cov + r * r * varX) / (n * mx * mx) };
}

export function interval(e: Estimate, z = Z95): [number, number] {
  const half = z * Math.sqrt(e.variance);
  return [e.value - half, e.value + half];
}

/** Relative lift of treatment over control (t/c - 1), delta method, independent groups. */
export function relativeLift(t: Estimate, c: Estimate): Estimate {
  return {
    value: t.value / c.value - 1,
    variance: t.variance / c.value ** 2 + (t.value ** 2 * c.variance) / c.value ** 4,
  };
}

/**
 * Two-sided p-value of an estimate against 0 (Wald z). Given the relative lift it goes with that
 * lift's interval: p < 0.05 exactly when the 95% interval excludes 0. A test of the CTRs'
 * difference instead said p = 0.04 beside a lift interval of [-15%, +145%].
 */
export function zeroPValue(e: Estimate): number {
  // No difference is no difference, even when no user's counts vary (z would be 0 / 0).
  if (e.value === 0) return 1;
  return 2 * (1 - normalCdf(Math.abs(e.value) / Math.sqrt(e.variance)));
}

/**
 * Always-valid inference, for results looked at every day: an asymptotic confidence sequence
 * (Waudby-Smith et al., "Time-uniform central limit theory and asymptotic confidence sequences",
 * 2023; what GrowthBook's sequential testing uses). The chance that its interval ever excludes
 * the true value, however often it is read as users arrive, is at most α; a fixed-horizon 95%
 * interval read daily for a month excludes it far more often (test/results.test.ts simulates it).
 * It is tightest near `SEQUENTIAL_TUNING` users, and wider than the fixed-horizon interval always.
 */
export const SEQUENTIAL_TUNING = 5000;
const ALPHA = 0.05;

/** ρ² of the normal mixture, tuned so that the sequence is tightest at `tuning` users. */
function mixtureRho2(tuning: number): number {
  const l = -2 * Math.log(ALPHA);
  return (l + Math.log(l + 1)) / tuning;
}

/**
 * The sequence's interval for an estimate from `n` users (both variants' for a lift): its
 * per-user spread is √(n · variance), and the normal-mixture boundary replaces 1.96 / √n.
 */
export function sequentialInterval(
  e: Estimate,
  n: number,
  tuning = SEQUENTIAL_TUNING,
): [number, number] {
  const rho2 = mixtureRho2(tuning);
  const spread = Math.sqrt(n * e.variance);
  const half =
    spread *
    Math.sqrt(((2 * (n * rho2 + 1)) / (n * n * rho2)) * Math.log(Math.sqrt(n * rho2 + 1) / ALPHA));
  return [e.value - half, e.value + half];
}

/**
 * The always-valid p-value of an estimate against 0: the smallest α at which the sequence (ρ
 * tuned as above) excludes 0, so p < 0.05 exactly when `sequentialInterval` excludes 0.
 */
export function sequentialPValue(e: Estimate, n: number, tuning = SEQUENTIAL_TUNING): number {
  if (e.value === 0) return 1;
  const rho2 = mixtureRho2(tuning);
  const z2 = (e.value * e.value) / e.variance;
  return Math.min(1, Math.sqrt(n * rho2 + 1) * Math.exp(-(z2 * n * rho2) / (2 * (n * rho2 + 1))));
}

/** Φ(x). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** erfc with fractional error below 1.2e-7 everywhere (Numerical Recipes' erfcc, a Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Upper regularized incomplete gamma Q(a, x): series below a + 1, continued fraction above. */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lead = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - sum * lead;
  }
  // Lentz's method for the continued fraction.
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return lead * h;
}

/** P(χ²_df ≥ x). */
export function chiSquarePValue(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/**
 * Sample-ratio mismatch: a χ² goodness-of-fit test of the users per variant against the shares
 * the assignment should give. A p-value below 0.001 (GrowthBook's threshold) means the split is
 * broken and the results should not be trusted.
 */
export function sampleRatioPValue(observed: number[], expectedShares: number[]): number {
  const total = observed.reduce((a, b) => a + b, 0);
  const shareSum = expectedShares.reduce((a, b) => a + b, 0);
  let chi2 = 0;
  observed.forEach((o, i) => {
    const expected = (total * expectedShares[i]!) / shareSum;
    chi2 += (o - expected) ** 2 / expected;
  });
  return chiSquarePValue(chi2, observed.length - 1);
}

export const SRM_THRESHOLD = 0.001;

/**
 * The rule of five: below five of a count (users of a variant, its clicked or unclicked
 * exposures, users expected in a group of the split) the normal approximations behind the
 * intervals, the z-test and the χ² check do not hold, and their numbers look surer than they are.
 */
export const MIN_COUNT = 5;

/** Whether a variant's sums carry a CTR interval and a lift: MIN_COUNT of each count. */
export function enoughData(s: UserSums): boolean {
  return s.users >= MIN_COUNT && s.clicks >= MIN_COUNT && s.exposures - s.clicks >= MIN_COUNT;
}

/** Two-sided exact sign test: wins against losses, ties left out. */
export function signTestPValue(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  const k = Math.min(wins, losses);
  // P(X <= k) for X ~ Binomial(n, 1/2), summed in log space (n may be large).
  const logHalfN = -n * Math.LN2;
  let logTerm = logHalfN; // C(n, 0) / 2^n
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}

/** The middle value (the upper of the two middle ones for an even count), as benchmarks report. */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
