//! Session lifetime (DESIGN §6): an idle timeout and an absolute one.

use super::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Seconds without a request after which the session ends (default 30 minutes).
    pub idle_secs: i64,
    /// Seconds after login after which the session ends whatever happens (default 8 hours).
    pub absolute_secs: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle_secs: 30 * 60,
            absolute_secs: 8 * 3600,
        }
    }
}

impl SessionPolicy {
    pub fn is_expired(&self, created_at: Instant, last_seen_at: Instant, now: Instant) -> bool {
        now >= created_at + self.absolute_secs || now >= last_seen_at + self.idle_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_and_absolute_timeouts() {
        let p = SessionPolicy::default();
        assert!(!p.is_expired(0, 0, 30 * 60 - 1));
        assert!(p.is_expired(0, 0, 30 * 60));
        // kept alive by activity, but never past the absolute limit
        assert!(!p.is_expired(0, 8 * 3600 - 60, 8 * 3600 - 1));
        assert!(p.is_expired(0, 8 * 3600 - 60, 8 * 3600));
    }
}
