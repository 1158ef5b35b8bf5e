//! HTTP-date (RFC 9110 §5.6.7): renders IMF-fixdate, parses all three
//! HTTP-date formats, and caches the rendered `Date` header value.
//!
//! Sans-IO: times are whole seconds since the Unix epoch (UTC), passed in by
//! the caller. Nothing here reads a clock or does I/O.
//!
//! Not implemented, by design:
//! - dates before 1970: `parse` returns `None` (a `u64` cannot hold them);
//! - years after 9999: IMF-fixdate has a four-digit year, so `format` clamps
//!   to `Fri, 31 Dec 9999 23:59:59 GMT`;
//! - the wider date syntax of RFC 5322 (numeric zones, comments, folding), and
//!   the case-insensitive matching RFC 9111 §4.2 allows caches (we are not
//!   one);
//! - surrounding whitespace: the caller passes the field value, which per
//!   RFC 9110 §5.5 already excludes leading and trailing OWS;
//! - checking that the day name matches the date (see [`parse`]).

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
const IMF_LEN: usize = 29;

/// 9999-12-31T23:59:59Z, the last second a four-digit year can show.
const MAX_SECS: u64 = 253_402_300_799;

const SECS_PER_DAY: u64 = 86_400;

/// Days in a 400-year Gregorian cycle; the calendar repeats after this.
const DAYS_PER_ERA: u64 = 146_097;

/// Days from 0000-03-01 to 1970-01-01 (proleptic Gregorian).
const EPOCH_FROM_MARCH_0000: u64 = 719_468;

