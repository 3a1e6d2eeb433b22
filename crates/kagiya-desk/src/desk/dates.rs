//! Calendar days for the dashboard's chart, in the PC's time zone as the UI reports it. Kept
//! here (a few lines of Howard Hinnant's civil-from-days) rather than pulling a date crate in
//! for one conversion.

use kagiya_core::Millis;

pub(crate) const DAY: Millis = 24 * 60 * 60 * 1000;

/// The local day number (days since 1970-01-01 in the zone `offset_minutes` east of UTC).
pub(crate) fn local_day(at: Millis, offset_minutes: i32) -> i64 {
    (at + Millis::from(offset_minutes) * 60_000).div_euclid(DAY)
}

/// `YYYY-MM-DD` of a day number.
pub(crate) fn iso_date(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_calendar_dates() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(-1), "1969-12-31");
        assert_eq!(iso_date(11_016), "2000-02-29");
        assert_eq!(iso_date(20_780), "2026-11-23");
    }

    #[test]
    fn the_local_day_follows_the_offset() {
        // 2026-11-22 20:00 UTC is already the 23rd in Tokyo (UTC+9).
        let at = 20_779 * DAY + 20 * 3_600_000;
        assert_eq!(iso_date(local_day(at, 0)), "2026-11-22");
        assert_eq!(iso_date(local_day(at, 9 * 60)), "2026-11-23");
        assert_eq!(iso_date(local_day(at, -5 * 60)), "2026-11-22");
    }
}
