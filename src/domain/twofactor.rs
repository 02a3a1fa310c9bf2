//! Two-factor login (DESIGN §6): who a requirement covers, the factors a session was opened with,
//! recovery codes, and the sealing of TOTP secrets. Pure: keys and randomness are passed in or come
//! from the OS, the time is a parameter.
//!
//! Recovery codes are stored as HMAC-SHA-256 under a server key (the `twofactor.key` in `keys/`), not
//! argon2: each code carries 50 random bits from a CSPRNG, so a slow hash adds nothing against guessing
//! from a copied database that the keyed hash does not already give (without the key nothing can be
//! tried offline), while checking a typed code against ten stored ones stays instant and needs no
//! argon2 permit during a login flood.
//!
//! TOTP secrets must be readable by the server (it computes the codes), so they are encrypted, not
//! hashed: AES-256-GCM under a key derived from the same `twofactor.key`, a random 96-bit nonce per
//! secret, the account's id as associated data (a sealed secret copied onto another account's row does
//! not open).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::rngs::OsRng;
use rand::Rng;

use super::credentials::SecretKey;
use super::kinds::UserType;

/// How many recovery codes a person gets at once.
pub const RECOVERY_CODES: usize = 10;
/// Characters of one code (without the hyphen): 10 of 32 = 50 bits.
pub const RECOVERY_LENGTH: usize = 10;
/// No 0/O, 1/l/I: the codes are copied by hand onto paper.
const RECOVERY_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Where a two-factor requirement can be set, and whom each covers (the issue's decisions): an
/// institution + DB (by its 責任者) covers its 責任者 and 医療クラーク等; a municipality (by its
/// 自治体担当者) covers the 指定医 of its institutions and its 自治体担当者; the console can require it
/// for the whole installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requirements {
    pub installation: bool,
    /// The setting of the account's institution + DB (false for a 自治体担当者).
    pub institution: bool,
    /// The setting of the account's municipality (its own, or its institution's).
    pub municipality: bool,
}

impl Requirements {
    /// Whether an account of `user_type` must log in with two factors.
    pub fn covers(&self, user_type: UserType) -> bool {
        self.installation
            || match user_type {
                UserType::Responsible | UserType::Clerk => self.institution,
                UserType::NanbyoDoctor
                | UserType::CooperatingDoctor
                | UserType::ShomanDoctor
                | UserType::MunicipalOfficer => self.municipality,
            }
    }
}

/// What a login proved, recorded on the session and its audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factors {
    /// The chosen password alone (the account has no second factor).
    Password,
    /// A temporary password: only the password change is open; never a second factor.
    Temporary,
    /// The password and a code of an authenticator app.
    PasswordTotp,
    /// The password and a recovery code.
    PasswordRecovery,
}

impl Factors {
    pub fn as_str(self) -> &'static str {
        match self {
            Factors::Password => "password",
            Factors::Temporary => "temporary",
            Factors::PasswordTotp => "password+totp",
            Factors::PasswordRecovery => "password+recovery",
        }
    }

    pub fn parse(s: &str) -> Option<Factors> {
        [
            Factors::Password,
            Factors::Temporary,
            Factors::PasswordTotp,
            Factors::PasswordRecovery,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }

    /// The Japanese words of the audit entry.
    pub fn label(self) -> &'static str {
        match self {
            Factors::Password => "パスワードのみ",
            Factors::Temporary => "初期パスワード",
            Factors::PasswordTotp => "パスワード＋認証アプリの確認コード（二要素）",
            Factors::PasswordRecovery => "パスワード＋リカバリーコード（二要素）",
        }
    }

    pub fn is_two_factor(self) -> bool {
        matches!(self, Factors::PasswordTotp | Factors::PasswordRecovery)
    }
}

/// Ten fresh recovery codes, as shown once (「ABCDE-FGHJK」).
pub fn generate_recovery_codes() -> Vec<String> {
    let mut rng = OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..RECOVERY_LENGTH)
                .map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())]))
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect()
}

/// What a person typed as a recovery code, reduced to its ten characters (case, hyphens and spaces
/// ignored; full-width letters and digits folded). None when it cannot be one.
pub fn normalise_recovery_code(typed: &str) -> Option<String> {
    let mut out = String::new();
    for c in typed.chars() {
        let c = match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            c => c,
        };
        match c {
            '-' | ' ' | '\u{3000}' | 'ー' | '－' => {}
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_uppercase()),
            _ => return None,
        }
    }
    (out.len() == RECOVERY_LENGTH && out.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
        .then_some(out)
}

/// The stored form of a recovery code: an HMAC bound to the account. Hex.
pub fn recovery_code_mac(key: &SecretKey, user_id: i64, normalised: &str) -> String {
    hex::encode(key.mac(&[
        b"recovery-code",
        &user_id.to_be_bytes(),
        normalised.as_bytes(),
    ]))
}

