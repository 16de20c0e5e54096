//! Wall-clock timestamps for syslog headers, in UTC (no libc `localtime`
//! needed; containers run in UTC anyway).

use std::time::{SystemTime, UNIX_EPOCH};

pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    pub micros: u32,
}

pub fn now() -> Civil {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    from_unix(d.as_secs() as i64, d.subsec_micros())
}

/// Howard Hinnant's days-to-civil algorithm.
pub fn from_unix(secs: i64, micros: u32) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        min: rem % 3600 / 60,
        sec: rem % 60,
        micros,
    }
}

pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

#[cfg(test)]
mod tests {
    #[test]
    fn known_dates() {
        let c = super::from_unix(1_660_410_160, 0); // 2022-08-13 17:02:40 UTC
        assert_eq!((c.year, c.month, c.day), (2022, 8, 13));
        assert_eq!((c.hour, c.min, c.sec), (17, 2, 40));
        let c = super::from_unix(0, 0);
        assert_eq!((c.year, c.month, c.day), (1970, 1, 1));
    }
}
