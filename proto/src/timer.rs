//! Hierarchical timer wheel, sans-IO: the caller passes time in as a `u64`
//! count of milliseconds and the wheel never reads a clock.
//!
//! Design (after tokio's `runtime/time/wheel/` and the Linux `timer.c` notes):
//! - 11 levels of 64 slots; a slot at level `l` spans `64^l` ms, so 11 levels
//!   cover the whole `u64` range and no overflow list or clamping is needed.
//! - An entry goes to the level of the highest bit where its deadline and the
//!   wheel's time differ, so every slot of level `l` starts after every slot
//!   of level `l - 1`, and the earliest slot is the lowest set bit of the
//!   lowest non-empty level's occupancy bitmap (`trailing_zeros`, no scan).
//! - When the clock reaches a slot of level > 0, its entries are cascaded
//!   into lower levels (or fired, if due); an entry moves at most 10 times.
//!
//! Cost: `insert` O(1); `next_deadline` O(levels); `advance` O(levels) per
//! occupied slot visited plus O(1) per entry fired or cascaded, whatever the
//! elapsed time (a 10-hour jump does not walk milliseconds).
//!
//! Not provided: cancellation (callers ignore stale entries by comparing a
//! generation or deadline they keep); resolution finer than 1 ms; an exact
//! `next_deadline` for entries above level 0 (it gives their slot's start).

use std::mem;

const BITS: u32 = 6;
const SLOTS: usize = 1 << BITS;
const LEVELS: usize = 64usize.div_ceil(BITS as usize);

/// A slot the clock has drained keeps its allocation for the next entries
/// up to this many; a larger one is freed. The clock visits every slot of a
/// level in turn (level 2's 64 slots of 4.1 s take 4.4 minutes), so a slot
/// that kept whatever it once held would leave a high-water mark in each of
/// the 704: under churn of 1,000 connections a second with a 10 s request
/// deadline, room for 278,716 entries (4.3 MiB at 16 bytes, a connection
/// deadline's size) where ~10,000 are pending (the test
/// `churn_does_not_leave_a_high_water_mark_in_every_slot`). Freed instead,
/// what the wheel holds follows what is pending (a live slot's `Vec` is at
/// most twice its entries), plus at most 704 × 64 entries kept so that the
/// slots that fill every pass (levels 0 and 1 at ordinary rates) do not
/// allocate.
const KEEP: usize = 64;

/// Hierarchical timer wheel holding values of type `T` keyed by a deadline in ms.
#[derive(Debug)]
pub struct Wheel<T> {
    /// The wheel's time: every entry with a deadline before it has fired.
    elapsed: u64,
    len: usize,
    /// Bit `s` of `occupied[l]` is set iff slot `s` of level `l` is non-empty.
    occupied: [u64; LEVELS],
    /// `LEVELS * SLOTS` slots, level-major.
    slots: Vec<Vec<(u64, T)>>,
}

impl<T> Default for Wheel<T> {
    fn default() -> Self {
        Self::new(0)
    }
}

impl<T> Wheel<T> {
    /// A wheel whose clock starts at `now` (ms).
    pub fn new(now: u64) -> Self {
        Wheel {
            elapsed: now,
            len: 0,
            occupied: [0; LEVELS],
            slots: (0..LEVELS * SLOTS).map(|_| Vec::new()).collect(),
        }
    }

    /// Schedules `value` at `deadline` (ms). O(1). A deadline at or before the
    /// wheel's current time fires on the next `advance`.
    pub fn insert(&mut self, deadline: u64, value: T) {
        self.len += 1;
        self.place(deadline, value);
    }