/// The AES-256 key for TOTP secrets, derived from `twofactor.key` (never used for anything else).
fn sealing_key(key: &SecretKey) -> Aes256Gcm {
    let k = key.mac(&[b"totp-secret-sealing v1"]);
    Aes256Gcm::new_from_slice(&k).expect("32-byte key")
}

/// Encrypts a TOTP secret for account `user_id`: hex of nonce ‖ ciphertext ‖ tag.
pub fn seal_secret(key: &SecretKey, user_id: i64, secret: &[u8]) -> String {
    let mut nonce = [0u8; 12];
    OsRng.fill(&mut nonce);
    let aad = user_id.to_be_bytes();
    let sealed = sealing_key(key)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: &aad,
            },
        )
        .expect("AES-GCM encryption does not fail for short inputs");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    hex::encode(out)
}

/// Decrypts what [`seal_secret`] wrote for the same account; None when the key, the account or the
/// bytes differ.
pub fn open_secret(key: &SecretKey, user_id: i64, sealed: &str) -> Option<Vec<u8>> {
    let bytes = hex::decode(sealed).ok()?;
    if bytes.len() < 12 + 16 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(12);
    let aad = user_id.to_be_bytes();
    sealing_key(key)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .ok()
}

/// The password minimum for an account (Q&A シQ-54 c): with two factors required the configured
/// minimum applies down to 8; without, never below 13.
pub fn password_min_length(configured: usize, two_factor_required: bool) -> usize {
    if two_factor_required {
        configured.max(8)
    } else {
        configured.max(13)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_distinct_and_normalise_back() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(c.len(), 11);
            let n = normalise_recovery_code(&c.to_lowercase()).unwrap();
            assert_eq!(n, c.replace('-', ""));
        }
        assert_eq!(
            normalise_recovery_code("ＡＢＣＤＥ－ＦＧＨＪＫ").as_deref(),
            Some("ABCDEFGHJK")
        );
        assert_eq!(normalise_recovery_code("ABCDE-FGHJ"), None);
        assert_eq!(normalise_recovery_code("ABCDE-FGHJ0"), None);
    }

    #[test]
    fn recovery_macs_are_bound_to_the_account_and_the_key() {
        let key = SecretKey::generate();
        let a = recovery_code_mac(&key, 1, "ABCDEFGHJK");
        assert_eq!(a, recovery_code_mac(&key, 1, "ABCDEFGHJK"));
        assert_ne!(a, recovery_code_mac(&key, 2, "ABCDEFGHJK"));
        assert_ne!(
            a,
            recovery_code_mac(&SecretKey::generate(), 1, "ABCDEFGHJK")
        );
        assert!(!a.contains("ABCDEFGHJK"));
    }

    #[test]
    fn sealed_secrets_open_only_for_their_account_and_key() {
        let key = SecretKey::generate();
        let secret = b"12345678901234567890";
        let sealed = seal_secret(&key, 7, secret);
        assert!(!sealed.contains(&hex::encode(secret)));
        assert_ne!(
            sealed,
            seal_secret(&key, 7, secret),
            "a fresh nonce each time"
        );
        assert_eq!(open_secret(&key, 7, &sealed).unwrap(), secret);
        assert_eq!(open_secret(&key, 8, &sealed), None);
        assert_eq!(open_secret(&SecretKey::generate(), 7, &sealed), None);
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            open_secret(&key, 7, &String::from_utf8(tampered).unwrap()),
            None
        );
    }

    #[test]
    fn requirements_cover_the_types_the_issue_names() {
        let inst = Requirements {
            institution: true,
            ..Default::default()
        };
        assert!(inst.covers(UserType::Responsible));
        assert!(inst.covers(UserType::Clerk));
        assert!(!inst.covers(UserType::NanbyoDoctor));
        assert!(!inst.covers(UserType::MunicipalOfficer));
        let muni = Requirements {
            municipality: true,
            ..Default::default()
        };
        assert!(muni.covers(UserType::ShomanDoctor));
        assert!(muni.covers(UserType::CooperatingDoctor));
        assert!(muni.covers(UserType::MunicipalOfficer));
        assert!(!muni.covers(UserType::Clerk));
        let all = Requirements {
            installation: true,
            ..Default::default()
        };
        assert!(all.covers(UserType::Clerk) && all.covers(UserType::MunicipalOfficer));
        assert!(!Requirements::default().covers(UserType::Responsible));
    }

    #[test]
    fn the_password_floor_is_8_with_two_factors_and_13_without() {
        assert_eq!(password_min_length(8, true), 8);
        assert_eq!(password_min_length(6, true), 8);
        assert_eq!(password_min_length(8, false), 13);
        assert_eq!(password_min_length(16, false), 16);
        assert_eq!(password_min_length(16, true), 16);
    }

    #[test]
    fn factors_round_trip() {
        for f in [
            Factors::Password,
            Factors::Temporary,
            Factors::PasswordTotp,
            Factors::PasswordRecovery,
        ] {
            assert_eq!(Factors::parse(f.as_str()), Some(f));
        }
        assert!(!Factors::Temporary.is_two_factor());
        assert!(Factors::PasswordTotp.is_two_factor());
    }
}
