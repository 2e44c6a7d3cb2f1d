//! `TripleDes(value, KEY)` (3DES-EDE3-ECB-PKCS7, key = the key string padded with `0` to 24
//! characters, Base64) and the Tenpay-style MD5 signatures (catalogue §2.4–§2.7).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use des::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyInit};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

type Enc = ecb::Encryptor<des::TdesEde3>;
type Dec = ecb::Decryptor<des::TdesEde3>;

/// Why a field could not be decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Not Base64 (after the '+' repair).
    #[error("not base64")]
    Base64,
    /// Wrong length, wrong key or bad padding.
    #[error("cannot decrypt")]
    Cipher,
    /// The plaintext is not UTF-8.
    #[error("plaintext is not UTF-8")]
    Utf8,
}

/// The 24-byte 3DES key of a key string: its first 24 characters, padded with `0`.
pub fn effective_key(key: &str) -> [u8; 24] {
    let mut out = [b'0'; 24];
    for (o, b) in out.iter_mut().zip(key.as_bytes()) {
        *o = *b;
    }
    out
}

/// `TripleDes(value, key)`.
pub fn triple_des(value: &str, key: &str) -> String {
    let cipher = Enc::new(&effective_key(key).into());
    STANDARD.encode(cipher.encrypt_padded_vec_mut::<Pkcs7>(value.as_bytes()))
}

/// The inverse of [`triple_des`], tolerant of clients that did not URL-encode Base64: spaces
/// become `+` again and whitespace is dropped.
pub fn triple_des_decrypt(cipher_text: &str, key: &str) -> Result<String, DecryptError> {
    let cleaned: String = cipher_text
        .replace(' ', "+")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = STANDARD.decode(cleaned).map_err(|_| DecryptError::Base64)?;
    let cipher = Dec::new(&effective_key(key).into());
    let plain = cipher
        .decrypt_padded_vec_mut::<Pkcs7>(&bytes)
        .map_err(|_| DecryptError::Cipher)?;
    String::from_utf8(plain).map_err(|_| DecryptError::Utf8)
}

/// Why an export password cannot protect a key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExportPasswordError {
    /// Fewer than 9 or more than 24 characters, or not ASCII.
    #[error("the export password must be 9 to 24 ASCII characters")]
    Shape,
    /// Its 3DES key is weak (two equal DES keys once parity bits are ignored), which the
    /// documented .NET implementation refuses.
    #[error("the export password gives a weak 3DES key; choose another")]
    WeakKey,
}

/// Checks an export password as the documented .NET implementation would accept it
/// (catalogue §2.3): 9–24 ASCII characters whose padded key has three distinct DES keys.
pub fn check_export_password(password: &str) -> Result<(), ExportPasswordError> {
    if !(9..=24).contains(&password.len()) || !password.is_ascii() {
        return Err(ExportPasswordError::Shape);
    }
    let key = effective_key(password);
    let part = |i: usize| -> Vec<u8> { key[i * 8..i * 8 + 8].iter().map(|b| b & 0xFE).collect() };
    if part(0) == part(1) || part(1) == part(2) {
        return Err(ExportPasswordError::WeakKey);
    }
    Ok(())
}

/// The `.Bin` key-file text of a data key: `TripleDes(key, exportPassword)` (catalogue §2.3).
pub fn export_key(data_key: &str, export_password: &str) -> Result<String, ExportPasswordError> {
    check_export_password(export_password)?;
    Ok(triple_des(data_key, export_password))
}

/// The data key inside a `.Bin` key-file text.
pub fn import_key(file_text: &str, export_password: &str) -> Result<String, DecryptError> {
    triple_des_decrypt(file_text.trim(), export_password)
}