    /// Moves the wheel's clock to `now` and appends every entry whose deadline
    /// is `<= now` to `expired` as `(deadline, value)`, in ascending deadline
    /// order (ties in unspecified order). A `now` before the wheel's current
    /// time is a no-op: time never goes back.
    pub fn advance(&mut self, now: u64, expired: &mut Vec<(u64, T)>) {
        if now < self.elapsed {
            return;
        }
        while let Some((level, start)) = self.next_expiration() {
            if start > now {
                break;
            }
            // Slots are visited in time order, which keeps the output sorted.
            self.elapsed = start;
            let slot = slot_of(start, level);
            let idx = level * SLOTS + slot;
            self.occupied[level] &= !(1u64 << slot);
            let mut entries = mem::take(&mut self.slots[idx]);
            let first = expired.len();
            let mut unsorted = false;
            for (deadline, value) in entries.drain(..) {
                if deadline <= start {
                    // Only entries inserted already due sit below their slot's start.
                    unsorted |= deadline < start;
                    self.len -= 1;
                    expired.push((deadline, value));
                } else {
                    self.place(deadline, value);
                }
            }
            if unsorted {
                expired[first..].sort_unstable_by_key(|e| e.0);
            }
            // Cascading only moves entries to lower levels, so this slot is
            // still empty: hand its allocation back for reuse, if small.
            debug_assert!(self.slots[idx].is_empty());
            if entries.capacity() <= KEEP {
                self.slots[idx] = entries;
            }
        }
        self.elapsed = now;
    }

    /// The earliest time at which `advance` could return something: exact for
    /// entries in level 0, the start of their slot for higher levels (a lower
    /// bound), and the wheel's current time for entries inserted already due.
    /// `None` when empty.
    pub fn next_deadline(&self) -> Option<u64> {
        self.next_expiration().map(|(_, start)| start)
    }

    /// Number of entries not yet returned by `advance`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no entry is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn place(&mut self, deadline: u64, value: T) {
        // Already-due entries go to the current level-0 slot, which is the
        // first one the next `advance` visits.
        let key = deadline.max(self.elapsed);
        let level = level_for(self.elapsed, key);
        let slot = slot_of(key, level);
        self.occupied[level] |= 1u64 << slot;
        self.slots[level * SLOTS + slot].push((deadline, value));
    }

    /// (level, start time) of the earliest non-empty slot.
    fn next_expiration(&self) -> Option<(usize, u64)> {
        // Levels partition the future in order, so the lowest non-empty level
        // holds the earliest slot; within it, occupied slots are all at or
        // after the clock's digit (earlier ones were visited), so no rotation.
        let (level, &bits) = self.occupied.iter().enumerate().find(|(_, b)| **b != 0)?;
        let shift = level as u32 * BITS;
        let above = u64::MAX.checked_shl(shift + BITS).unwrap_or(0);
        let start = (self.elapsed & above) | (u64::from(bits.trailing_zeros()) << shift);
        Some((level, start))
    }
}

/// Level for `key` (>= `elapsed`): the 6-bit group of their highest differing bit.
fn level_for(elapsed: u64, key: u64) -> usize {
    let diff = (elapsed ^ key) | (SLOTS as u64 - 1);
    ((63 - diff.leading_zeros()) / BITS) as usize
}

