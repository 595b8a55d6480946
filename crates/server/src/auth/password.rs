//! Password hashing (Argon2id, PHC strings), and the checks of logins, bounded.

use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

/// Hashes `password` with a random salt.
///
/// # Errors
/// The hasher's message, when it fails (it does not for passwords of sane length).
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches `hash`. A malformed hash matches nothing.
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// The hash a login of a user who does not exist is checked against: a hash of a password
/// nobody knows, with the parameters of every other, so that the check costs the same and the
/// answer's timing does not tell which usernames exist.
static NOBODYS: LazyLock<String> =
    LazyLock::new(|| hash(&crate::auth::random_token()).unwrap_or_else(|_| String::new()));

/// The checks of passwords, a few at a time: each holds Argon2id's 19 MiB while it runs, and
/// 300 concurrent wrong logins once took 5.4 GB. Further checks wait their turn.
#[derive(Debug)]
pub struct Verifications {
    permits: Arc<Semaphore>,
}

impl Verifications {
    /// At most `at_once` checks at a time.
    pub fn new(at_once: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(at_once.max(1))) }
    }

    /// As many checks at a time as the machine has cores: more would only share them.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
    }

    /// Whether `password` matches `hash`; for a user who does not exist (`None`), false after
    /// the same work.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        self.run(move || match hash {
            Some(hash) => verify(&password, &hash),
            None => {
                verify(&password, &NOBODYS);
                false
            }
        })
        .await
        .unwrap_or(false)
    }

    /// Runs `check` on the blocking pool once a permit is free; `None` if it could not run.
    /// The permit goes with the check: a client that hangs up does not free it while the
    /// check still runs.
    async fn run<R: Send + 'static>(&self, check: impl FnOnce() -> R + Send + 'static) -> Option<R> {
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        tokio::task::spawn_blocking(move || {
            let checked = check();
            drop(permit);
            checked
        })
        .await
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hashed = hash("s3cret").unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify("s3cret", &hashed));
        assert!(!verify("S3cret", &hashed));
        assert!(!verify("s3cret", "not a hash"));
    }

    #[test]
    fn an_unknown_users_login_is_checked_against_a_hash_that_costs_the_same() {
        let params = |hash: &str| hash.split('$').nth(3).map(str::to_owned);
        let real = hash("demo").unwrap();
        assert_eq!(params(&NOBODYS), params(&real), "{} against {real}", *NOBODYS);
        assert!(params(&real).is_some_and(|params| params.starts_with("m=19456")), "{real}");
    }

    #[tokio::test]
    async fn no_more_checks_run_at_once_than_permitted() {
        let verifications = Arc::new(Verifications::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let checks: Vec<_> = (0..12)
            .map(|_| {
                let (verifications, running, most) = (verifications.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    verifications
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(5));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for check in checks {
            assert_eq!(check.await.unwrap(), Some(()));
        }
        assert!(most.load(Ordering::SeqCst) <= 2, "{} at once", most.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_check_keeps_its_permit_when_its_caller_hangs_up() {
        let verifications = Arc::new(Verifications::new(1));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(tokio::sync::Notify::new());
        let check = |running: Arc<AtomicUsize>, most: Arc<AtomicUsize>, started: Arc<tokio::sync::Notify>| {
            move || {
                most.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                started.notify_one();
                std::thread::sleep(Duration::from_millis(50));
                running.fetch_sub(1, Ordering::SeqCst);
            }
        };
        let first = {
            let (verifications, work) =
                (verifications.clone(), check(running.clone(), most.clone(), started.clone()));
            tokio::spawn(async move { verifications.run(work).await })
        };
        started.notified().await;
        first.abort();
        verifications.run(check(running.clone(), most.clone(), started)).await;
        assert_eq!(most.load(Ordering::SeqCst), 1, "the second waited for the first to finish");
    }

    #[tokio::test]
    async fn nobody_logs_in_as_a_user_who_does_not_exist() {
        let verifications = Verifications::new(1);
        assert!(!verifications.verify("anything".into(), None).await);
        assert!(verifications.verify("demo".into(), Some(hash("demo").unwrap())).await);
    }
}
