//! Webhook rules: which events exist, how deliveries are signed, and how retries back off.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Invalid;

/// Every event a webhook can subscribe to (`*` subscribes to all).
pub const EVENTS: &[&str] = &[
    "work_order.created",
    "work_order.assigned",
    "work_order.accepted",
    "work_order.progress",
    "work_order.resolved",
    "work_order.closed",
    "work_order.reopened",
    "work_order.rejected",
    "work_order.extension_requested",
    "work_order.extension_approved",
    "work_order.extension_rejected",
    "work_order.due_soon",
    "work_order.overdue",
];

/// After this many failed attempts a delivery is given up (kept in the log as failed).
pub const MAX_ATTEMPTS: i32 = 12;

/// `X-Minqing-Signature`: `sha256=` and the hex HMAC-SHA256 of the body with the secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait before attempt `attempts + 1`: doubling from `base`, at most an hour.
pub fn backoff(attempts: i32, base: Duration) -> Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
    base.saturating_mul(factor).min(Duration::from_secs(3600))
}

pub fn subscribed(events: &[String], event: &str) -> bool {
    events.iter().any(|e| e == "*" || e == event)
}

/// Checks a new webhook: an http(s) URL, a secret of 16+ characters, known events.
pub fn check_webhook(url: &str, secret: &str, events: &[String]) -> Result<(), Vec<Invalid>> {
    let mut errors = Vec::new();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.len() > 2000 || url.chars().any(char::is_whitespace) {
        errors.push(Invalid::new("url", "must be an http:// or https:// URL"));
    }
    if secret.chars().count() < 16 || secret.len() > 256 {
        errors.push(Invalid::new("secret", "must be 16 to 256 characters"));
    }
    if events.is_empty() {
        errors.push(Invalid::new("events", "name at least one event, or \"*\""));
    }
    for (i, e) in events.iter().enumerate() {
        if e != "*" && !EVENTS.contains(&e.as_str()) {
            errors.push(Invalid::new(
                format!("events[{i}]"),
                format!("unknown event; known: {}", EVENTS.join(", ")),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256() {
        // RFC 4231 test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let base = Duration::from_secs(60);
        assert_eq!(backoff(0, base), Duration::from_secs(60));
        assert_eq!(backoff(3, base), Duration::from_secs(480));
        assert_eq!(backoff(30, base), Duration::from_secs(3600));
    }

    #[test]
    fn webhooks_are_checked() {
        let events = vec!["work_order.created".to_string()];
        assert!(check_webhook("https://hooks.example/x", "a-secret-of-16-chars", &events).is_ok());
        let errors = check_webhook("ftp://x", "short", &["nope".into()]).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["url", "secret", "events[0]"]);
        assert!(subscribed(&["*".into()], "work_order.overdue"));
        assert!(!subscribed(&events, "work_order.overdue"));
    }
}
