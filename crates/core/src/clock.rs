//! Injected time: every rule that depends on "now" (hold expiry, sales cut-off, business days)
//! asks a [`Clock`], so tests move time instead of sleeping.

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, TimeZone, Utc};
use parking_lot::Mutex;
use std::sync::Arc;

/// Source of the current instant.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to (tests, simulations).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.0.lock() += by;
    }
    /// Sets the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock() = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock()
    }
}

/// Instants as stored: milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// Converts an instant to stored milliseconds.
pub fn to_millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis()
}

/// Converts stored milliseconds back to an instant (out-of-range values clamp to the epoch).
pub fn from_millis(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// The venue-local wall clock of an instant.
pub fn local(t: DateTime<Utc>, offset: FixedOffset) -> NaiveDateTime {
    t.with_timezone(&offset).naive_local()
}

/// The instant of a venue-local wall-clock time.
pub fn from_local(t: NaiveDateTime, offset: FixedOffset) -> DateTime<Utc> {
    match offset.from_local_datetime(&t).single() {
        Some(dt) => dt.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&t),
    }
}

/// The business date of a local wall-clock time: a business day runs from 06:00 to 05:59 the
/// next morning, so a 01:30 screening belongs to the previous day.
pub fn business_date(local: NaiveDateTime) -> chrono::NaiveDate {
    (local - Duration::hours(6)).date()
}

/// Parses a UTC offset such as `+08:00`, `+0800` or `-05:00`.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn business_day_starts_at_six() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(
            business_date(d.and_hms_opt(5, 59, 0).unwrap()),
            d.pred_opt().unwrap()
        );
        assert_eq!(business_date(d.and_hms_opt(6, 0, 0).unwrap()), d);
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("+08:00").unwrap().local_minus_utc(), 8 * 3600);
        assert_eq!(parse_offset("+0800").unwrap().local_minus_utc(), 8 * 3600);
        assert_eq!(
            parse_offset("-05:30").unwrap().local_minus_utc(),
            -(5 * 3600 + 1800)
        );
        assert!(parse_offset("8").is_none());
    }
}