/// `UPPER(MD5(text))`, as passwords are sent before encryption.
pub fn md5_upper(text: &str) -> String {
    hex_upper(&Md5::digest(text.as_bytes()))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The request signature: non-empty parameters except `sign`, names lower-cased (first
/// occurrence wins), sorted, joined `k=v&…&key=KEY`, MD5 as upper-case hex.
pub fn sign(params: &[(&str, &str)], key: &str) -> String {
    let mut seen: Vec<(String, &str)> = Vec::with_capacity(params.len());
    for (k, v) in params {
        let name = k.to_ascii_lowercase();
        if name == "sign" || v.is_empty() || seen.iter().any(|(n, _)| *n == name) {
            continue;
        }
        seen.push((name, v));
    }
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let mut s = String::new();
    for (k, v) in &seen {
        s.push_str(k);
        s.push('=');
        s.push_str(v);
        s.push('&');
    }
    s.push_str("key=");
    s.push_str(key);
    md5_upper(&s)
}

/// Whether a request's `sign` is right (compared case-insensitively, in constant time).
pub fn verify(params: &[(&str, &str)], key: &str, given: &str) -> bool {
    secret_eq_ignore_ascii_case(&sign(params, key), given.trim())
}

/// Whether two secrets (signatures, password digests, verification codes) are equal, compared
/// in time that does not depend on where they differ (only on their lengths, which are not
/// secret: every digest has 32 characters).
pub fn secret_eq(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// [`secret_eq`] ignoring ASCII case (hex digests are accepted in either case).
pub fn secret_eq_ignore_ascii_case(a: &str, b: &str) -> bool {
    secret_eq(&a.to_ascii_uppercase(), &b.to_ascii_uppercase())
}

/// The `<sign>` of an answer: MD5 of `retcode=…&retmsg=…&key=KEY`, upper-case hex.
pub fn response_sign(retcode: &str, retmsg: &str, key: &str) -> String {
    md5_upper(&format!("retcode={retcode}&retmsg={retmsg}&key={key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "6F9619FF-8B86-D011-B42D-00C04FC964FF";

    #[test]
    fn the_catalogue_test_vectors() {
        assert_eq!(&effective_key("ExportPwd2024"), b"ExportPwd202400000000000");
        assert_eq!(&effective_key(KEY), b"6F9619FF-8B86-D011-B42D-");
        assert_eq!(
            triple_des(KEY, "ExportPwd2024"),
            "+A2+k7ARBNE1kWe6GSePIkbluPiKYet2CLrPJuoXYnDqr9s9n60v+A=="
        );
        assert_eq!(md5_upper("123456"), "E10ADC3949BA59ABBE56E057F20F883E");
        let password = triple_des(&md5_upper("123456"), KEY);
        assert_eq!(
            password,
            "mzDQJtpTiAvW/AgjaF2C4whDeWU/Q4mFfGXNkaNYGvxl4qG49kOCRQ=="
        );
        assert_eq!(triple_des("13800138000", KEY), "2T02lwEPUoPvLe0HnzIMGQ==");
        assert_eq!(triple_des("20240501", KEY), "Cuq/6rTZZoFl4qG49kOCRQ==");
        assert_eq!(
            triple_des("430103198001010011", KEY),
            "ExiN52mDzlnmtO0HVX8oSMiL9N+BnZxh"
        );
        assert_eq!(
            triple_des("430103198001010011^张三^13800138000^1^1|430103198202020022^李四^13900139000^1^1", KEY),
            "ExiN52mDzlnmtO0HVX8oSG46VGrGkGXF7G9QAbEoiqcJTYF86+hmgpsdZxolqwDhWSxtoyGGYMbtyxc9gJf3pYfXWaUKYBRjbb3ohcunUrokhzazQfcKXA=="
        );
        assert_eq!(triple_des("", KEY), "ZeKhuPZDgkU=");
        // §2.6's signature example.
        let params = [
            ("user", "agent01"),
            ("password", password.as_str()),
            ("order_id", "2160301000"),
            ("sign_key_index", "1"),
        ];
        assert_eq!(sign(&params, KEY), "869F518CBA8FBB945260F7DAB475B1F1");
    }

    #[test]
    fn key_files_round_trip_and_refuse_weak_passwords() {
        let file = export_key(KEY, "ExportPwd2024").unwrap();
        assert_eq!(
            file,
            "+A2+k7ARBNE1kWe6GSePIkbluPiKYet2CLrPJuoXYnDqr9s9n60v+A=="
        );
        assert_eq!(
            import_key(&format!("{file}\r\n"), "ExportPwd2024").unwrap(),
            KEY
        );
        assert!(import_key(&file, "ExportPwd2026").is_err());
        // DES ignores the low bit of each key byte: '4' (0x34) and '5' (0x35) are one key.
        assert_eq!(import_key(&file, "ExportPwd2025").unwrap(), KEY);
        assert_eq!(export_key(KEY, "short"), Err(ExportPasswordError::Shape));
        assert_eq!(
            export_key(KEY, "长长长长长长长长长长"),
            Err(ExportPasswordError::Shape)
        );
        // 8 characters pad to "…00000000" twice: K2 == K3.
        assert_eq!(
            check_export_password("12345678"),
            Err(ExportPasswordError::Shape)
        );
        assert_eq!(check_export_password("abcdefgh2"), Ok(()));
        // "abcdefgh1" pads to K2 = "10000000", K3 = "00000000": equal once parity is ignored.
        assert_eq!(
            check_export_password("abcdefgh1"),
            Err(ExportPasswordError::WeakKey)
        );
        // Parity bits are ignored: '0' and '1' are the same DES key byte.
        assert_eq!(
            check_export_password("abcdefgh11111111"),
            Err(ExportPasswordError::WeakKey)
        );
        assert_eq!(
            check_export_password("abcdefghabcdefgh00000000"),
            Err(ExportPasswordError::WeakKey)
        );
    }

    #[test]
    fn decryption_round_trips_and_tolerates_unencoded_base64() {
        let c = triple_des("430103198001010011", KEY);
        assert_eq!(triple_des_decrypt(&c, KEY).unwrap(), "430103198001010011");
        // A '+' that arrived as a space, and a line break.
        let mangled = c.replace('+', " ");
        assert_eq!(
            triple_des_decrypt(&format!("{mangled}\r\n"), KEY).unwrap(),
            "430103198001010011"
        );
        assert_eq!(
            triple_des_decrypt("not base64!", KEY),
            Err(DecryptError::Base64)
        );
        assert_eq!(triple_des_decrypt("AAAA", KEY), Err(DecryptError::Cipher));
        assert!(triple_des_decrypt(&c, "another key entirely").is_err());
    }

    #[test]
    fn signatures_ignore_empty_values_case_and_the_sign_itself() {
        let a = sign(
            &[
                ("User", "u"),
                ("order_id", "1"),
                ("memo", ""),
                ("sign", "x"),
            ],
            KEY,
        );
        let b = sign(&[("order_id", "1"), ("user", "u")], KEY);
        assert_eq!(a, b);
        assert!(verify(
            &[("user", "u"), ("order_id", "1")],
            KEY,
            &b.to_ascii_lowercase()
        ));
        assert!(!verify(&[("user", "u"), ("order_id", "2")], KEY, &b));
        assert_eq!(response_sign("0", "成功", KEY).len(), 32);
    }

    #[test]
    fn secrets_compare_exactly_or_ignoring_ascii_case() {
        assert!(secret_eq("123456", "123456"));
        assert!(!secret_eq("123456", "123457"));
        assert!(!secret_eq("123456", "1234567"));
        assert!(!secret_eq("123456", ""));
        assert!(secret_eq_ignore_ascii_case("E10ADC39", "e10adc39"));
        assert!(!secret_eq_ignore_ascii_case("E10ADC39", "e10adc3a"));
        assert!(!secret_eq("abc", "ABC"));
    }
}
