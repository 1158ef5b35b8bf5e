//! HTTP-date (RFC 9110 §5.6.7): the `Date` header, cached per second, and
//! `Last-Modified` / `If-Modified-Since`, through the httpdate crate, which
//! renders IMF-fixdate and parses all three HTTP-date formats.
//!
//! Sans-IO: times are whole seconds since the Unix epoch (UTC), passed in by
//! the caller, and handed to httpdate as a `SystemTime` value. Nothing here
//! reads a clock or does I/O.
//!
//! What is ours: the per-second cache, the clamp to four-digit years, and
//! [`civil_from_days`] (a calendar date for the clock display of SPEC §3.4).
//!
//! Not implemented, by design (httpdate's rules, as they stand):
//! - dates before 1970: `parse` returns `None`;
//! - years after 9999: IMF-fixdate has a four-digit year, so `format` clamps
//!   to `Fri, 31 Dec 9999 23:59:59 GMT`;
//! - the wider date syntax of RFC 5322 (numeric zones, comments, folding), and
//!   the case-insensitive matching RFC 9111 §4.2 allows caches (we are not
//!   one);
//! - a day name that does not match the date, and the leap second `:60`:
//!   refused. A refused If-Modified-Since only costs a full response instead
//!   of a `304` (RFC 9110 §13.1.3: "A recipient MUST ignore the
//!   If-Modified-Since header field if the received field value is not a
//!   valid HTTP-date").

// `io::Write` for `&mut [u8]`: httpdate's Display written into a byte array.
use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use httpdate::HttpDate;

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
const IMF_LEN: usize = 29;

/// 9999-12-31T23:59:59Z, the last second a four-digit year can show.
const MAX_SECS: u64 = 253_402_300_799;

/// Days in a 400-year Gregorian cycle; the calendar repeats after this.
const DAYS_PER_ERA: u64 = 146_097;

/// Days from 0000-03-01 to 1970-01-01 (proleptic Gregorian).
const EPOCH_FROM_MARCH_0000: u64 = 719_468;

/// Appends the IMF-fixdate for `unix_secs` (exactly 29 bytes) to `out`.
///
/// Seconds since the Unix epoch (UTC). Callers pass time in; this module never
/// reads a clock. Values past 9999-12-31T23:59:59Z are clamped to it so the
/// output keeps its fixed length.
pub fn format(unix_secs: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(&render(unix_secs));
}

