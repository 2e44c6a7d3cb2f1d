//! Request signature of the Yueke partner API (spec §2, decisions G-SIG-1..3).
//!
//! The document's prose says to concatenate parameter *values*, but its worked
//! example (and the verified MD5) concatenates **name followed by value** for
//! every parameter; the example wins (G-SIG-1):
//!
//! ```text
//! sign = lowercase_hex( MD5( concat_{(k, v) sorted by k, k != "sign"} (k ++ v) ++ secret ) )
//! ```
//!
//! * Names are sorted in plain byte (ASCII) order, so upper case sorts before
//!   lower case.
//! * Values take part exactly as received (after URL decoding); in particular
//!   the `data` JSON text is never re-serialised.
//! * Every parameter except `sign` counts, including `pageNo`, `pageSize` and
//!   undocumented extras such as `appVersion`; an empty value contributes its
//!   name only (G-SIG-3).
//! * Strings are hashed as UTF-8 bytes.
//!
//! Verification ([`verify`]) is case-insensitive and also accepts the hex
//! string with its leading zeros stripped, as produced by the common Java
//! `new BigInteger(1, md5).toString(16)` idiom (G-SIG-2).

use md5::{Digest, Md5};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// Name of the signature parameter, which never takes part in the signature.
pub const SIGN_PARAM: &str = "sign";

/// Computes the request signature: lowercase 32-character hex MD5 of every
/// parameter except `sign`, as `name ++ value`, sorted by name in ASCII order,
/// followed by `secret`.
///
/// Parameters with the same name are ordered by value so that the result does
/// not depend on the input order (duplicates are rejected earlier, G-HTTP-1).
pub fn sign(params: &[(&str, &str)], secret: &str) -> String {
    let mut sorted: Vec<&(&str, &str)> = params
        .iter()
        .filter(|(name, _)| *name != SIGN_PARAM)
        .collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(b.1)));

    let mut hasher = Md5::new();
    for (name, value) in sorted {
        hasher.update(name.as_bytes());
        hasher.update(value.as_bytes());
    }
    hasher.update(secret.as_bytes());
    hex::encode(hasher.finalize())
}