fn slot_of(key: u64, level: usize) -> usize {
    ((key >> (level as u32 * BITS)) & (SLOTS as u64 - 1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600_000;
    const YEAR: u64 = 365 * 24 * HOUR;
    /// Offsets from the start time landing in every level boundary region.
    const OFFSETS: [u64; 15] = [
        1,
        63,
        64,
        65,
        4095,
        4096,
        4097,
        262_143,
        262_144,
        262_145,
        16_777_216,
        10 * HOUR,
        3 * YEAR,
        1 << 50,
        1 << 62,
    ];
    const STARTS: [u64; 3] = [0, 1_000_003, (1 << 40) + 12_345];

    fn fire<T>(w: &mut Wheel<T>, now: u64) -> Vec<(u64, T)> {
        let mut out = Vec::new();
        w.advance(now, &mut out);
        out
    }

    /// xorshift64: deterministic, no crates.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn empty_wheel_has_no_deadline_and_fires_nothing() {
        let mut w: Wheel<u32> = Wheel::new(5);
        assert!(w.is_empty());
        assert_eq!(w.next_deadline(), None);
        assert!(fire(&mut w, u64::MAX).is_empty());
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn past_and_present_deadlines_fire_on_next_advance_in_order() {
        let mut w = Wheel::new(1000);
        w.insert(1000, 'b');
        w.insert(10, 'a');
        w.insert(1001, 'c');
        assert_eq!(w.next_deadline(), Some(1000));
        assert_eq!(fire(&mut w, 1000), vec![(10, 'a'), (1000, 'b')]);
        w.insert(999, 'd');
        assert_eq!(fire(&mut w, 1000), vec![(999, 'd')]); // same `now` still fires
        assert_eq!(fire(&mut w, 1001), vec![(1001, 'c')]);
    }

    #[test]
    fn advance_backwards_is_a_noop() {
        let mut w = Wheel::new(100);
        w.insert(150, ());
        w.insert(90, ());
        assert!(fire(&mut w, 50).is_empty(), "even already-due entries wait");
        assert_eq!(w.next_deadline(), Some(100));
        assert_eq!(fire(&mut w, 100), vec![(90, ())]);
        assert!(fire(&mut w, 149).is_empty());
        assert!(fire(&mut w, 20).is_empty());
        assert_eq!(fire(&mut w, 150), vec![(150, ())]);
    }

    #[test]
    fn fires_exactly_at_deadline_not_1ms_before_in_every_level() {
        for start in STARTS {
            for off in OFFSETS {
                let d = start + off;
                // Direct jump, and a path that forces cascades on the way.
                for mid in [start, start + off / 2] {
                    let mut w = Wheel::new(start);
                    w.insert(d, off);
                    assert!(fire(&mut w, mid).is_empty(), "start {start} off {off}");
                    assert!(fire(&mut w, d - 1).is_empty(), "start {start} off {off}");
                    assert_eq!(w.len(), 1);
                    assert_eq!(fire(&mut w, d), vec![(d, off)], "start {start} off {off}");
                    assert!(w.is_empty());
                }
            }
        }
        let mut w = Wheel::new(7);
        w.insert(u64::MAX, ());
        assert!(fire(&mut w, u64::MAX - 1).is_empty());
        assert_eq!(fire(&mut w, u64::MAX), vec![(u64::MAX, ())]);
    }

    #[test]
    fn many_entries_in_one_slot_all_fire() {
        let mut w = Wheel::new(0);
        for i in 0..1000 {
            w.insert(5000, i);
            w.insert(5001, i);
        }
        assert!(fire(&mut w, 4999).is_empty());
        let a = fire(&mut w, 5000);
        assert_eq!(a.len(), 1000);
        assert!(a.iter().all(|e| e.0 == 5000));
        let mut b: Vec<u32> = fire(&mut w, 5001).into_iter().map(|e| e.1).collect();
        b.sort_unstable();
        assert_eq!(b, (0..1000).collect::<Vec<_>>());
        assert!(w.is_empty());
    }

    #[test]
    fn huge_jump_fires_all_due_and_nothing_else() {
        let mut w = Wheel::new(0);
        let deadlines: Vec<u64> = (0..3000u64).map(|i| i * i * 9_973).collect();
        for (i, &d) in deadlines.iter().enumerate() {
            w.insert(d, i);
        }
        let out = fire(&mut w, 10 * HOUR);
        let due = deadlines.iter().filter(|&&d| d <= 10 * HOUR).count();
        assert_eq!(out.len(), due);
        assert!(out.windows(2).all(|p| p[0].0 <= p[1].0), "sorted");
        assert!(out.iter().all(|&(d, i)| d <= 10 * HOUR && deadlines[i] == d));
        assert_eq!(w.len(), deadlines.len() - due);
        assert!(w.next_deadline().is_some_and(|n| n > 10 * HOUR));
        assert_eq!(fire(&mut w, 3 * YEAR).len(), deadlines.len() - due);
    }

    #[test]
    fn next_deadline_is_a_lower_bound_and_converges_within_levels_plus_one() {
        for start in STARTS {
            for off in OFFSETS.into_iter().chain([0, u64::MAX - start]) {
                let d = start + off;
                let mut w = Wheel::new(start);
                w.insert(d, ());
                let mut out = Vec::new();
                let mut steps = 0;
                while out.is_empty() {
                    let next = w.next_deadline().expect("entry pending");
                    assert!(next <= d, "start {start} off {off}: {next} > {d}");
                    w.advance(next, &mut out);
                    steps += 1;
                    assert!(steps <= LEVELS + 1, "start {start} off {off}");
                }
                assert_eq!(out, vec![(d, ())]);
            }
        }
    }

    #[test]
    fn len_and_is_empty_track_inserts_and_fires() {
        let mut w = Wheel::new(0);
        assert_eq!((w.len(), w.is_empty()), (0, true));
        w.insert(10, 'a');
        w.insert(100_000, 'b');
        w.insert(0, 'c');
        assert_eq!((w.len(), w.is_empty()), (3, false));
        assert_eq!(fire(&mut w, 10).len(), 2);
        assert_eq!(w.len(), 1);
        assert_eq!(fire(&mut w, 100_000).len(), 1);
        assert_eq!((w.len(), w.is_empty()), (0, true));
    }

    #[test]
    fn matches_sorted_vec_model_under_random_inserts_and_advances() {
        for seed in [0x9E37_79B9_7F4A_7C15, 1, 0xDEAD_BEEF] {
            let mut rng = Rng(seed);
            let mut now = rng.below(1 << 30);
            let mut w = Wheel::new(now);
            let mut model: Vec<(u64, u64)> = Vec::new();
            let mut id = 0u64;
            for _ in 0..2_000 {
                for _ in 0..rng.below(8) {
                    let d = match rng.below(12) {
                        0 => now.saturating_sub(rng.below(100)),
                        1..=4 => now.saturating_add(rng.below(130)),
                        5..=7 => now.saturating_add(rng.below(300_000)),
                        8 | 9 => now.saturating_add(rng.below(1 << 36)),
                        10 => rng.next(),
                        _ => u64::MAX,
                    };
                    w.insert(d, id);
                    model.push((d, id));
                    id += 1;
                }
                let step = match rng.below(10) {
                    0..=5 => rng.below(70),
                    6 | 7 => rng.below(5_000),
                    8 => rng.below(1 << 22),
                    _ => rng.below(1 << 34),
                };
                // Occasionally ask for an earlier time: must be ignored.
                let target = if rng.below(20) == 0 { now.saturating_sub(step) } else { now + step };
                let mut got = fire(&mut w, target);
                assert!(got.windows(2).all(|p| p[0].0 <= p[1].0), "output sorted");
                // Backwards: nothing fires, not even entries inserted already due.
                let fires = target >= now;
                now = now.max(target);
                let (mut want, rest): (Vec<_>, Vec<_>) = model.iter().partition(|e| fires && e.0 <= now);
                model = rest;
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "seed {seed} now {now}");
                assert_eq!(w.len(), model.len());
                let earliest = model.iter().map(|e| e.0).min();
                match (w.next_deadline(), earliest) {
                    (None, None) => {}
                    (Some(n), Some(e)) => assert!(now <= n && n <= e.max(now), "{n} vs {e}"),
                    other => panic!("next_deadline mismatch: {other:?}"),
                }
            }
            let mut rest = fire(&mut w, u64::MAX);
            rest.sort_unstable();
            model.sort_unstable();
            assert_eq!(rest, model);
            assert!(w.is_empty());
        }
    }

    /// Entries allocated for in all slots, live or not.
    fn capacity<T>(w: &Wheel<T>) -> usize {
        w.slots.iter().map(Vec::capacity).sum()
    }

    /// Connection churn: 1,000 deadlines a second, each 10 s ahead (a
    /// request deadline that stays until it fires). About 10,000 are pending
    /// at any time, spread over three level-2 slots of 4.1 s; but the clock
    /// visits all 64 of them in turn, so a wheel in which every drained slot
    /// keeps its allocation ends up holding a high-water mark in each: room
    /// for 278,716 entries, 28x what is pending.
    #[test]
    fn churn_does_not_leave_a_high_water_mark_in_every_slot() {
        let mut w = Wheel::new(0);
        let mut out = Vec::new();
        for now in 0..300_000u64 {
            w.insert(now + 10_000, ());
            out.clear();
            w.advance(now, &mut out);
        }
        assert!((10_000..=10_001).contains(&w.len()), "{}", w.len());
        let held = capacity(&w);
        assert!(
            held <= 2 * w.len() + LEVELS * SLOTS * KEEP,
            "{held} entries allocated for {} pending",
            w.len()
        );
    }
}
