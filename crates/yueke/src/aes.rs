//! Sensitive-data encryption of the Yueke partner API (spec §3, decisions
//! G-AES-1..3): used for member-card passwords.
//!
//! Scheme (AES-128-CBC, zero padding):
//!
//! 1. `md5key` = the first 16 characters of the lowercase hex MD5 of the key
//!    string (hashed as-is, without case normalisation); those 16 ASCII
//!    characters are the AES key bytes.
//! 2. A random 16-byte IV; its standard Base64 form without the trailing `==`
//!    (22 characters) is the output prefix.
//! 3. `merged` = plaintext ++ lowercase hex MD5(plaintext), zero-padded to a
//!    multiple of 16 bytes (no extra block when already aligned), encrypted
//!    with AES-128-CBC and encoded as standard Base64 with padding.
//! 4. Result = prefix (22 chars) ++ Base64 ciphertext.
//!
//! Decryption reverses this, strips the trailing zero bytes and checks the
//! embedded MD5. The document's printed ciphertext contains l/I OCR errors; the
//! recomputed value (catalogue §3.6) is used in the tests.

use ::aes::cipher::block_padding::NoPadding;
use ::aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use md5::{Digest, Md5};

use crate::codes::{self, BizCode};

type Aes128CbcEnc = cbc::Encryptor<::aes::Aes128>;
type Aes128CbcDec = cbc::Decryptor<::aes::Aes128>;

/// AES block size in bytes.
const BLOCK: usize = 16;
/// Length of the Base64 IV prefix (16 bytes in Base64 without `==`).
const IV_PREFIX_LEN: usize = 22;
/// Length of the lowercase hex MD5 appended to the plaintext.
const MD5_HEX_LEN: usize = 32;

/// Standard-alphabet Base64 that accepts the ciphertext with or without its
/// trailing `=` padding (G-AES-2).
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why an encrypted value could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AesError {
    /// The input is shorter than the 22-character IV prefix plus one block
    /// (or the prefix is not ASCII).
    #[error("encrypted value too short")]
    TooShort,
    /// The 22-character IV prefix is not valid Base64 for 16 bytes.
    #[error("invalid IV prefix")]
    InvalidIv,
    /// The ciphertext part is not valid standard Base64.
    #[error("invalid Base64 ciphertext")]
    InvalidBase64,
    /// The decoded ciphertext is empty or not a multiple of 16 bytes.
    #[error("ciphertext length {0} is not a positive multiple of 16")]
    InvalidLength(usize),
    /// The decrypted data does not end with the MD5 of its content: wrong key
    /// or corrupted ciphertext.
    #[error("integrity check failed (wrong key or corrupted data)")]
    IntegrityMismatch,
    /// The decrypted plaintext passed the MD5 check but is not UTF-8.
    #[error("decrypted plaintext is not UTF-8")]
    NotUtf8,
}

impl AesError {
    /// Whether the value is malformed (as opposed to well-formed but not
    /// decrypting to a verified plaintext).
    pub fn is_format_error(&self) -> bool {
        matches!(
            self,
            AesError::TooShort
                | AesError::InvalidIv
                | AesError::InvalidBase64
                | AesError::InvalidLength(_)
        )
    }

    /// The business code recommended by G-AES-2: `FORMAT_ERROR` for a
    /// malformed value, `CARD_PASSWORD_ERROR` when it does not decrypt to a
    /// verified plaintext.
    pub fn biz_code(&self) -> BizCode {
        if self.is_format_error() {
            codes::FORMAT_ERROR
        } else {
            codes::CARD_PASSWORD_ERROR
        }
    }
}

/// Lowercase hex MD5 of `data`.
fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// Derives the AES key: the first 16 characters of lowercase hex MD5(key).
fn md5_key(key: &str) -> [u8; BLOCK] {
    let hex = md5_hex(key.as_bytes());
    let mut out = [0u8; BLOCK];
    // A hex MD5 is always 32 ASCII characters.
    out.copy_from_slice(&hex.as_bytes()[..BLOCK]);
    out
}