/// Checks a signature sent by a caller against the parameters and the channel's secret.
///
/// Accepts the 32-character hex form in any letter case, and the same hex
/// with its leading `0`s stripped (G-SIG-2). Both candidate forms are always
/// compared, each in constant time ([`subtle::ConstantTimeEq`]) with respect
/// to the content of `given`.
pub fn verify(params: &[(&str, &str)], secret: &SecretString, given: &str) -> bool {
    let expected = sign(params, secret.expose_secret());
    let given = given.to_ascii_lowercase();

    let stripped = expected.trim_start_matches('0');
    // `BigInteger.toString(16)` renders an all-zero digest as "0".
    let stripped = if stripped.is_empty() { "0" } else { stripped };

    // Slices of different lengths compare unequal (the length is not secret).
    let full_ok = given.as_bytes().ct_eq(expected.as_bytes());
    let stripped_ok = given.as_bytes().ct_eq(stripped.as_bytes());
    (full_ok | stripped_ok).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = r#"{"cinemaLinkId":"888","hallId":"1"}"#;
    const SECRET: &str = "12345";
    const EXPECTED: &str = "1dac7e94adf6fe5a28621c0ddba27ea5";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    /// The §2.2 worked example, in the order the document lists it.
    fn example() -> Vec<(&'static str, &'static str)> {
        vec![
            ("api", "ykse.partner.seat.getSeats"),
            ("v", "1.0"),
            ("channelCode", "YKSE"),
            ("timestamp", "1455678273752"),
            ("data", DATA),
        ]
    }

    #[test]
    fn worked_example_vector() {
        assert_eq!(sign(&example(), SECRET), EXPECTED);
        assert!(verify(&example(), &secret(SECRET), EXPECTED));
    }

    #[test]
    fn input_order_does_not_matter() {
        let mut params = example();
        params.reverse();
        assert_eq!(sign(&params, SECRET), EXPECTED);
    }

    #[test]
    fn sign_parameter_is_excluded() {
        let mut params = example();
        params.push(("sign", EXPECTED));
        assert_eq!(sign(&params, SECRET), EXPECTED);
        assert!(verify(&params, &secret(SECRET), EXPECTED));
        params.push(("sign", "something else"));
        assert_eq!(sign(&params, SECRET), EXPECTED);
    }

    #[test]
    fn tampered_data_fails() {
        let mut params = example();
        params[4].1 = r#"{"cinemaLinkId":"888","hallId":"2"}"#;
        assert!(!verify(&params, &secret(SECRET), EXPECTED));
        // Whitespace inside the JSON matters: data is never re-serialised.
        params[4].1 = r#"{"cinemaLinkId": "888","hallId":"1"}"#;
        assert!(!verify(&params, &secret(SECRET), EXPECTED));
        // An extra parameter (e.g. appVersion) is signed too.
        let mut params = example();
        params.push(("appVersion", "2.9.102"));
        assert!(!verify(&params, &secret(SECRET), EXPECTED));
    }

    #[test]
    fn wrong_secret_fails() {
        assert!(!verify(&example(), &secret("12346"), EXPECTED));
        assert!(!verify(&example(), &secret(""), EXPECTED));
    }

    #[test]
    fn upper_case_accepted() {
        assert!(verify(
            &example(),
            &secret(SECRET),
            &EXPECTED.to_uppercase()
        ));
        assert!(verify(
            &example(),
            &secret(SECRET),
            "1DAC7e94adf6fe5a28621c0ddba27EA5"
        ));
    }

    #[test]
    fn malformed_given_rejected() {
        assert!(!verify(&example(), &secret(SECRET), ""));
        assert!(!verify(&example(), &secret(SECRET), &EXPECTED[..31]));
        assert!(!verify(&example(), &secret(SECRET), &EXPECTED[1..]));
        assert!(!verify(
            &example(),
            &secret(SECRET),
            &format!("{EXPECTED}0")
        ));
        assert!(!verify(
            &example(),
            &secret(SECRET),
            &format!("0{EXPECTED}")
        ));
        assert!(!verify(
            &example(),
            &secret(SECRET),
            "１dac7e94adf6fe5a28621c0ddba27ea5"
        ));
    }

    #[test]
    fn stripped_leading_zero_accepted() {
        // Search timestamps until the signature starts with at least one '0'.
        let mut found = None;
        for ts in 1_455_678_273_752u64..1_455_678_283_752 {
            let ts = ts.to_string();
            let mut params = example();
            params[3].1 = &ts;
            let s = sign(&params, SECRET);
            if s.starts_with('0') {
                found = Some((ts.clone(), s));
                break;
            }
        }
        let (ts, full) = found.expect("a signature with a leading zero exists in range");
        let mut params = example();
        params[3].1 = &ts;

        let stripped = full.trim_start_matches('0');
        assert!(stripped.len() < 32);
        assert!(verify(&params, &secret(SECRET), &full));
        assert!(verify(&params, &secret(SECRET), stripped));
        assert!(verify(&params, &secret(SECRET), &stripped.to_uppercase()));
        // Stripping must be complete-or-none; a wrong secret still fails.
        assert!(!verify(&params, &secret("54321"), stripped));
    }

    #[test]
    fn sort_is_ascii_case_sensitive() {
        // "Z" (0x5A) sorts before "a" (0x61).
        let a = sign(&[("a", "1"), ("Z", "2")], "k");
        let b = sign(&[("Z", "2"), ("a", "1")], "k");
        assert_eq!(a, b);
        let mut h = Md5::new();
        h.update(b"Z2a1k");
        assert_eq!(a, hex::encode(h.finalize()));
    }

    #[test]
    fn empty_value_contributes_name_only() {
        let s = sign(&[("data", ""), ("api", "x")], "k");
        let mut h = Md5::new();
        h.update(b"apixdatak");
        assert_eq!(s, hex::encode(h.finalize()));
    }
}
