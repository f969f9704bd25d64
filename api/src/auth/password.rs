//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes), bounded: every
//! hash and check a request causes goes through [`PasswordSlots`].

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, Output, ParamsString, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

/// How long a request waits for a hashing slot before it is answered 429.
const SLOT_WAIT: Duration = Duration::from_secs(2);

/// At most one argon2 run per core at a time, each in a working memory of its own that is
/// kept for the next run. Unbounded (one run per request on the blocking pool, each
/// allocating 19 MiB), a burst of logins took gigabytes, and the allocator kept much of it;
/// here memory stays at slots × 19 MiB, and the rest wait briefly or get 429 with
/// `Retry-After`.
pub struct PasswordSlots {
    slots: Arc<Semaphore>,
    /// Working memories not in use: at most one per slot is ever made.
    memories: Arc<Mutex<Vec<Memory>>>,
    wait: Duration,
}

impl PasswordSlots {
    pub fn new(slots: usize, wait: Duration) -> Self {
        PasswordSlots {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            memories: Arc::default(),
            wait,
        }
    }

    /// One slot per core the process may use.
    pub fn sized_to_cores() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self::new(cores, SLOT_WAIT)
    }

    /// Runs `work` on the blocking pool once a slot is free; 429 after waiting `wait`.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> ApiResult<T> {
        let permit = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::TooManyRequests {
                retry_after_secs: self.wait.as_secs().max(1),
            })?
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("password slots closed: {e}")))?;
        let memories = self.memories.clone();
        // The permit travels with the work: a request that goes away early does not free
        // the slot while its hash is still running.
        Ok(actix_web::web::block(move || {
            let _slot = permit;
            // A poisoned lock only means a run panicked; the other memories are intact.
            let free = || memories.lock().unwrap_or_else(|e| e.into_inner());
            let mut memory = free().pop().unwrap_or_default();
            let done = work(&mut memory);
            free().push(memory);
            done
        })
        .await?)
    }

    pub async fn hash(&self, password: String) -> ApiResult<String> {
        self.run(move |memory| hash_in(&password, memory)).await?
    }

    /// Whether `password` matches `stored` (see [`verify_in`]).
    pub async fn verify(&self, password: String, stored: Option<String>) -> ApiResult<bool> {
        self.run(move |memory| verify_in(&password, stored.as_deref(), memory))
            .await
    }
}

/// argon2's working memory, grown to what a hash's parameters ask for and then reused.
#[derive(Default)]
struct Memory(Vec<Block>);

impl Memory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }
}

/// Hashes directly, for start-up and command-line work outside any request (the first
/// admin, demo data); requests use [`PasswordSlots::hash`].
pub fn hash_password(password: &str) -> ApiResult<String> {
    hash_in(password, &mut Memory::default())
}

/// A new PHC-format argon2id hash with the crate's default parameters and a random salt.
fn hash_in(password: &str, memory: &mut Memory) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    compute(
        password.as_bytes(),
        Algorithm::Argon2id,
        Version::V0x13,
        params,
        salt.as_salt(),
        memory,
    )
    .map(|h| h.to_string())
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// What argon2's `PasswordHasher` computes, but in `memory` instead of a fresh allocation.
fn compute<'a>(
    password: &[u8],
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Salt<'a>,
    memory: &mut Memory,
) -> password_hash::Result<PasswordHash<'a>> {
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let argon = Argon2::new(algorithm, version, params.clone());
    let blocks = memory.blocks(params.block_count());
    let output = Output::init_with(output_len, |out| {
        Ok(argon.hash_password_into_with_memory(password, salt_bytes, out, &mut *blocks)?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// Whether `password` matches the PHC hash `stored`, recomputed with the stored parameters
/// and compared in constant time (argon2's `PasswordVerifier`, in `memory`). With no stored
/// hash (unknown phone) a dummy hash is checked anyway, so the answer takes as long and does
/// not reveal which phones exist.
fn verify_in(password: &str, stored: Option<&str>, memory: &mut Memory) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_in("not-a-real-password", memory).unwrap_or_default());
    let matches = PasswordHash::new(stored.unwrap_or(dummy)).is_ok_and(|hash| {
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return false;
        };
        let parts = (
            Algorithm::try_from(hash.algorithm),
            hash.version
                .map_or(Ok(Version::default()), Version::try_from),
            Params::try_from(&hash),
        );
        let (Ok(algorithm), Ok(version), Ok(params)) = parts else {
            return false;
        };
        compute(
            password.as_bytes(),
            algorithm,
            version,
            params,
            salt,
            memory,
        )
        .is_ok_and(|computed| computed.hash == Some(expected))
    });
    matches && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        let memory = &mut Memory::default();
        assert!(verify_in("correct horse", Some(&a), memory));
        assert!(!verify_in("wrong horse", Some(&a), memory));
        assert!(!verify_in("not-a-real-password", None, memory));
        assert!(!verify_in("x", Some("garbage"), memory));
        assert_eq!(memory.0.len(), Params::DEFAULT_M_COST as usize);
    }

    #[tokio::test]
    async fn at_most_one_run_per_slot_at_a_time() {
        let slots = Arc::new(PasswordSlots::new(2, Duration::from_secs(10)));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let runs = (0..8).map(|_| {
            let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                slots
                    .run(move |_| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(30));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            })
        });
        for run in runs.collect::<Vec<_>>() {
            run.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        let memories = slots.memories.lock().unwrap().len();
        assert!((1..=2).contains(&memories), "{memories} working memories");
    }

    #[test]
    fn hashes_are_those_of_the_argon2_crate() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let memory = &mut Memory::default();
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_in("correct horse", Some(&theirs), memory));
        let ours = hash_in("correct horse", memory).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert_eq!(
            ours.split('$').take(4).collect::<Vec<_>>(),
            theirs.split('$').take(4).collect::<Vec<_>>(),
            "same algorithm, version and parameters"
        );
        // Hashes with other parameters (here 8 MiB, 3 passes) are checked with their own.
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 3, 1, None).unwrap(),
        )
        .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(verify_in("correct horse", Some(&other), memory));
        assert!(!verify_in("wrong horse", Some(&other), memory));
    }

    #[tokio::test]
    async fn a_caller_waits_briefly_for_a_slot_then_gets_429() {
        let slots = PasswordSlots::new(1, Duration::from_millis(200));
        let busy = slots.slots.clone().try_acquire_owned().unwrap();
        let started = std::time::Instant::now();
        let refused = slots.verify("password".into(), None).await;
        assert!(
            matches!(
                refused,
                Err(ApiError::TooManyRequests {
                    retry_after_secs: 1
                })
            ),
            "{refused:?}"
        );
        assert!(started.elapsed() >= Duration::from_millis(200));
        drop(busy);
        let hash = slots.hash("correct horse".into()).await.unwrap();
        assert!(slots
            .verify("correct horse".into(), Some(hash))
            .await
            .unwrap());
    }
}
