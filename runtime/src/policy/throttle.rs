/*!
Login throttling: how many wrong passwords an account and a client address may send before they
wait, and for how long. Pure rules over explicit times (milliseconds), so the tests run a
virtual clock; the counts live in the database (`store::throttle`) so every `m110d` on one
install shares them, and `engine::login` applies the rules.

- An **account** (a login name, known or not — unknown names are counted alike, so a lockout
  tells nothing about who exists) may fail [`Rules::account_limit`] times; from then on each
  further failure locks it for [`Rules::base_lock_ms`] doubled per failure past the limit, up to
  [`Rules::max_lock_ms`]. A success clears the count; so does an administrator's unlock.
- An **address** may fail [`Rules::address_limit`] times over all names (a password sprayed over
  many names), then waits the same way.
- A count starts over after [`Rules::window_ms`] without a failure.
- While locked, no password is checked at all: the answer is 429 with `Retry-After`, so a locked
  account costs no hashing and the right password does not get in either.
*/

/// The throttling rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub account_limit: i64,
    pub address_limit: i64,
    pub window_ms: i64,
    pub base_lock_ms: i64,
    pub max_lock_ms: i64,
}

/// The defaults: 5 failures per account and 30 per address within 15 minutes, then 30 s doubled
/// per further failure, at most 15 minutes. A user who forgot a password tries a few times and
/// asks an administrator; a guesser gets about 100 tries a day per account instead of 200 in 2 s.
pub const DEFAULT_RULES: Rules = Rules {
    account_limit: 5,
    address_limit: 30,
    window_ms: 15 * 60_000,
    base_lock_ms: 30_000,
    max_lock_ms: 15 * 60_000,
};

/// One account's or address's failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub failures: i64,
    pub first_at: i64,
    pub last_at: i64,
    /// Until when attempts are refused unchecked (0 = not locked).
    pub locked_until: i64,
}

impl Entry {
    /// Milliseconds left of the lock at `now`, if locked.
    pub fn locked_for(&self, now: i64) -> Option<i64> {
        (self.locked_until > now).then(|| self.locked_until - now)
    }
}

impl Rules {
    /// The entry after one more failure at `now`, where `limit` is the account's or the
    /// address's limit.
    pub fn after_failure(&self, entry: Option<Entry>, now: i64, limit: i64) -> Entry {
        let fresh = Entry {
            failures: 1,
            first_at: now,
            last_at: now,
            locked_until: 0,
        };
        let mut e = match entry {
            Some(mut e) if now - e.last_at <= self.window_ms || e.locked_until > now => {
                e.failures += 1;
                e.last_at = now;
                e
            }
            _ => fresh,
        };
        if e.failures >= limit {
            // The limit-th failure locks for base_lock_ms, each one after doubles it.
            let doublings = (e.failures - limit).min(20) as u32;
            let lock = self
                .base_lock_ms
                .saturating_mul(1i64 << doublings)
                .min(self.max_lock_ms);
            e.locked_until = e.locked_until.max(now + lock);
        }
        e
    }

    /// Whether an entry is stale at `now` (no failure for a window and no lock): the purge
    /// deletes such rows.
    pub fn is_stale(&self, e: &Entry, now: i64) -> bool {
        now - e.last_at > self.window_ms && e.locked_until <= now
    }
}

/// Whole seconds to put in `Retry-After` for a lock of `ms` milliseconds (at least 1).
pub fn retry_after_secs(ms: i64) -> u64 {
    ((ms.max(1) + 999) / 1000) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rules = DEFAULT_RULES;

    /// Failures at the given times (a virtual clock), folded.
    fn run(times: &[i64], limit: i64) -> Entry {
        let mut e = None;
        for &t in times {
            e = Some(R.after_failure(e, t, limit));
        }
        e.unwrap()
    }

    #[test]
    fn the_limit_th_failure_locks_and_each_further_one_doubles() {
        let e = run(&[0, 1_000, 2_000, 3_000], 5);
        assert_eq!(e.failures, 4);
        assert_eq!(e.locked_for(3_000), None, "four failures pass");
        let e = R.after_failure(Some(e), 4_000, 5);
        assert_eq!(e.locked_for(4_000), Some(30_000));
        assert_eq!(e.locked_for(34_000), None, "the lock ends");
        // After the lock, one more failure locks for twice as long.
        let e = R.after_failure(Some(e), 40_000, 5);
        assert_eq!(e.failures, 6);
        assert_eq!(e.locked_for(40_000), Some(60_000));
        let e = R.after_failure(Some(e), 100_001, 5);
        assert_eq!(e.locked_for(100_001), Some(120_000));
    }

    #[test]
    fn the_lock_never_exceeds_the_maximum() {
        let times: Vec<i64> = (0..200).map(|i| i * 1_000).collect();
        let e = run(&times, 5);
        assert_eq!(e.locked_for(199_000), Some(R.max_lock_ms));
    }

    #[test]
    fn a_quiet_window_starts_the_count_over() {
        let e = run(&[0, 1_000, 2_000, 3_000], 5);
        let later = 3_000 + R.window_ms + 1;
        let e = R.after_failure(Some(e), later, 5);
        assert_eq!(e.failures, 1, "counted afresh");
        assert_eq!(e.first_at, later);
        assert!(R.is_stale(&e, later + R.window_ms + 1));
        assert!(!R.is_stale(&e, later + 1));
    }

    #[test]
    fn a_locked_entry_is_not_forgotten_before_its_lock_ends() {
        let mut e = run(&[0, 1, 2, 3, 4], 5);
        e.locked_until = R.window_ms * 3;
        let e2 = R.after_failure(Some(e), R.window_ms * 2, 5);
        assert_eq!(e2.failures, 6, "still counting while locked");
        assert!(!R.is_stale(&e2, R.window_ms * 2 + 2));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(30_000), 30);
        assert_eq!(retry_after_secs(30_001), 31);
        assert_eq!(retry_after_secs(-5), 1);
    }
}