/// Encrypts `plain` with the given `key` and a fresh random IV of 16
/// alphanumeric ASCII characters (the form the vendor's examples show,
/// G-AES-2).
///
/// The IV comes from the standard library's per-process random hashing keys
/// mixed with the clock and a counter: unique and unpredictable enough for
/// test clients, but not a CSPRNG. The function cannot fail; the `Result` is
/// kept for API symmetry with [`decrypt`].
pub fn encrypt(plain: &str, key: &str) -> Result<String, AesError> {
    Ok(encrypt_with_iv(plain, key, &random_iv()))
}

/// Encrypts `plain` with `key` and the given 16-byte `iv`. Deterministic;
/// intended for test vectors and for callers that bring their own randomness.
pub fn encrypt_with_iv(plain: &str, key: &str, iv: &[u8; BLOCK]) -> String {
    let mut merged = Vec::with_capacity(plain.len() + MD5_HEX_LEN + BLOCK);
    merged.extend_from_slice(plain.as_bytes());
    merged.extend_from_slice(md5_hex(plain.as_bytes()).as_bytes());
    let padded_len = merged.len().div_ceil(BLOCK) * BLOCK;
    merged.resize(padded_len, 0);

    let key = md5_key(key);
    let ct = Aes128CbcEnc::new(&key.into(), iv.into()).encrypt_padded_vec_mut::<NoPadding>(&merged);

    let iv_b64 = STANDARD.encode(iv);
    let mut out = String::with_capacity(IV_PREFIX_LEN + ct.len().div_ceil(3) * 4);
    out.push_str(&iv_b64[..IV_PREFIX_LEN]);
    STANDARD.encode_string(&ct, &mut out);
    out
}

/// Decrypts a value produced by [`encrypt`] (or by a caller following §3):
/// splits off the IV prefix, decrypts, strips the zero padding and checks the
/// embedded MD5.
///
/// Spaces are read as `+` first, undoing form decoding of an unescaped
/// Base64 value (G-SIG-4); the ciphertext may omit its trailing `=`.
pub fn decrypt(cipher: &str, key: &str) -> Result<String, AesError> {
    let cipher: std::borrow::Cow<'_, str> = if cipher.contains(' ') {
        cipher.replace(' ', "+").into()
    } else {
        cipher.into()
    };
    let (prefix, body) = match (cipher.get(..IV_PREFIX_LEN), cipher.get(IV_PREFIX_LEN..)) {
        (Some(p), Some(b)) if !b.is_empty() => (p, b),
        _ => return Err(AesError::TooShort),
    };

    let iv_bytes = STANDARD
        .decode(format!("{prefix}=="))
        .map_err(|_| AesError::InvalidIv)?;
    let iv: [u8; BLOCK] = iv_bytes.try_into().map_err(|_| AesError::InvalidIv)?;

    let ct = LENIENT_STANDARD
        .decode(body)
        .map_err(|_| AesError::InvalidBase64)?;
    if ct.is_empty() || ct.len() % BLOCK != 0 {
        return Err(AesError::InvalidLength(ct.len()));
    }

    let key = md5_key(key);
    let mut merged = Aes128CbcDec::new(&key.into(), &iv.into())
        .decrypt_padded_vec_mut::<NoPadding>(&ct)
        .map_err(|_| AesError::InvalidLength(ct.len()))?;

    // Strip the zero padding. The merged text always ends with hex digits, so
    // no genuine data byte is removed.
    let end = merged.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    merged.truncate(end);

    let Some(split) = merged.len().checked_sub(MD5_HEX_LEN) else {
        return Err(AesError::IntegrityMismatch);
    };
    let (data, mac) = merged.split_at(split);
    let expected = md5_hex(data);
    let mac_ok: bool =
        subtle::ConstantTimeEq::ct_eq(mac.to_ascii_lowercase().as_slice(), expected.as_bytes())
            .into();
    if !mac_ok {
        return Err(AesError::IntegrityMismatch);
    }
    String::from_utf8(data.to_vec()).map_err(|_| AesError::NotUtf8)
}

