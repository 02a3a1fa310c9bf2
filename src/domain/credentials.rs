//! Generated credentials (DESIGN §6): login IDs, temporary passwords and their keyed hashes, chosen
//! password hashing (argon2id), session tokens and CSRF tokens. Pure functions: randomness comes from
//! the OS, keys are passed in.

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Argon2, Params, PasswordHash};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Login IDs avoid characters that look alike on paper: no 0/O, 1/l/I.
pub const LOGIN_ID_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// 8 characters of 32 = 40 bits: plenty to stay unique forever in one installation, short to type.
pub const LOGIN_ID_LENGTH: usize = 8;

const TEMP_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";
const TEMP_DIGITS: &[u8] = b"23456789";
/// Symbols that are easy to read and type on a Japanese keyboard.
const TEMP_SYMBOLS: &[u8] = b"#$%&+=?@";
pub const TEMP_PASSWORD_LENGTH: usize = 16;

/// A fresh login ID (uniqueness is the store's job: it retries on a clash).
pub fn generate_login_id() -> String {
    let mut rng = OsRng;
    (0..LOGIN_ID_LENGTH)
        .map(|_| char::from(LOGIN_ID_ALPHABET[rng.gen_range(0..LOGIN_ID_ALPHABET.len())]))
        .collect()
}

/// Whether `s` has the shape of a generated login ID (after upper-casing what a person typed).
pub fn normalise_login_id(s: &str) -> Option<String> {
    let up = s.trim().to_ascii_uppercase();
    (up.len() == LOGIN_ID_LENGTH && up.bytes().all(|b| LOGIN_ID_ALPHABET.contains(&b)))
        .then_some(up)
}

/// A temporary password: 16 characters from an alphabet without look-alikes (about 95 bits), with
/// at least one letter, digit and symbol so that it meets the chosen-password policy too.
pub fn generate_temp_password() -> String {
    let mut rng = OsRng;
    let all: Vec<u8> = [TEMP_LETTERS, TEMP_DIGITS, TEMP_SYMBOLS].concat();
    loop {
        let candidate: String = (0..TEMP_PASSWORD_LENGTH)
            .map(|_| char::from(all[rng.gen_range(0..all.len())]))
            .collect();
        let has = |set: &[u8]| candidate.bytes().any(|b| set.contains(&b));
        if has(TEMP_LETTERS) && has(TEMP_DIGITS) && has(TEMP_SYMBOLS) {
            return candidate;
        }
    }
}

/// A secret key kept outside the database (the keys folder or the environment).
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretKey(bytes)
    }

    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 32];
        OsRng.fill(&mut bytes[..]);
        SecretKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// HMAC-SHA-256 of `parts`, each length-prefixed so that ("ab","c") and ("a","bc") differ.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// The stored form of a temporary password: an HMAC bound to the account, so a copied hash is
/// useless for another account. Hex.
/// A key's fingerprint: an HMAC of a fixed text under the key. Equal keys give equal fingerprints;
/// the key cannot be recovered from it. Stored so that instances with different keys are caught.
pub fn key_fingerprint(key: &SecretKey) -> String {
    hex::encode(&key.mac(&[b"nanbyo-accounts key fingerprint v1"])[..16])
}

pub fn temp_password_mac(key: &SecretKey, user_id: i64, password: &str) -> String {
    hex::encode(key.mac(&[
        b"temp-password",
        &user_id.to_be_bytes(),
        password.as_bytes(),
    ]))
}

/// Which temporary password an account holds now, as a short value a form can carry (「none」 when it
/// holds none). A notice form sent after another notice was issued — a double click, two people at
/// once — is refused instead of silently replacing the password just printed. Derived from the
/// stored MAC by a one-way hash, so it reveals nothing about the password.
pub fn temp_password_stamp(mac: Option<&str>) -> String {
    match mac {
        None => "none".to_string(),
        Some(m) => hex::encode(&Sha256::digest(m.as_bytes())[..8]),
    }
}

/// Constant-time comparison of two strings (tokens, MACs).
pub fn equal_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// argon2id with m=19456 KiB, t=2, p=1 (the crate's defaults) and a fresh salt. Slow on purpose
/// (about 20 ms): callers run it on the blocking pool under a concurrency cap.
pub fn hash_password(password: &str) -> String {
    hash_password_with(password, &mut HashMemory::new())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    verify_password_with(password, phc, &mut HashMemory::new())
}

/// argon2id's working memory (m = 19456 KiB), allocated once and reused: a login flood then costs
/// no fresh 19 MiB allocations, which the allocator would keep per thread long after the flood.
pub struct HashMemory(Vec<argon2::Block>);

impl HashMemory {
    pub fn new() -> HashMemory {
        HashMemory(vec![
            argon2::Block::default();
            Params::DEFAULT.block_count()
        ])
    }

    fn blocks(&mut self, params: &Params) -> &mut [argon2::Block] {
        if self.0.len() < params.block_count() {
            // A hash made with other parameters (a changed default): grow once, keep it.
            self.0
                .resize(params.block_count(), argon2::Block::default());
        }
        &mut self.0[..params.block_count()]
    }
}

