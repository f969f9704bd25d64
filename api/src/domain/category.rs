//! Work-order categories: short codes (also Open311 service codes) with a default deadline.

use super::Invalid;

pub const MAX_DEFAULT_WORKING_DAYS: u32 = 60;

/// Codes are what Open311 clients send as `service_code`: lower-case letters, digits, `_`, `-`.
pub fn parse_category_code(raw: &str) -> Result<String, Invalid> {
    let code = raw.trim();
    let ok = !code.is_empty()
        && code.len() <= 32
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(code.to_string())
    } else {
        Err(Invalid::new(
            "code",
            "must be 1 to 32 characters of lower-case letters, digits, '_' or '-'",
        ))
    }
}

pub fn parse_label(field: &str, raw: &str) -> Result<String, Invalid> {
    let text = raw.trim();
    match text.chars().count() {
        0 => Err(Invalid::new(field, "must not be empty")),
        1..=50 => Ok(text.to_string()),
        _ => Err(Invalid::new(field, "must be at most 50 characters")),
    }
}

pub fn check_default_days(days: u32) -> Result<u32, Invalid> {
    if (1..=MAX_DEFAULT_WORKING_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(Invalid::new(
            "default_due_working_days",
            format!("must be between 1 and {MAX_DEFAULT_WORKING_DAYS} working days"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_labels_and_days() {
        assert_eq!(parse_category_code(" road_repair ").unwrap(), "road_repair");
        assert!(parse_category_code("Road").is_err());
        assert!(parse_category_code("道路").is_err());
        assert!(parse_category_code("").is_err());
        assert_eq!(parse_label("name", " 道路维修 ").unwrap(), "道路维修");
        assert_eq!(parse_label("group", "").unwrap_err().field, "group");
        assert!(check_default_days(0).is_err());
        assert!(check_default_days(61).is_err());
        assert_eq!(check_default_days(3).unwrap(), 3);
    }
}
