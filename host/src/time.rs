//! Time as the host writes it, in one place: milliseconds since the Unix epoch for figures,
//! events and log lines; RFC 3339 UTC text for the store and the API (`…T12:00:00.123Z`, or
//! whole seconds where a token's expiry is shown); and a [`Clock`] that tests — and
//! features that wait for a time of day, such as schedules — can move by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in ms since the Unix epoch.
pub fn now_millis() -> i64 {
    unix_millis(SystemTime::now())
}

/// `at` in ms since the Unix epoch (0 before it).
pub fn unix_millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Now, in whole seconds since the Unix epoch.
pub fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `at` as RFC 3339 UTC text with milliseconds (`2023-11-14T22:13:20.123Z`), the way the
/// store writes its times, so that text comparisons in SQL order like the times.
pub fn rfc3339(at: SystemTime) -> String {
    let ms = unix_millis(at);
    let (days, rest) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

/// `secs` since the Unix epoch as RFC 3339 UTC text in whole seconds
/// (`2024-05-01T12:00:00Z`).
pub fn rfc3339_secs(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The civil date (year, month 1–12, day 1–31, proleptic Gregorian) `days` after
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Where "now" comes from: the system's clock, or one a test sets and moves. Cheap to
/// clone; clones of a manual clock share its time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system's clock; else ms since the Unix epoch, moved by hand.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Clock { manual: None }
    }

    /// A clock that stands at `at` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(at: SystemTime) -> Self {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(unix_millis(at)))),
        }
    }

    /// Now, in ms since the Unix epoch.
    pub fn now_millis(&self) -> i64 {
        match &self.manual {
            Some(ms) => ms.load(Ordering::Relaxed),
            None => now_millis(),
        }
    }

    /// Now.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.now_millis()).unwrap_or(0))
    }

    /// Moves a manual clock forward by `by` (the system's clock moves by itself).
    pub fn advance(&self, by: Duration) {
        if let Some(ms) = &self.manual {
            ms.fetch_add(
                i64::try_from(by.as_millis()).unwrap_or(i64::MAX),
                Ordering::Relaxed,
            );
        }
    }

    /// Sets a manual clock to `at` (the system's clock cannot be set).
    pub fn set(&self, at: SystemTime) {
        if let Some(ms) = &self.manual {
            ms.store(unix_millis(at), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_like_the_store_writes_them() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339(at), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
        // The store's own clock writes the same text for the same instant.
        assert_eq!(
            rfc3339(at),
            humantime::format_rfc3339_millis(at).to_string()
        );
    }

    #[test]
    fn rfc3339_formats_epoch_seconds() {
        assert_eq!(rfc3339_secs(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_secs(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_secs(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_secs(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_its_clones_follow() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = Clock::manual(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(90));
        assert_eq!(other.now(), start + Duration::from_secs(90));
        other.set(UNIX_EPOCH);
        assert_eq!(clock.now_millis(), 0);
        let system = Clock::system();
        assert!((system.now_millis() - now_millis()).abs() < 60_000);
    }
}