impl Default for HashMemory {
    fn default() -> Self {
        HashMemory::new()
    }
}

/// argon2id with the default parameters (m=19456 KiB, t=2, p=1) and a fresh 16-byte salt, as a
/// PHC string, computed in `memory`.
pub fn hash_password_with(password: &str, memory: &mut HashMemory) -> String {
    let mut salt = [0u8; 16];
    OsRng.fill(&mut salt);
    let params = Params::DEFAULT;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::default()
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            memory.blocks(&params),
        )
        .expect("argon2 with default parameters");
    PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(&params).expect("default parameters"),
        salt: Some(Salt::new(&salt).expect("16-byte salt")),
        hash: Some(Output::new(&out).expect("32-byte output")),
    }
    .to_string()
}

/// Verifies `password` against a PHC string (any argon2 variant and parameters), in `memory`.
pub fn verify_password_with(password: &str, phc: &str, memory: &mut HashMemory) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        argon2::Algorithm::try_from(hash.algorithm.as_str()),
        Params::try_from(&hash),
        hash.salt.as_ref(),
        hash.hash.as_ref(),
    ) else {
        return false;
    };
    let version = match hash.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut out = vec![0u8; expected.len()];
    let computed = Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        memory.blocks(&params),
    );
    computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// A hash to verify against when there is no real one, so that every failed login costs the same.
pub fn dummy_password_hash() -> String {
    hash_password("dummy password for equal-time login 0!")
}

/// A session token (256 random bits, URL-safe) and the hash that is stored in its place.
pub fn generate_session_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn session_token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF token of a session (or of a pre-session cookie), derived rather than stored.
pub fn csrf_token(key: &SecretKey, session_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.mac(&[b"csrf", session_token.as_bytes()]))
}

#[cfg(test)]
mod tests {
    use super::super::password::PasswordPolicy;
    use super::*;

    #[test]
    fn login_ids_have_no_lookalikes() {
        for _ in 0..200 {
            let id = generate_login_id();
            assert_eq!(id.len(), 8);
            assert!(!id.contains(['0', 'O', '1', 'l', 'I']), "{id}");
            assert_eq!(normalise_login_id(&id.to_lowercase()), Some(id));
        }
        assert_eq!(normalise_login_id("ABC"), None);
        assert_eq!(normalise_login_id("ABCDEFG0"), None);
    }

    #[test]
    fn temp_passwords_meet_the_policy() {
        let policy = PasswordPolicy::default();
        for _ in 0..200 {
            let p = generate_temp_password();
            assert_eq!(p.len(), TEMP_PASSWORD_LENGTH);
            assert!(!p.contains(['0', 'O', '1', 'l', 'I', 'o']), "{p}");
            assert_eq!(policy.check(&p, "ZZZZZZZZ", &[]), Ok(()), "{p}");
        }
        assert_ne!(generate_temp_password(), generate_temp_password());
    }

    #[test]
    fn temp_password_mac_is_keyed_and_bound_to_the_account() {
        let k1 = SecretKey::new(vec![1; 32]);
        let k2 = SecretKey::new(vec![2; 32]);
        let m = temp_password_mac(&k1, 7, "abc");
        assert_eq!(m, temp_password_mac(&k1, 7, "abc"));
        assert_ne!(m, temp_password_mac(&k2, 7, "abc"));
        assert_ne!(m, temp_password_mac(&k1, 8, "abc"));
        assert!(!m.contains("abc"));
        assert!(equal_secret(&m, &temp_password_mac(&k1, 7, "abc")));
        assert!(!equal_secret(&m, &temp_password_mac(&k1, 7, "abd")));
    }

    #[test]
    fn argon2id_with_the_designed_parameters() {
        let h = hash_password("Kumo-no-ue7Sora");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("Kumo-no-ue7Sora", &h));
        assert!(!verify_password("Kumo-no-ue7Sorb", &h));
        assert!(!verify_password("x", "not a hash"));
        // The reused-memory path writes and reads the same PHC strings as the library's own.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let mut memory = HashMemory::new();
        let ours = hash_password_with("Kumo-no-ue7Sora", &mut memory);
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(Argon2::default()
            .verify_password(b"Kumo-no-ue7Sora", ours.as_str())
            .is_ok());
        let theirs = Argon2::default()
            .hash_password(b"Kumo-no-ue7Sora")
            .unwrap()
            .to_string();
        assert!(verify_password_with(
            "Kumo-no-ue7Sora",
            &theirs,
            &mut memory
        ));
        assert!(!verify_password_with(
            "Kumo-no-ue7Sorb",
            &theirs,
            &mut memory
        ));
    }

    #[test]
    fn session_tokens_are_random_and_stored_hashed() {
        let t = generate_session_token();
        assert!(t.len() >= 43);
        assert_ne!(t, generate_session_token());
        assert_eq!(session_token_hash(&t).len(), 64);
        assert_ne!(session_token_hash(&t), t);
    }
}