// Indexed by weekday, 0 = Sunday.
const DAY_NAMES: [&[u8]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const DAY_NAMES_LONG: [&[u8]; 7] =
    [b"Sunday", b"Monday", b"Tuesday", b"Wednesday", b"Thursday", b"Friday", b"Saturday"];
const MONTHS: [&[u8]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Appends the IMF-fixdate for `unix_secs` (exactly 29 bytes) to `out`.
///
/// Seconds since the Unix epoch (UTC). Callers pass time in; this module never
/// reads a clock. Values past 9999-12-31T23:59:59Z are clamped to it so the
/// output keeps its fixed length.
pub fn format(unix_secs: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(&render(unix_secs));
}

/// Parses an HTTP-date in any of its three formats into seconds since the
/// Unix epoch. Returns `None` for anything that is not exactly one of them.
///
/// RFC 9110 §5.6.7: "A recipient that parses a timestamp value in an HTTP
/// field MUST accept all three HTTP-date formats."
///
/// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// - RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
/// - asctime: `Sun Nov  6 08:49:37 1994` (or `Nov 06`; both are in the grammar)
///
/// Validation follows the grammar strictly: names are case-sensitive ("HTTP-date
/// is case sensitive"), the format's own kind of day name is required (short for
/// IMF-fixdate and asctime, long for RFC 850), the time is 00:00:00–23:59:60,
/// and the day must exist in its month. The day name is not checked against
/// the date: RFC 9110 asks recipients to be robust, and nothing here depends on
/// the weekday.
///
/// A leap second (`:60`) is read as `:59`. Unix time has no leap seconds;
/// rounding down keeps the value in the minute (and day, and year) the sender
/// wrote, and an earlier If-Modified-Since can only turn a 304 into a full
/// response, never the reverse.
#[must_use]
pub fn parse(value: &[u8]) -> Option<u64> {
    let mut c = Cursor(value);
    let name = c.letters();
    let fields = if DAY_NAMES.contains(&name) {
        if c.eat(b", ") {
            imf_fixdate(&mut c)?
        } else {
            c.expect(b" ")?;
            asctime(&mut c)?
        }
    } else if DAY_NAMES_LONG.contains(&name) {
        c.expect(b", ")?;
        rfc850(&mut c)?
    } else {
        return None;
    };
    c.end()?;
    fields.to_unix()
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
    let secs = unix_secs.min(MAX_SECS);
    let days = secs / SECS_PER_DAY;
    let in_day = secs % SECS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 4).
    let weekday = ((days + 4) % 7) as usize;

    let mut b = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    b[0..3].copy_from_slice(DAY_NAMES[weekday]);
    put_digits(&mut b[5..7], day);
    b[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    put_digits(&mut b[12..16], year);
    put_digits(&mut b[17..19], in_day / 3600);
    put_digits(&mut b[20..22], in_day / 60 % 60);
    put_digits(&mut b[23..25], in_day % 60);
    b
}

/// Writes `n` as zero-padded decimal filling `dst` (the value always fits).
fn put_digits(dst: &mut [u8], mut n: u64) {
    for d in dst.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

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

// Howard Hinnant's civil/day-count conversions ("chrono-Compatible Low-Level
// Date Algorithms"). Both count years from 1 March, which puts the leap day
// last in the year so month lengths don't depend on leap-ness, and both work
// in 400-year eras of 146 097 days, after which the Gregorian calendar
// repeats exactly. Within an era the year is found by dividing by 365 after
// correcting for the leap days of the 4/100/400-year rules, and the month is
// found from the day of the (March-based) year with the linear formula
// (5 * day + 2) / 153, which works because the lengths from March on follow
// 31,30,31,30,31 twice and then start over. All the arithmetic is unsigned
// because only dates from 1970 on are ever converted.

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

/// Day count since 1970-01-01 for a valid civil date, `None` before 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    // January and February belong to the previous March-based year.
    let year = year.checked_sub(u64::from(month <= 2))?;
    let era = year / 400;
    let year_of_era = year % 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = 365 * year_of_era + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * DAYS_PER_ERA + day_of_era).checked_sub(EPOCH_FROM_MARCH_0000)
}

/// Date and time as written, before validation.
struct Fields {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
}

impl Fields {
    fn to_unix(&self) -> Option<u64> {
        if self.hour > 23 || self.minute > 59 || self.second > 60 {
            return None;
        }
        if self.day == 0 || self.day > days_in_month(self.year, self.month) {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day)?;
        Some(days * SECS_PER_DAY + self.hour * 3600 + self.minute * 60 + self.second.min(59))
    }
}

/// `date1 SP time-of-day SP GMT`, after `day-name "," SP`.
fn imf_fixdate(c: &mut Cursor) -> Option<Fields> {
    let day = c.number(2)?;
    c.expect(b" ")?;
    let month = c.month()?;
    c.expect(b" ")?;
    let year = c.number(4)?;
    c.expect(b" ")?;
    let (hour, minute, second) = c.time_of_day()?;
    c.expect(b" GMT")?;
    Some(Fields { year, month, day, hour, minute, second })
}

/// `date2 SP time-of-day SP GMT`, after `day-name-l "," SP`.
fn rfc850(c: &mut Cursor) -> Option<Fields> {
    let day = c.number(2)?;
    c.expect(b"-")?;
    let month = c.month()?;
    c.expect(b"-")?;
    let yy = c.number(2)?;
    c.expect(b" ")?;
    let (hour, minute, second) = c.time_of_day()?;
    c.expect(b" GMT")?;
    // RFC 9110 §5.6.7: "Recipients of a timestamp value in rfc850-date format,
    // which uses a two-digit year, MUST interpret a timestamp that appears to
    // be more than 50 years in the future as representing the most recent
    // year in the past that had the same last two digits."
    // Without a clock we use the fixed window 1970-2069, which is that rule
    // evaluated in 2019. Later, years the rule would put just past 2069 stay
    // in the 1970s; RFC 850 senders predate 2000, so those are the likely
    // meaning anyway, and dates before 1970 are out of range here regardless.
    let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
    Some(Fields { year, month, day, hour, minute, second })
}

/// `date3 SP time-of-day SP year`, after `day-name SP`.
fn asctime(c: &mut Cursor) -> Option<Fields> {
    let month = c.month()?;
    c.expect(b" ")?;
    // date3 = month SP ( 2DIGIT / ( SP 1DIGIT ))
    let day = if c.eat(b" ") { c.number(1)? } else { c.number(2)? };
    c.expect(b" ")?;
    let (hour, minute, second) = c.time_of_day()?;
    c.expect(b" ")?;
    let year = c.number(4)?;
    Some(Fields { year, month, day, hour, minute, second })
}

/// The unparsed rest of the input. Every step returns `None` rather than
/// reading past the end.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    /// Consumes the leading run of ASCII letters (possibly empty).
    fn letters(&mut self) -> &'a [u8] {
        let n = self.0.iter().position(|b| !b.is_ascii_alphabetic()).unwrap_or(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }

    /// Consumes `lit` if the input starts with it.
    fn eat(&mut self, lit: &[u8]) -> bool {
        match self.0.strip_prefix(lit) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, lit: &[u8]) -> Option<()> {
        self.eat(lit).then_some(())
    }

    /// Exactly `digits` ASCII digits.
    fn number(&mut self, digits: usize) -> Option<u64> {
        self.take(digits)?
            .iter()
            .try_fold(0, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0')))
    }

    /// A month name, as 1-12.
    fn month(&mut self) -> Option<u64> {
        let name = self.take(3)?;
        let index = MONTHS.iter().position(|&m| m == name)?;
        Some(index as u64 + 1)
    }

    /// `hour ":" minute ":" second`, two digits each; ranges are checked later.
    fn time_of_day(&mut self) -> Option<(u64, u64, u64)> {
        let hour = self.number(2)?;
        self.expect(b":")?;
        let minute = self.number(2)?;
        self.expect(b":")?;
        let second = self.number(2)?;
        Some((hour, minute, second))
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_EXAMPLE: u64 = 784_111_777;

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
    fn day_count_round_trip() {
        // Every day from 1970-01-01 to 2400-12-31.
        let mut expect = (1970, 1, 1);
        for days in 0..157_420 {
            assert_eq!(civil_from_days(days), expect);
            assert_eq!(days_from_civil(expect.0, expect.1, expect.2), Some(days));
            let (y, m, d) = expect;
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
            // The day name is not checked against the date.
            ("Fri, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE),
            ("Monday, 06-Nov-94 08:49:37 GMT", RFC_EXAMPLE),
            ("Sat Nov  6 08:49:37 1994", RFC_EXAMPLE),
            // Two-digit years: 70-99 are 19xx, 00-69 are 20xx.
            ("Friday, 31-Dec-99 00:00:00 GMT", 946_598_400),
            ("Tuesday, 31-Dec-69 00:00:00 GMT", 3_155_673_600),
            // Leap second reads as :59.
            ("Wed, 31 Dec 2008 23:59:60 GMT", 1_230_767_999),
            ("Wed, 31 Dec 2008 23:59:59 GMT", 1_230_767_999),
            ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_SECS),
        ];
        for &(s, want) in cases {
            assert_eq!(p(s), Some(want), "{s}");
        }
    }

    #[test]
    fn every_day_name() {
        for name in DAY_NAMES {
            let name = std::str::from_utf8(name).unwrap();
            assert_eq!(p(&std::format!("{name}, 06 Nov 1994 08:49:37 GMT")), Some(RFC_EXAMPLE));
            assert_eq!(p(&std::format!("{name} Nov  6 08:49:37 1994")), Some(RFC_EXAMPLE));
        }
        for name in DAY_NAMES_LONG {
            let name = std::str::from_utf8(name).unwrap();
            assert_eq!(p(&std::format!("{name}, 06-Nov-94 08:49:37 GMT")), Some(RFC_EXAMPLE));
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
            "Sun, 06 Nov 1994 08:49:37 GMT ",   // trailing SP
            "Sun, 06 Nov 1994 08:49:37 GMTx",   // trailing byte
            "Sun, 06 Nov 1994 08:49:37 GMT\0",  // trailing NUL
            "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT", // two dates
            " Sun, 06 Nov 1994 08:49:37 GMT",   // leading SP
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
            "Sun Nov 16 08:49:37 1994",
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
        // rejects it or reads back exactly what was written, bar the day name.
        let valid = b"Sun, 06 Nov 1994 08:49:37 GMT";
        for i in 0..valid.len() {
            for byte in 0..=u8::MAX {
                let mut s = *valid;
                s[i] = byte;
                if let Some(secs) = parse(&s) {
                    let back = fmt(secs);
                    assert_eq!(&back.as_bytes()[3..], &s[3..], "{back}");
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
