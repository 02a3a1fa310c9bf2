//! Lockout (DESIGN §6) as two small state machines: one per account, one per client address.

use super::time::Instant;

/// How many consecutive failures lock an account, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the account (default 5).
    pub threshold: u32,
    /// Seconds after which a lock releases itself; 0 = only by hand (default 30 minutes).
    pub auto_release_secs: i64,
}

impl LockoutPolicy {
    /// Whether the `failures`-th consecutive failure locks the account.
    pub fn locks_after(&self, failures: u32) -> bool {
        failures >= self.threshold
    }
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            threshold: 5,
            auto_release_secs: 30 * 60,
        }
    }
}

/// An account's stored lockout facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lockout {
    pub failures: u32,
    pub locked_at: Option<Instant>,
}

impl Lockout {
    /// The facts as they stand at `now`: a lock past its automatic release counts as released.
    pub fn at(self, policy: &LockoutPolicy, now: Instant) -> Lockout {
        match self.locked_at {
            Some(at) if policy.auto_release_secs > 0 && now >= at + policy.auto_release_secs => {
                Lockout::default()
            }
            _ => self,
        }
    }

    pub fn is_locked(self, policy: &LockoutPolicy, now: Instant) -> bool {
        self.at(policy, now).locked_at.is_some()
    }

    /// After a failed login. `.1` is true when this failure locked the account.
    pub fn after_failure(self, policy: &LockoutPolicy, now: Instant) -> (Lockout, bool) {
        let current = self.at(policy, now);
        if current.locked_at.is_some() {
            return (current, false);
        }
        let failures = current.failures.saturating_add(1);
        if policy.locks_after(failures) {
            (
                Lockout {
                    failures,
                    locked_at: Some(now),
                },
                true,
            )
        } else {
            (
                Lockout {
                    failures,
                    locked_at: None,
                },
                false,
            )
        }
    }

    /// After a successful login, or a release by hand.
    pub fn cleared() -> Lockout {
        Lockout::default()
    }
}

/// Per client address: many failures from one machine slow that machine down, without locking the
/// accounts it guesses at beyond their own counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed from one address within `window_secs`.
    pub max_failures: u32,
    pub window_secs: i64,
    /// How long the address is refused once over the limit.
    pub block_secs: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            max_failures: 20,
            window_secs: 10 * 60,
            block_secs: 10 * 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: u32,
    pub window_start: Instant,
    pub blocked_until: Option<Instant>,
}

impl Throttle {
    pub fn is_blocked(&self, now: Instant) -> bool {
        self.blocked_until.is_some_and(|until| now < until)
    }

    pub fn after_failure(self, policy: &ThrottlePolicy, now: Instant) -> Throttle {
        let mut t = if now - self.window_start >= policy.window_secs
            || self.blocked_until.is_some_and(|u| now >= u)
        {
            Throttle {
                failures: 0,
                window_start: now,
                blocked_until: None,
            }
        } else {
            self
        };
        t.failures += 1;
        if t.failures >= policy.max_failures {
            t.blocked_until = Some(now + policy.block_secs);
        }
        t
    }

    /// Admits a login attempt from this address, counting it as a failure before its password is
    /// checked (so that parallel guesses cannot all pass a check made before any of them failed);
    /// `None` while the address is blocked. A success is [`forgiven`](Throttle::forgive) afterwards.
    pub fn admit(self, policy: &ThrottlePolicy, now: Instant) -> Option<Throttle> {
        (!self.is_blocked(now)).then(|| self.after_failure(policy, now))
    }

    /// Takes back an admitted attempt that succeeded.
    pub fn forgive(self, policy: &ThrottlePolicy) -> Throttle {
        let failures = self.failures.saturating_sub(1);
        Throttle {
            failures,
            blocked_until: self
                .blocked_until
                .filter(|_| failures >= policy.max_failures),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifth_failure_locks_and_lock_releases_itself() {
        let p = LockoutPolicy::default();
        let mut s = Lockout::default();
        for i in 1..=4 {
            let (next, locked) = s.after_failure(&p, 1000 + i);
            assert!(!locked);
            s = next;
        }
        let (s, locked) = s.after_failure(&p, 1005);
        assert!(locked);
        assert!(s.is_locked(&p, 1005));
        assert!(s.is_locked(&p, 1005 + 30 * 60 - 1));
        assert!(!s.is_locked(&p, 1005 + 30 * 60));
        assert_eq!(s.at(&p, 1005 + 30 * 60).failures, 0);
    }

    #[test]
    fn zero_means_only_by_hand() {
        let p = LockoutPolicy {
            threshold: 2,
            auto_release_secs: 0,
        };
        let (s, _) = Lockout::default().after_failure(&p, 0);
        let (s, locked) = s.after_failure(&p, 1);
        assert!(locked);
        assert!(s.is_locked(&p, 10_000_000));
    }

    #[test]
    fn throttle_blocks_an_address_then_forgets() {
        let p = ThrottlePolicy {
            max_failures: 3,
            window_secs: 60,
            block_secs: 120,
        };
        let mut t = Throttle::default().after_failure(&p, 1000);
        t = t.after_failure(&p, 1001);
        assert!(!t.is_blocked(1001));
        t = t.after_failure(&p, 1002);
        assert!(t.is_blocked(1002));
        assert!(t.is_blocked(1121));
        assert!(!t.is_blocked(1122));
        // admitted attempts count before their outcome; a success is taken back
        let mut a = Throttle::default();
        for i in 0..3 {
            a = a.admit(&p, 2000 + i).expect("admitted");
        }
        assert_eq!(a.admit(&p, 2003), None);
        let forgiven = a.forgive(&p);
        assert_eq!(forgiven.failures, 2);
        assert!(!forgiven.is_blocked(2003));
        assert!(forgiven.admit(&p, 2004).is_some());
        // failures spread beyond the window never block
        let mut slow = Throttle::default();
        for i in 0..10 {
            slow = slow.after_failure(&p, 10_000 + i * 61);
            assert!(!slow.is_blocked(10_000 + i * 61));
        }
    }
}
