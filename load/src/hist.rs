//! Latency histogram in nanoseconds: an HdrHistogram (fixed relative error,
//! so p99.99 is as trustworthy as p50) that worker processes send to the
//! parent as one line of text and the parent merges.

use hdrhistogram::Histogram;
use std::fmt::Write as _;

/// Smallest value told apart: 1 ns.
const LOW_NS: u64 = 1;
/// Largest value tracked: 60 s. Anything slower is clamped here, not
/// dropped, so a stalled request still counts as a (very) slow one.
const HIGH_NS: u64 = 60_000_000_000;
/// 3 significant digits: ±0.1 % per value, about 220 KiB of counts.
const SIGFIG: u8 = 3;

/// Percentiles plotted by [`Hist::distribution`], before trimming the tail
/// the sample count cannot resolve.
const PLOT_PERCENTILES: [f64; 16] =
    [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 99.0, 99.9, 99.99, 99.999, 100.0];

#[derive(Clone, Debug)]
pub struct Hist {
    h: Histogram<u64>,
}

impl Default for Hist {
    fn default() -> Self {
        Hist::new()
    }
}

impl Hist {
    pub fn new() -> Hist {
        // The bounds are constants that satisfy low >= 1, high >= 2 * low and
        // sigfig <= 5, so this cannot fail.
        let h =
            Histogram::new_with_bounds(LOW_NS, HIGH_NS, SIGFIG).expect("constant histogram bounds are valid");
        Hist { h }
    }

    /// Hot path: indexes the preallocated counts, never allocates.
    pub fn record(&mut self, ns: u64) {
        self.h.saturating_record(ns);
    }

