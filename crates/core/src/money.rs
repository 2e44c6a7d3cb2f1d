//! Money as wire text: amounts are integer fen everywhere in boxoffice; the protocols that
//! write yuan with two decimals (`"120.00"`) format and parse them here, and only here.

/// Which signs [`parse_yuan`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// Amounts and their negatives (`-1.50`): adjustments, refunds written as negatives.
    Any,
    /// Prices and payments: a leading `-` is refused.
    NonNegative,
}

/// Fen as yuan with two decimals: `12000` → `"120.00"`, `-5` → `"-0.05"`; total over `i64`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Yuan text with at most two decimals (`"120"`, `"120.5"`, `"120.50"`; surrounding blanks
/// ignored) as fen; `None` for anything else or an amount outside `i64`.
pub fn parse_yuan(text: &str, sign: Sign) -> Option<i64> {
    let t = text.trim();
    let (negative, t) = match (t.strip_prefix('-'), sign) {
        (Some(rest), Sign::Any) => (true, rest),
        (Some(_), Sign::NonNegative) => return None,
        (None, _) => (false, t),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || frac.len() > 2 || !digits(frac) {
        return None;
    }
    let whole: i64 = int.parse().ok()?;
    let cents: i64 = format!("{frac:0<2}").parse().ok()?;
    let fen = whole.checked_mul(100)?.checked_add(cents)?;
    Some(if negative { -fen } else { fen })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documented_examples() {
        assert_eq!(yuan(12_000), "120.00");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan(0), "0.00");
        assert_eq!(parse_yuan(" 120.5 ", Sign::NonNegative), Some(12_050));
        assert_eq!(parse_yuan("120", Sign::NonNegative), Some(12_000));
        assert_eq!(parse_yuan("-1.50", Sign::Any), Some(-150));
        assert_eq!(parse_yuan("-1.50", Sign::NonNegative), None);
        for bad in [
            "",
            ".5",
            "1.234",
            "1,00",
            "+1",
            "1e2",
            "--1",
            "1.-5",
            "92233720368547758.08",
        ] {
            assert_eq!(parse_yuan(bad, Sign::Any), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(fen in any::<i64>().prop_filter("in range", |f| *f != i64::MIN)) {
            prop_assert_eq!(parse_yuan(&yuan(fen), Sign::Any), Some(fen));
            let non_negative = parse_yuan(&yuan(fen), Sign::NonNegative);
            prop_assert_eq!(non_negative, (fen >= 0).then_some(fen));
        }

        #[test]
        fn any_text_is_refused_or_read_without_panicking(text in ".{0,24}") {
            let _ = parse_yuan(&text, Sign::Any);
        }
    }
}