/// A fresh IV of 16 alphanumeric ASCII characters.
fn random_iv() -> [u8; BLOCK] {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static COUNTER: AtomicU64 = AtomicU64::new(0);

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);

    let mut iv = [0u8; BLOCK];
    for (i, chunk) in iv.chunks_mut(8).enumerate() {
        // Each RandomState carries fresh random SipHash keys.
        let mut h = RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_u64(count);
        h.write_usize(i);
        let mut r = h.finish();
        for b in chunk {
            // 62^8 < 2^64; taking successive base-62 digits is near-uniform.
            *b = ALPHABET[(r % 62) as usize];
            r /= 62;
        }
    }
    iv
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "21218CCA77804D2BA1922C33E0151105";
    const IV: &[u8; 16] = b"YKSE1234YKSE1234";
    /// Recomputed ciphertext (catalogue §3.6); the document's print has three
    /// l/I OCR errors.
    const CIPHERTEXT: &str = "td8hvk/Brav7lpI9s/x4tu/6gsRGHhzIiG6Uov9JfSsZlPS27/eA0tpMdFvDF1Qb";
    const FINAL: &str =
        "WUtTRTEyMzRZS1NFMTIzNAtd8hvk/Brav7lpI9s/x4tu/6gsRGHhzIiG6Uov9JfSsZlPS27/eA0tpMdFvDF1Qb";
    /// The final string exactly as the document prints it (OCR-damaged).
    const PRINTED_FINAL: &str =
        "WUtTRTEyMzRZS1NFMTIzNAtd8hvk/Brav7lpl9s/x4tu/6gsRGHhzliG6Uov9JfSsZIPS27/eA0tpMdFvDF1Qb";

    #[test]
    fn derived_values_match_document() {
        assert_eq!(&md5_key(KEY), b"f8e3380591f00565");
        assert_eq!(md5_hex(b"123456"), "e10adc3949ba59abbe56e057f20f883e");
        assert_eq!(STANDARD.encode(IV), "WUtTRTEyMzRZS1NFMTIzNA==");
    }

    #[test]
    fn document_example_encrypts() {
        let out = encrypt_with_iv("123456", KEY, IV);
        assert_eq!(out, FINAL);
        assert_eq!(&out[22..], CIPHERTEXT);
        assert_eq!(&out[..22], "WUtTRTEyMzRZS1NFMTIzNA");
    }

    #[test]
    fn document_example_decrypts() {
        assert_eq!(decrypt(FINAL, KEY).as_deref(), Ok("123456"));
    }

    #[test]
    fn printed_ocr_damaged_example_fails_cleanly() {
        assert!(decrypt(PRINTED_FINAL, KEY).is_err());
    }

    #[test]
    fn round_trips_all_lengths() {
        for len in 0usize..=40 {
            let plain: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let enc = encrypt(&plain, KEY).expect("encrypt");
            assert_eq!(
                decrypt(&enc, KEY).as_deref(),
                Ok(plain.as_str()),
                "len {len}"
            );
            // merged = len + 32 bytes, zero-padded to a multiple of 16 with no
            // extra block when aligned.
            let ct_len = (len + 32).div_ceil(16) * 16;
            let body = LENIENT_STANDARD.decode(&enc[22..]).expect("base64");
            assert_eq!(body.len(), ct_len, "len {len}");
        }
    }

    #[test]
    fn round_trips_non_ascii() {
        for plain in ["密码", "123456", "a\u{0}b", "é"] {
            let enc = encrypt(plain, "秘钥").expect("encrypt");
            assert_eq!(decrypt(&enc, "秘钥").as_deref(), Ok(plain));
        }
    }

    #[test]
    fn random_iv_is_printable_and_varies() {
        let a = random_iv();
        let b = random_iv();
        assert!(a.iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(a, b);
        let e1 = encrypt("123456", KEY).expect("encrypt");
        let e2 = encrypt("123456", KEY).expect("encrypt");
        assert_ne!(e1, e2);
        assert_eq!(e1.len(), 86); // matches the vendor's 6-digit examples
    }

    #[test]
    fn wrong_key_fails() {
        assert_eq!(
            decrypt(FINAL, "21218cca77804d2ba1922c33e0151105"),
            Err(AesError::IntegrityMismatch)
        );
        assert_eq!(decrypt(FINAL, ""), Err(AesError::IntegrityMismatch));
        assert_eq!(
            decrypt(FINAL, "wrong").map_err(|e| e.biz_code()),
            Err(codes::CARD_PASSWORD_ERROR)
        );
    }

    #[test]
    fn bad_base64_fails() {
        let bad_body = format!(
            "{}{}",
            &FINAL[..22],
            "td8hvk/Brav7lpI9s/x4tu/6gsRGHhzIiG6Uov9JfSsZlPS27/eA0tpMdFvDF1Q!"
        );
        assert_eq!(decrypt(&bad_body, KEY), Err(AesError::InvalidBase64));
        let bad_iv = format!("WUtTRTEyMzRZS1NFMTIz*A{CIPHERTEXT}");
        assert_eq!(decrypt(&bad_iv, KEY), Err(AesError::InvalidIv));
        // 22 chars whose last character carries non-zero trailing bits.
        let bad_iv_bits = format!("WUtTRTEyMzRZS1NFMTIzNB{CIPHERTEXT}");
        assert_eq!(decrypt(&bad_iv_bits, KEY), Err(AesError::InvalidIv));
        // The catalogue notes the decryption section's 63-character print.
        let printed_63 =
            "WUtTRTEyMzRZS1NFMTIzNAtd8hvk/Brav7lpl9s/x4tu/6gsRGHhziG6Uov9JfSsZIPS27/eA0tpMdFvDF1Qb";
        assert!(decrypt(printed_63, KEY).is_err_and(|e| e.is_format_error()));
        assert_eq!(
            decrypt(&bad_body, KEY).map_err(|e| e.biz_code()),
            Err(codes::FORMAT_ERROR)
        );
    }

    #[test]
    fn wrong_length_fails() {
        assert_eq!(decrypt("", KEY), Err(AesError::TooShort));
        assert_eq!(decrypt(&FINAL[..22], KEY), Err(AesError::TooShort));
        assert_eq!(decrypt("short", KEY), Err(AesError::TooShort));
        // 12 bytes of ciphertext: not a multiple of 16.
        let twelve = format!("{}{}", &FINAL[..22], STANDARD.encode([0u8; 12]));
        assert_eq!(decrypt(&twelve, KEY), Err(AesError::InvalidLength(12)));
        // Drop the last block: 32 bytes, decrypts but fails the MD5 check.
        let ct = STANDARD.decode(CIPHERTEXT).expect("base64");
        let truncated = format!("{}{}", &FINAL[..22], STANDARD.encode(&ct[..32]));
        assert_eq!(decrypt(&truncated, KEY), Err(AesError::IntegrityMismatch));
        // One block only: shorter than the 32-byte MD5 after decryption.
        let one = format!("{}{}", &FINAL[..22], STANDARD.encode(&ct[..16]));
        assert_eq!(decrypt(&one, KEY), Err(AesError::IntegrityMismatch));
        // A multi-byte character straddling the prefix boundary.
        let straddle = format!("{}é{}", &FINAL[..21], CIPHERTEXT);
        assert!(decrypt(&straddle, KEY).is_err());
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let mut ct = STANDARD.decode(CIPHERTEXT).expect("base64");
        ct[0] ^= 1;
        let s = format!("{}{}", &FINAL[..22], STANDARD.encode(&ct));
        assert_eq!(decrypt(&s, KEY), Err(AesError::IntegrityMismatch));
    }

    #[test]
    fn lenient_transport_forms() {
        // Spaces from form decoding of '+' are read back as '+'.
        let enc = (0..64)
            .map(|_| encrypt("123456", KEY).expect("encrypt"))
            .find(|e| e.contains('+'))
            .expect("some encryption contains '+'");
        assert_eq!(
            decrypt(&enc.replace('+', " "), KEY).as_deref(),
            Ok("123456")
        );
        // Missing trailing '=' in the ciphertext part.
        let enc = encrypt("1234567", KEY).expect("encrypt"); // 39 bytes -> 48 -> 64 chars, no '='
        assert!(!enc.ends_with('='));
        let enc = encrypt_with_iv("", KEY, IV); // 32 bytes -> 44 chars with one '='
        assert!(enc.ends_with('='));
        assert_eq!(decrypt(enc.trim_end_matches('='), KEY).as_deref(), Ok(""));
        assert_eq!(decrypt(&enc, KEY).as_deref(), Ok(""));
    }
}