    pub fn merge(&mut self, other: &Hist) {
        // Same bounds on both sides, so `add` cannot report a value out of
        // range; should that ever change, fall back to clamping per bucket.
        if self.h.add(&other.h).is_err() {
            for v in other.h.iter_recorded() {
                self.h.saturating_record_n(v.value_iterated_to(), v.count_since_last_iteration());
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.h.len()
    }

    /// The value at percentile `p` (clamped to 0..=100), in ns; 0 when empty.
    /// Like HdrHistogram, reports the highest value equivalent to the bucket
    /// (the lowest for p = 0).
    pub fn percentile(&self, p: f64) -> u64 {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
        // The library ranks by ceil(q × count), and 0.999 × 1000 is
        // 999.0000000000001 in f64: p99.9 of 1000 samples would be the
        // 1000th. Nudging q down by 1e-12 undoes such rounding and moves no
        // real rank below 10^11 samples. q = 0 stays 0 (it means "minimum").
        let q = if p == 0.0 { 0.0 } else { (p / 100.0 - 1e-12).max(f64::MIN_POSITIVE) };
        self.h.value_at_quantile(q)
    }

    /// 0 when empty.
    pub fn max(&self) -> u64 {
        if self.h.is_empty() {
            0
        } else {
            self.h.max()
        }
    }

    /// 0 when empty.
    pub fn min(&self) -> u64 {
        self.h.min()
    }

    /// 0.0 when empty.
    pub fn mean(&self) -> f64 {
        self.h.mean()
    }

    /// One line of text for a pipe between processes: "v:c v:c ..." of the
    /// recorded buckets; empty histogram = empty string.
    pub fn to_line(&self) -> String {
        let mut out = String::new();
        for v in self.h.iter_recorded() {
            if !out.is_empty() {
                out.push(' ');
            }
            // Writing to a String cannot fail.
            let _ = write!(out, "{}:{}", v.value_iterated_to(), v.count_since_last_iteration());
        }
        out
    }

    /// The inverse of [`Hist::to_line`]. Repeated values add up; surrounding
    /// whitespace (a trailing newline) is fine; a bad token is an error that
    /// quotes it.
    pub fn from_line(line: &str) -> Result<Hist, String> {
        let mut hist = Hist::new();
        for token in line.split_ascii_whitespace() {
            let parsed = token
                .split_once(':')
                .and_then(|(v, c)| Some((v.parse::<u64>().ok()?, c.parse::<u64>().ok()?)));
            let Some((value, count)) = parsed else {
                return Err(format!("bad histogram token {token:?} (want value:count)"));
            };
            // A zero count would still move min/max; it records nothing.
            if count > 0 {
                hist.h.saturating_record_n(value, count);
            }
        }
        Ok(hist)
    }

    /// Points for a percentile-distribution plot: (percentile, ns) at 0, 10,
    /// ..., 90, 95, 99, 99.9, 99.99, 99.999 and 100. A tail point is kept only
    /// if at least one sample lies beyond it (p ≤ 100 × (1 − 1/count)): with
    /// 100 samples "p99.9" is just the maximum again. 100 is always kept; an
    /// empty histogram gives no points.
    pub fn distribution(&self) -> Vec<(f64, u64)> {
        let n = self.count();
        if n == 0 {
            return Vec::new();
        }
        PLOT_PERCENTILES
            .iter()
            .copied()
            // (100 − p) / 100 × n ≥ 1, with slack for 100 − 99.9 = 0.0999…
            .filter(|&p| p == 100.0 || (100.0 - p) * n as f64 >= 100.0 * (1.0 - 1e-9))
            .map(|p| (p, self.percentile(p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist_of(values: impl IntoIterator<Item = u64>) -> Hist {
        let mut h = Hist::new();
        for v in values {
            h.record(v);
        }
        h
    }

    #[test]
    fn empty_is_all_zero() {
        let h = Hist::new();
        assert_eq!(h.count(), 0);
        assert_eq!(h.percentile(50.0), 0);
        assert_eq!(h.percentile(100.0), 0);
        assert_eq!((h.min(), h.max()), (0, 0));
        assert_eq!(h.mean(), 0.0);
        assert_eq!(h.to_line(), "");
        assert!(h.distribution().is_empty());
    }

    #[test]
    fn small_values_are_exact() {
        // Below 2048 the histogram has single-unit resolution.
        let h = hist_of(1..=1000);
        assert_eq!(h.count(), 1000);
        assert_eq!(h.percentile(0.0), 1);
        assert_eq!(h.percentile(50.0), 500);
        assert_eq!(h.percentile(99.0), 990);
        assert_eq!(h.percentile(100.0), 1000);
        assert_eq!((h.min(), h.max()), (1, 1000));
        assert_eq!(h.mean(), 500.5);
    }

    #[test]
    fn percentile_argument_is_clamped() {
        let h = hist_of([10, 20]);
        assert_eq!(h.percentile(-5.0), 10);
        assert_eq!(h.percentile(250.0), 20);
        assert_eq!(h.percentile(f64::NAN), 10);
    }

    #[test]
    fn large_values_keep_three_digits() {
        let h = hist_of([1_234_567]);
        let p = h.percentile(50.0);
        // Within 0.1 %: the bucket is 1024 ns wide at this magnitude.
        assert_eq!(p, 1_234_943);
        assert!(p.abs_diff(1_234_567) * 1000 <= 1_234_567);
    }

    #[test]
    fn above_max_is_clamped_not_dropped() {
        let h = hist_of([120_000_000_000, 5]);
        assert_eq!(h.count(), 2);
        let max = h.max();
        // The top of the bucket holding 60 s (2^25 ns wide up there).
        assert_eq!(max, 60_028_878_847);
        assert!((max - HIGH_NS) * 1000 < HIGH_NS);
        assert_eq!(h.min(), 5);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = hist_of([1, 2, 3]);
        let b = hist_of([3, 4, 100_000]);
        a.merge(&b);
        assert_eq!(a.count(), 6);
        assert_eq!(a.min(), 1);
        assert_eq!(a.max(), 100_031); // highest value of the 64-ns bucket at 100k
        assert_eq!(a.percentile(50.0), 3);
        assert_eq!(b.count(), 3);
    }

    #[test]
    fn line_format() {
        let h = hist_of([7, 7, 3, 1500]);
        assert_eq!(h.to_line(), "3:1 7:2 1500:1");
    }

    #[test]
    fn line_round_trip_is_exact() {
        let h = hist_of((0..5000u64).map(|i| i * i * 37 + 11));
        let back = Hist::from_line(&h.to_line()).expect("own line parses");
        assert_eq!(back.to_line(), h.to_line());
        assert_eq!(back.count(), h.count());
        for p in [0.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
            assert_eq!(back.percentile(p), h.percentile(p), "p{p}");
        }
        assert_eq!(back.max(), h.max());
        assert_eq!(back.min(), h.min());
    }

    #[test]
    fn from_line_merges_repeats_and_ignores_zero_counts() {
        let h = Hist::from_line("  5:2 5:3 9:0 8:1\n").expect("valid");
        assert_eq!(h.to_line(), "5:5 8:1");
        assert_eq!(h.max(), 8);
        assert_eq!(Hist::from_line("").expect("empty").count(), 0);
    }

    #[test]
    fn from_line_names_the_bad_token() {
        for (line, bad) in [
            ("1:1 x:2", "\"x:2\""),
            ("1:1 3", "\"3\""),
            ("4:-1", "\"4:-1\""),
            ("4:1:2", "\"4:1:2\""),
            ("99999999999999999999:1", "\"99999999999999999999:1\""),
        ] {
            let err = Hist::from_line(line).expect_err(line);
            assert!(err.contains(bad), "{line}: {err}");
        }
    }

    #[test]
    fn distribution_keeps_only_resolvable_tail() {
        let ps = |h: &Hist| h.distribution().iter().map(|&(p, _)| p).collect::<Vec<_>>();
        let deciles = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0];

        let h = hist_of(1..=100);
        let mut want = deciles.to_vec();
        want.extend([95.0, 99.0, 100.0]);
        assert_eq!(ps(&h), want);

        let h = hist_of(1..=1000);
        want.truncate(12);
        want.extend([99.9, 100.0]);
        assert_eq!(ps(&h), want);

        let h = hist_of(1..=100_000);
        assert_eq!(ps(&h), PLOT_PERCENTILES.to_vec());

        assert_eq!(ps(&hist_of([42])), vec![0.0, 100.0]);
        assert_eq!(ps(&hist_of([1, 2, 3, 4])), vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 100.0]);
    }

    #[test]
    fn distribution_values() {
        let h = hist_of(1..=1000);
        let d = h.distribution();
        assert_eq!(d[0], (0.0, 1));
        assert_eq!(d[5], (50.0, 500));
        assert_eq!(d[9], (90.0, 900));
        assert_eq!(d[12], (99.9, 999));
        assert_eq!(d[13], (100.0, 1000));
    }
}
