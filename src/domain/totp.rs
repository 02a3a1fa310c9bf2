//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA-1, a 30-second step, the
//! number of digits a parameter (6 in the product, 8 for the RFC's test vectors). The current time is a
//! parameter; a code is good for its step and one step either side, and never for a step already used
//! (the store keeps the last used step of each authenticator).

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::Rng;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::time::Instant;

/// Seconds per step (RFC 6238's X, the value every authenticator app uses).
pub const STEP_SECS: i64 = 30;
/// Digits of the product's codes.
pub const DIGITS: u32 = 6;
/// Bytes of a generated secret: 160 bits, the HMAC-SHA-1 block the RFC recommends.
pub const SECRET_BYTES: usize = 20;
/// Steps accepted either side of the current one (clock drift between the server and a phone).
pub const WINDOW: i64 = 1;

/// The step `now` falls in.
pub fn step_at(now: Instant) -> i64 {
    now.div_euclid(STEP_SECS)
}

/// Seconds left in the step of `now` (shown next to the server's time on the enrolment screen).
pub fn secs_left(now: Instant) -> i64 {
    STEP_SECS - now.rem_euclid(STEP_SECS)
}

/// A fresh random secret.
pub fn generate_secret() -> Vec<u8> {
    let mut s = vec![0u8; SECRET_BYTES];
    OsRng.fill(&mut s[..]);
    s
}

/// HOTP (RFC 4226 §5.3) of `counter`, as `digits` decimal digits with leading zeros.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset] & 0x7f) << 24)
        | (u32::from(h[offset + 1]) << 16)
        | (u32::from(h[offset + 2]) << 8)
        | u32::from(h[offset + 3]);
    let value = u64::from(bin) % 10u64.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The code of the step `now` falls in.
pub fn code_at(secret: &[u8], now: Instant, digits: u32) -> String {
    hotp(secret, step_at(now).max(0) as u64, digits)
}

/// What a person typed, reduced to digits: spaces (apps show 「123 456」) and full-width digits are
/// accepted. None when anything else is in it or the length is wrong.
pub fn normalise_code(typed: &str, digits: u32) -> Option<String> {
    let mut out = String::new();
    for c in typed.chars() {
        match c {
            '0'..='9' => out.push(c),
            '０'..='９' => out.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            ' ' | '\u{3000}' | '-' => {}
            _ => return None,
        }
    }
    (out.len() == digits as usize).then_some(out)
}

/// Checks `typed` against the steps around `now`. Returns the step it matched, which the caller
/// stores as the authenticator's last used step; a step at or before `last_used` is refused (a
/// replayed code, or an older one once a newer code was used).
pub fn verify(
    secret: &[u8],
    typed: &str,
    now: Instant,
    last_used: Option<i64>,
    digits: u32,
) -> Option<i64> {
    let code = normalise_code(typed, digits)?;
    let current = step_at(now);
    let mut matched = None;
    // Every candidate is computed and compared in constant time, so the time taken does not tell
    // which step (if any) matched.
    for step in (current - WINDOW)..=(current + WINDOW) {
        if step < 0 {
            continue;
        }
        let candidate = hotp(secret, step as u64, digits);
        let equal: bool = candidate.as_bytes().ct_eq(code.as_bytes()).into();
        if equal && last_used.is_none_or(|used| step > used) && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// RFC 4648 base32 without padding: how authenticator apps take the secret, in text and in the QR.
pub fn base32_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The inverse of [`base32_encode`] (case and spaces ignored): for tests that type the secret shown.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The secret in groups of four, as the enrolment screen prints it for typing.
pub fn grouped(base32: &str) -> String {
    base32
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `otpauth://` URI an authenticator app reads from the QR code (Key Uri Format).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = format!("{}:{}", percent(issuer), percent(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        base32_encode(secret),
        percent(issuer)
    )
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed: "12345678901234567890".
    const RFC_SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, expected) in vectors {
            assert_eq!(code_at(RFC_SEED, t, 8), expected, "T = {t}");
        }
    }

    #[test]
    fn rfc_4226_hotp_vectors_in_six_digits() {
        let expected = ["755224", "287082", "359152", "969429", "338314"];
        for (counter, e) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SEED, counter as u64, 6), *e);
        }
    }

    #[test]
    fn a_code_is_good_for_its_step_and_one_either_side_only() {
        let secret = generate_secret();
        let now = 1_800_000_015;
        let at = |offset_steps: i64| code_at(&secret, now + offset_steps * STEP_SECS, DIGITS);
        let step = step_at(now);
        assert_eq!(verify(&secret, &at(0), now, None, DIGITS), Some(step));
        assert_eq!(verify(&secret, &at(-1), now, None, DIGITS), Some(step - 1));
        assert_eq!(verify(&secret, &at(1), now, None, DIGITS), Some(step + 1));
        // Codes are 6 digits: a far step could collide by chance, so compare against the window.
        for far in [-3, -2, 2, 3] {
            let c = at(far);
            if ![at(-1), at(0), at(1)].contains(&c) {
                assert_eq!(verify(&secret, &c, now, None, DIGITS), None, "{far} steps");
            }
        }
    }

    #[test]
    fn a_used_step_is_refused_and_so_is_an_older_one() {
        let secret = generate_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now, DIGITS);
        let used = verify(&secret, &code, now, None, DIGITS).unwrap();
        assert_eq!(verify(&secret, &code, now, Some(used), DIGITS), None);
        // The previous step's code, still in the window, is older than the one used.
        let previous = code_at(&secret, now - STEP_SECS, DIGITS);
        if previous != code {
            assert_eq!(verify(&secret, &previous, now, Some(used), DIGITS), None);
        }
        // The next step's code is good once.
        let next = code_at(&secret, now + STEP_SECS, DIGITS);
        let later = now + STEP_SECS;
        assert_eq!(
            verify(&secret, &next, later, Some(used), DIGITS),
            Some(used + 1)
        );
    }

    #[test]
    fn typed_codes_are_normalised_and_malformed_ones_refused() {
        assert_eq!(normalise_code("123 456", 6).as_deref(), Some("123456"));
        assert_eq!(normalise_code("１２３４５６", 6).as_deref(), Some("123456"));
        assert_eq!(normalise_code("12345", 6), None);
        assert_eq!(normalise_code("12345a", 6), None);
        assert_eq!(normalise_code("", 6), None);
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"f"), "MY");
        let s = generate_secret();
        assert_eq!(base32_decode(&grouped(&base32_encode(&s))).unwrap(), s);
        assert_eq!(base32_decode("MZXW 6ytb oi").unwrap(), b"foobar");
        assert_eq!(base32_decode("M1"), None);
    }

    #[test]
    fn the_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("難病DB", "ABCD2345", b"foobar");
        assert!(uri.starts_with("otpauth://totp/%E9%9B%A3"));
        assert!(uri.contains(":ABCD2345?secret=MZXW6YTBOI&"));
        assert!(uri.ends_with("&digits=6&period=30"));
    }
}
