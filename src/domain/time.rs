//! Time as the domain sees it: instants are Unix seconds (UTC), dates are calendar dates in Japan
//! (JST, UTC+9, no daylight saving). The current time is always passed in; [`Clock`] is how the outer
//! layers obtain it, and tests use [`ManualClock`].

use std::sync::atomic::{AtomicI64, Ordering};

use time::{Date, Month, OffsetDateTime, UtcOffset};

use super::fields::FieldError;

/// Unix seconds.
pub type Instant = i64;

pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("JST offset"),
};

/// Where the current time comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// A clock that only moves when told to, for tests of lockout and timeouts.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(at: Instant) -> Self {
        ManualClock(AtomicI64::new(at))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn set(&self, at: Instant) {
        self.0.store(at, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.0.load(Ordering::SeqCst)
    }
}

fn jst(at: Instant) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(JST)
}

/// Today's date in Japan.
pub fn jst_date(at: Instant) -> Date {
    jst(at).date()
}

/// The first instant after `date` ends in Japan: a 有効期限 of `date` is valid while `now` is before it.
pub fn end_of_jst_day(date: Date) -> Instant {
    let next = date.next_day().unwrap_or(date);
    next.midnight().assume_offset(JST).unix_timestamp()
}

/// 2026/11/24 14:05 (JST), as screens show times.
pub fn format_jst(at: Instant) -> String {
    let t = jst(at);
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// 2026/11/24, as screens show dates.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}/{:02}/{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The ISO form stored in the database and used by `<input type="date">`.
pub fn iso_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// 令和8年11月24日 (from 2019-05-01) or 平成 before it; None before 平成.
pub fn wareki(date: Date) -> Option<String> {
    let (era, first_year) = if date >= ymd(2019, 5, 1)? {
        ("令和", 2019)
    } else if date >= ymd(1989, 1, 8)? {
        ("平成", 1989)
    } else {
        return None;
    };
    let n = date.year() - first_year + 1;
    let year = if n == 1 {
        "元".to_string()
    } else {
        n.to_string()
    };
    Some(format!(
        "{era}{year}年{}月{}日",
        u8::from(date.month()),
        date.day()
    ))
}

fn ymd(y: i32, m: u8, d: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// Parses the date forms people and Excel write: 2026-03-31, 2026/3/31, 2026.3.31, 2026年3月31日 and
/// 令和8年3月31日 (also R8.3.31 and 平成).
pub fn parse_date(field: &'static str, input: &str) -> Result<Date, FieldError> {
    let folded: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '／' => '/',
            '－' => '-',
            _ => c,
        })
        .collect();
    if folded.is_empty() {
        return Err(FieldError::Required { field });
    }
    let invalid = FieldError::Format {
        field,
        hint: "西暦の日付（例: 2026/3/31）",
    };
    let (offset, rest) = if let Some(r) = folded
        .strip_prefix("令和")
        .or_else(|| folded.strip_prefix('R'))
    {
        (2018, r)
    } else if let Some(r) = folded
        .strip_prefix("平成")
        .or_else(|| folded.strip_prefix('H'))
    {
        (1988, r)
    } else {
        (0, folded.as_str())
    };
    let rest = rest.replacen("元年", "1年", 1);
    let parts: Vec<&str> = rest
        .trim_end_matches('日')
        .split(['-', '/', '.', '年', '月'])
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(invalid);
    };
    let num = |s: &str| -> Option<u32> {
        if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    let (Some(y), Some(m), Some(d)) = (num(y), num(m), num(d)) else {
        return Err(invalid);
    };
    let year = if offset > 0 {
        if y == 0 || y > 99 {
            return Err(invalid);
        }
        offset + y as i32
    } else if y < 1900 {
        return Err(invalid);
    } else {
        y as i32
    };
    ymd(year, m as u8, d as u8).ok_or(FieldError::Invalid {
        field,
        reason: "存在しない日付です",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn excel_date_forms() {
        for s in [
            "2026-03-31",
            "2026/3/31",
            "2026/03/31",
            "2026.3.31",
            "2026年3月31日",
            "令和8年3月31日",
            "R8.3.31",
            "２０２６／３／３１",
        ] {
            assert_eq!(
                parse_date("有効期限", s).unwrap(),
                date!(2026 - 03 - 31),
                "{s}"
            );
        }
        assert_eq!(
            parse_date("有効期限", "平成31年4月30日").unwrap(),
            date!(2019 - 04 - 30)
        );
        assert_eq!(
            parse_date("有効期限", "令和元年5月1日").unwrap(),
            date!(2019 - 05 - 01)
        );
        assert!(matches!(
            parse_date("有効期限", ""),
            Err(FieldError::Required { .. })
        ));
        assert!(matches!(
            parse_date("有効期限", "2026/2/30"),
            Err(FieldError::Invalid { .. })
        ));
        assert!(matches!(
            parse_date("有効期限", "来月"),
            Err(FieldError::Format { .. })
        ));
        assert!(matches!(
            parse_date("有効期限", "26/3/31"),
            Err(FieldError::Format { .. })
        ));
        assert!(matches!(
            parse_date("有効期限", "2026/3/31/1"),
            Err(FieldError::Format { .. })
        ));
    }

    #[test]
    fn jst_days_and_formats() {
        // 2026-03-31 14:59:59 UTC is 23:59:59 JST: still that day.
        let last_second = date!(2026 - 03 - 31)
            .with_hms(14, 59, 59)
            .unwrap()
            .assume_utc()
            .unix_timestamp();
        assert_eq!(jst_date(last_second), date!(2026 - 03 - 31));
        assert_eq!(jst_date(last_second + 1), date!(2026 - 04 - 01));
        assert_eq!(end_of_jst_day(date!(2026 - 03 - 31)), last_second + 1);
        assert_eq!(format_jst(last_second), "2026/03/31 23:59");
        assert_eq!(format_date(date!(2026 - 11 - 24)), "2026/11/24");
        assert_eq!(wareki(date!(2026 - 11 - 24)).unwrap(), "令和8年11月24日");
        assert_eq!(wareki(date!(2019 - 05 - 01)).unwrap(), "令和元年5月1日");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(100);
        assert_eq!(c.now(), 100);
        c.advance(50);
        assert_eq!(c.now(), 150);
    }
}