/// Parses an HTTP-date in any of its three formats into seconds since the
/// Unix epoch. Returns `None` for anything that is not one of them.
///
/// RFC 9110 §5.6.7: "A recipient that parses a timestamp value in an HTTP
/// field MUST accept all three HTTP-date formats."
///
/// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// - RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
/// - asctime: `Sun Nov  6 08:49:37 1994` (or `Nov 06`; both are in the grammar)
///
/// httpdate reads names case-sensitively ("HTTP-date is case sensitive"),
/// requires the format's own kind of day name, the day name of the date, a
/// day that exists in its month and a time of 00:00:00–23:59:59; it trims
/// surrounding whitespace (which RFC 9110 §5.5 already excludes from a field
/// value). RFC 850's two-digit years 70–99 are 19xx and 00–69 are 20xx: the
/// rule of §5.6.7 ("more than 50 years in the future" is the past century)
/// evaluated in 2019, a fixed window as a parser without a clock must use.
#[must_use]
pub fn parse(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?;
    let time = httpdate::parse_http_date(text).ok()?;
    Some(time.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

/// A cached Date header value, re-rendered only when the second changes (the
/// driver calls `update(now_secs)` once per loop pass; rendering is the only
/// work, so the hot path copies 29 bytes).
#[derive(Debug, Clone)]
pub struct DateCache {
    secs: u64,
    value: [u8; IMF_LEN],
    #[cfg(test)]
    renders: u32,
}

impl DateCache {
    #[must_use]
    pub fn new(unix_secs: u64) -> Self {
        DateCache {
            secs: unix_secs,
            value: render(unix_secs),
            #[cfg(test)]
            renders: 1,
        }
    }

    /// Re-renders if `unix_secs` differs from the cached second. Any change
    /// counts, so a clock stepped backwards is followed too.
    pub fn update(&mut self, unix_secs: u64) {
        if unix_secs != self.secs {
            self.secs = unix_secs;
            self.value = render(unix_secs);
            #[cfg(test)]
            {
                self.renders += 1;
            }
        }
    }

    /// The 29-byte IMF-fixdate of the last `new`/`update`.
    #[must_use]
    pub fn get(&self) -> &[u8] {
        &self.value
    }
}

fn render(unix_secs: u64) -> [u8; IMF_LEN] {
    // httpdate panics from the year 10000 on: the clamp keeps it in range.
    let date = HttpDate::from(UNIX_EPOCH + Duration::from_secs(unix_secs.min(MAX_SECS)));
    let mut b = [0; IMF_LEN];
    // IMF-fixdate is always 29 bytes, so it fills `b` exactly.
    let _ = write!(&mut b[..], "{date}");
    b
}

// Howard Hinnant's civil-from-days conversion ("chrono-Compatible Low-Level
// Date Algorithms"). It counts years from 1 March, which puts the leap day
// last in the year so month lengths don't depend on leap-ness, and works in
// 400-year eras of 146 097 days, after which the Gregorian calendar repeats
// exactly. Within an era the year is found by dividing by 365 after
// correcting for the leap days of the 4/100/400-year rules, and the month is
// found from the day of the (March-based) year with the linear formula
// (5 * day + 2) / 153, which works because the lengths from March on follow
// 31,30,31,30,31 twice and then start over. All the arithmetic is unsigned
// because only dates from 1970 on are ever converted. httpdate has the same
// calendar inside but does not expose its fields; a test holds the two
// equal for every day to 2400.

/// (year, month 1-12, day 1-31) for a day count since 1970-01-01.
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let since_march_0000 = days + EPOCH_FROM_MARCH_0000;
    let era = since_march_0000 / DAYS_PER_ERA;
    let day_of_era = since_march_0000 % DAYS_PER_ERA; // 0..=146_096
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / (DAYS_PER_ERA - 1)) / 365; // 0..=399
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0 = March ..= 11 = February
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_EXAMPLE: u64 = 784_111_777;

    // Indexed by weekday, 0 = Sunday.
    const DAY_NAMES: [&[u8]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
    const DAY_NAMES_LONG: [&[u8]; 7] =
        [b"Sunday", b"Monday", b"Tuesday", b"Wednesday", b"Thursday", b"Friday", b"Saturday"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    fn is_leap(year: u64) -> bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    fn days_in_month(year: u64, month: u64) -> u64 {
        match month {
            2 if is_leap(year) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    fn fmt(secs: u64) -> String {
        let mut out = Vec::new();
        format(secs, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn p(s: &str) -> Option<u64> {
        parse(s.as_bytes())
    }

    #[test]
    fn rfc_examples_parse() {
        assert_eq!(p("Sun, 06 Nov 1994 08:49:37 GMT"), Some(RFC_EXAMPLE));
        assert_eq!(p("Sunday, 06-Nov-94 08:49:37 GMT"), Some(RFC_EXAMPLE));
        assert_eq!(p("Sun Nov  6 08:49:37 1994"), Some(RFC_EXAMPLE));
    }

    #[test]
    fn rfc_example_formats() {
        assert_eq!(fmt(RFC_EXAMPLE), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn format_appends() {
        let mut out = b"Date: ".to_vec();
        format(0, &mut out);
        assert_eq!(out, b"Date: Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn format_known_values() {
        let cases: &[(u64, &str)] = &[
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (946_598_400, "Fri, 31 Dec 1999 00:00:00 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 GMT"),
            (2_147_483_647, "Tue, 19 Jan 2038 03:14:07 GMT"),
            (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
            (13_574_563_200, "Tue, 29 Feb 2400 00:00:00 GMT"),
            (MAX_SECS, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (MAX_SECS + 1, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (u64::MAX, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        for &(secs, want) in cases {
            assert_eq!(fmt(secs), want, "{secs}");
        }
    }

    /// The same instant in the two obsolete formats, built from the IMF-fixdate.
    fn obsolete_forms(imf: &str) -> (Option<String>, String) {
        let (name, day, mon, year, time) = (&imf[0..3], &imf[5..7], &imf[8..11], &imf[12..16], &imf[17..25]);
        let long = DAY_NAMES_LONG[DAY_NAMES.iter().position(|&d| d == name.as_bytes()).unwrap()];
        let long = std::str::from_utf8(long).unwrap();
        let rfc850 = (year.parse::<u32>().unwrap() < 2070)
            .then(|| std::format!("{long}, {day}-{mon}-{} {time} GMT", &year[2..]));
        let asc_day = day.strip_prefix('0').map_or(day.to_string(), |d| std::format!(" {d}"));
        (rfc850, std::format!("{name} {mon} {asc_day} {time} {year}"))
    }

    #[test]
    fn round_trip() {
        let end = 7_258_118_400; // 2200-01-01
        let mut rfc850_seen = 0;
        for secs in (0..end).step_by(1_000_003).chain([end - 1, end, MAX_SECS]) {
            let imf = fmt(secs);
            assert_eq!(imf.len(), IMF_LEN);
            assert_eq!(p(&imf), Some(secs), "{imf}");
            let (rfc850, asc) = obsolete_forms(&imf);
            assert_eq!(p(&asc), Some(secs), "{asc}");
            if let Some(rfc850) = rfc850 {
                assert_eq!(p(&rfc850), Some(secs), "{rfc850}");
                rfc850_seen += 1;
            }
        }
        assert!(rfc850_seen > 3000);
    }

    #[test]
    fn civil_from_days_counts_every_day_as_httpdate_does() {
        // Every day from 1970-01-01 to 2400-12-31, stepped by hand and as
        // httpdate renders its midnight.
        let mut expect = (1970, 1, 1);
        for days in 0..157_420 {
            assert_eq!(civil_from_days(days), expect);
            let imf = fmt(days * 86_400);
            let (y, m, d) = expect;
            assert_eq!(imf[12..16].parse::<u64>().unwrap(), y, "{imf}");
            assert_eq!(MONTHS[m as usize - 1], &imf[8..11], "{imf}");
            assert_eq!(imf[5..7].parse::<u64>().unwrap(), d, "{imf}");
            expect = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
        assert_eq!(expect, (2401, 1, 1));
    }

    #[test]
    fn leap_days() {
        assert_eq!(p("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(p("Thu, 29 Feb 2024 00:00:00 GMT"), Some(1_709_164_800));
        assert_eq!(p("Tue, 29 Feb 2400 00:00:00 GMT"), Some(13_574_563_200));
        assert_eq!(p("Tue Feb 29 00:00:00 2000"), Some(951_782_400));
        assert_eq!(p("Tuesday, 29-Feb-00 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(p("Thu, 29 Feb 1900 00:00:00 GMT"), None);
        assert_eq!(p("Mon, 29 Feb 2100 00:00:00 GMT"), None);
        assert_eq!(p("Wed, 29 Feb 2023 00:00:00 GMT"), None);
        assert_eq!(p("Sat, 29-Feb-2023 00:00:00 GMT"), None);
    }

    #[test]
    fn accepted_variants() {
        let cases: &[(&str, u64)] = &[
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
            ("Thursday, 01-Jan-70 00:00:00 GMT", 0),
            ("Thu Jan  1 00:00:00 1970", 0),
            // asctime's date3 also allows a two-digit day.
            ("Sun Nov 06 08:49:37 1994", RFC_EXAMPLE),
            ("Wed Nov 16 08:49:37 1994", RFC_EXAMPLE + 10 * 86_400),
            // Surrounding whitespace is trimmed (a field value has none).
            (" Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE),
            ("Sun, 06 Nov 1994 08:49:37 GMT ", RFC_EXAMPLE),
            // Two-digit years: 70-99 are 19xx, 00-69 are 20xx.
            ("Friday, 31-Dec-99 00:00:00 GMT", 946_598_400),
            ("Tuesday, 31-Dec-69 00:00:00 GMT", 3_155_673_600),
            ("Wed, 31 Dec 2008 23:59:59 GMT", 1_230_767_999),
            ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_SECS),
        ];
        for &(s, want) in cases {
            assert_eq!(p(s), Some(want), "{s}");
        }
    }

    #[test]
    fn every_day_name() {
        // 6 to 12 November 1994: Sunday to Saturday.
        for (i, (name, long)) in DAY_NAMES.iter().zip(DAY_NAMES_LONG).enumerate() {
            let (name, long) = (std::str::from_utf8(name).unwrap(), std::str::from_utf8(long).unwrap());
            let (day, want) = (6 + i, Some(RFC_EXAMPLE + i as u64 * 86_400));
            assert_eq!(p(&std::format!("{name}, {day:02} Nov 1994 08:49:37 GMT")), want);
            assert_eq!(p(&std::format!("{name} Nov {day:>2} 08:49:37 1994")), want);
            assert_eq!(p(&std::format!("{long}, {day:02}-Nov-94 08:49:37 GMT")), want);
            // Any other day's name is refused.
            let other = DAY_NAMES[(i + 1) % 7];
            let other = std::str::from_utf8(other).unwrap();
            assert_eq!(p(&std::format!("{other}, {day:02} Nov 1994 08:49:37 GMT")), None);
        }
    }

    #[test]
    fn rejected() {
        let cases: &[&str] = &[
            "",
            "Sun",
            "Sun, 06 nov 1994 08:49:37 GMT",    // month case
            "Sun, 06 NOV 1994 08:49:37 GMT",    // month case
            "sun, 06 Nov 1994 08:49:37 GMT",    // day-name case
            "SUN, 06 Nov 1994 08:49:37 GMT",    // day-name case
            "Xyz, 06 Nov 1994 08:49:37 GMT",    // unknown day name
            "Su, 06 Nov 1994 08:49:37 GMT",     // truncated day name
            "Sunday, 06 Nov 1994 08:49:37 GMT", // long name, IMF layout
            "Sun, 06-Nov-94 08:49:37 GMT",      // short name, RFC 850 layout
            "Sunday Nov  6 08:49:37 1994",      // long name, asctime layout
            "Sun, 00 Nov 1994 08:49:37 GMT",    // day 0
            "Sun, 32 Nov 1994 08:49:37 GMT",    // day 32
            "Thu, 31 Nov 1994 08:49:37 GMT",    // 31 Nov
            "Sat, 31 Apr 1994 08:49:37 GMT",    // 31 Apr
            "Sun, 06 Nov 1994 24:00:00 GMT",    // hour 24
            "Sun, 06 Nov 1994 08:60:37 GMT",    // minute 60
            "Sun, 06 Nov 1994 08:49:61 GMT",    // second 61
            "Sun, 6 Nov 1994 08:49:37 GMT",     // one-digit day in IMF
            "Sun, 06 Nov 94 08:49:37 GMT",      // two-digit year in IMF
            "Sun, 06 Nov 01994 08:49:37 GMT",   // five-digit year
            "Sun, 06 Nov 1994 8:49:37 GMT",     // one-digit hour
            "Sun, 06 Nov 1994 08:49 GMT",       // no seconds
            "Sun, 06 Nov 1994 08:49:37",        // GMT missing
            "Sun, 06 Nov 1994 08:49:37 ",       // GMT missing, trailing SP
            "Sun, 06 Nov 1994 08:49:37 UTC",    // other zone
            "Sun, 06 Nov 1994 08:49:37 gmt",    // zone case
            "Sun, 06 Nov 1994 08:49:37 +0000",  // numeric zone
            "Fri, 06 Nov 1994 08:49:37 GMT",    // day name of another day
            "Monday, 06-Nov-94 08:49:37 GMT",   // day name of another day
            "Sat Nov  6 08:49:37 1994",         // day name of another day
            "Wed, 31 Dec 2008 23:59:60 GMT",    // leap second
            "Sun, 06 Nov 1994 08:49:37 GMTx",   // trailing byte
            "Sun, 06 Nov 1994 08:49:37 GMT\0",  // trailing NUL
            "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT", // two dates
            "Sun,  06 Nov 1994 08:49:37 GMT",   // extra SP
            "Sun,06 Nov 1994 08:49:37 GMT",     // missing SP
            "Sun, 06\tNov 1994 08:49:37 GMT",   // HTAB for SP
            "Sun, +6 Nov 1994 08:49:37 GMT",    // sign in a number
            "Sun, 06 Nov 1994 08:49:3x GMT",    // non-digit
            "Sun, 06 Növ 1994 08:49:37 GMT",    // non-ASCII month
            "Sün, 06 Nov 1994 08:49:37 GMT",    // non-ASCII day name
            "Sun, 06 Nov 1994 08:49:37 GMT\u{a0}", // trailing NBSP
            "Sun, 06 Nov １９９４ 08:49:37 GMT", // full-width digits
            "Wed, 31 Dec 1969 23:59:59 GMT",    // before 1970
            "Sun, 06 Nov 0000 08:49:37 GMT",    // year 0
            "Sunday, 06-Nov-1994 08:49:37 GMT", // four-digit year in RFC 850
            "Sunday, 06-Nov-94 08:49:37",       // RFC 850 without GMT
            "Sunday, 06 Nov 94 08:49:37 GMT",   // RFC 850 without dashes
            "Sun Nov 6 08:49:37 1994",          // asctime single-digit day, one SP
            "Sun Nov   6 08:49:37 1994",        // asctime three SP
            "Sun Nov  06 08:49:37 1994",        // asctime SP and two digits
            "Sun Nov  0 08:49:37 1994",         // asctime day 0
            "Sun Nov  6 08:49:37 94",           // asctime two-digit year
            "Sun Nov  6 08:49:37 1994 GMT",     // asctime with zone
            "Sun, Nov  6 08:49:37 1994",        // asctime with comma
            "1994-11-06T08:49:37Z",             // RFC 3339
            "784111777",                        // number
        ];
        for s in cases {
            assert_eq!(p(s), None, "{s:?}");
        }
        assert_eq!(parse(b"Sun, 06 Nov 1994 08:49:37 GM\xff"), None);
        assert_eq!(parse(b"\xff"), None);
    }

    #[test]
    fn every_truncation_rejected() {
        let valid = [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Wed Nov 16 08:49:37 1994",
        ];
        for s in valid {
            let b = s.as_bytes();
            assert!(parse(b).is_some(), "{s}");
            for end in 0..b.len() {
                assert_eq!(parse(&b[..end]), None, "{:?}", &s[..end]);
            }
            for start in 1..b.len() {
                assert_eq!(parse(&b[start..]), None, "{:?}", &s[start..]);
            }
        }
    }

    #[test]
    fn single_byte_changes_to_imf_fixdate() {
        // Whatever a one-byte change makes of a valid date, parse either
        // rejects it or reads back exactly what was written (but for
        // whitespace around it).
        let valid = b"Sun, 06 Nov 1994 08:49:37 GMT";
        for i in 0..valid.len() {
            for byte in 0..=u8::MAX {
                let mut s = *valid;
                s[i] = byte;
                if let Some(secs) = parse(&s) {
                    let back = fmt(secs);
                    assert_eq!(back.as_bytes(), s.trim_ascii(), "{back}");
                }
            }
        }
    }

    #[test]
    fn cache_renders_only_when_second_changes() {
        let mut cache = DateCache::new(RFC_EXAMPLE);
        assert_eq!(cache.get(), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(cache.renders, 1);

        for _ in 0..1000 {
            cache.update(RFC_EXAMPLE);
        }
        assert_eq!(cache.renders, 1);
        assert_eq!(cache.get(), b"Sun, 06 Nov 1994 08:49:37 GMT");

        cache.update(RFC_EXAMPLE + 1);
        assert_eq!(cache.renders, 2);
        assert_eq!(cache.get(), b"Sun, 06 Nov 1994 08:49:38 GMT");
        cache.update(RFC_EXAMPLE + 1);
        assert_eq!(cache.renders, 2);

        // A clock stepped backwards is followed, not ignored.
        cache.update(RFC_EXAMPLE);
        assert_eq!(cache.renders, 3);
        assert_eq!(cache.get(), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(cache.get().len(), IMF_LEN);
    }
}
