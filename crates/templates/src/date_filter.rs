//! The `date` filter, as Tera's own spells it (`{{ d | date(format="…") }}`),
//! without Tera's `builtins` feature: that feature also brings the whole
//! time-zone database (chrono-tz), slug tables and a random number
//! generator, which every binary carrying the theme (the Lambda functions
//! included) would compile and ship for one filter. The handbook's dates
//! are calendar days, so no time zone is needed.

use std::collections::HashMap;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use tera::{Error, Result, Value};

const DEFAULT_FORMAT: &str = "%Y-%m-%d";

/// `date(format=…)` of a `YYYY-MM-DD` day, an RFC 3339 time (formatted in
/// its own offset), a `YYYY-MM-DDTHH:MM:SS` local time or a Unix timestamp.
pub fn date(value: &Value, args: &HashMap<String, Value>) -> Result<Value> {
    let format = match args.get("format") {
        Some(Value::String(f)) => f.as_str(),
        Some(other) => {
            return Err(Error::msg(format!(
                "the `format` of the `date` filter must be a string, not {other}"
            )));
        }
        None => DEFAULT_FORMAT,
    };
    // chrono panics on an invalid format only when displayed: check first.
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.contains(&Item::Error) {
        return Err(Error::msg(format!(
            "`{format}` is not a valid date format for the `date` filter"
        )));
    }
    let shown = match value {
        Value::String(text) => {
            if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                day.format_with_items(items.iter()).to_string()
            } else if let Ok(time) = DateTime::parse_from_rfc3339(text) {
                time.format_with_items(items.iter()).to_string()
            } else if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
                time.format_with_items(items.iter()).to_string()
            } else {
                return Err(Error::msg(format!(
                    "the `date` filter cannot read `{text}` as a date (YYYY-MM-DD)"
                )));
            }
        }
        Value::Number(n) => match n.as_i64().and_then(|s| DateTime::from_timestamp(s, 0)) {
            Some(time) => time.format_with_items(items.iter()).to_string(),
            None => {
                return Err(Error::msg(format!(
                    "the `date` filter cannot read {n} as a time"
                )));
            }
        },
        other => {
            return Err(Error::msg(format!(
                "the `date` filter takes a date, not {other}"
            )));
        }
    };
    Ok(Value::String(shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(value: Value, format: Option<&str>) -> Result<Value> {
        let mut args = HashMap::new();
        if let Some(f) = format {
            args.insert("format".to_owned(), Value::String(f.to_owned()));
        }
        date(&value, &args)
    }

    #[test]
    fn days_times_and_timestamps_format_like_teras_filter() -> Result<()> {
        let chinese = Some("%Y年%-m月%-d日");
        assert_eq!(run("2026-03-05".into(), chinese)?, "2026年3月5日");
        assert_eq!(run("2026-03-05".into(), None)?, "2026-03-05");
        assert_eq!(
            run("2026-03-05T23:30:00+08:00".into(), Some("%Y-%m-%d %H:%M"))?,
            "2026-03-05 23:30"
        );
        assert_eq!(run(Value::from(0), None)?, "1970-01-01");
        Ok(())
    }

    #[test]
    fn what_is_not_a_date_or_a_format_is_an_error_not_a_panic() {
        assert!(run("2026-02-30".into(), None).is_err());
        assert!(run("soon".into(), None).is_err());
        assert!(run(Value::Bool(true), None).is_err());
        assert!(run("2026-03-05".into(), Some("%Q")).is_err());
    }
}
