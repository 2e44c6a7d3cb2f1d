//! Query-string parsing: system query options (`$filter`, `$select`, ...) and
//! service-operation parameters.

use crate::error::{bad, ODataError};
use crate::filter::{self, Expr};

/// One `$select` item: a `/`-separated path (`Title`, `Sessions/SessionId`, `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectItem {
    /// Path segments, e.g. `["Sessions", "Attributes", "Description"]`.
    pub path: Vec<String>,
    /// Character position of the item inside the `$select` text.
    pub pos: usize,
}

/// One `$orderby` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    /// Property name.
    pub property: String,
    /// True for `desc`.
    pub descending: bool,
    /// Character position of the key inside the `$orderby` text.
    pub pos: usize,
}

/// A parsed OData query string.
#[derive(Debug, Clone, Default)]
pub struct Query {
    filter: Option<Expr>,
    filter_raw: Option<String>,
    select: Option<Vec<SelectItem>>,
    select_raw: Option<String>,
    expand: Vec<Vec<String>>,
    expand_raw: Option<String>,
    orderby: Vec<OrderKey>,
    top: Option<usize>,
    skip: Option<usize>,
    format: Option<String>,
    inlinecount: Option<String>,
    params: Vec<(String, String)>,
}

/// System query options this implementation recognizes.
const KNOWN_OPTIONS: &[&str] = &[
    "$filter",
    "$select",
    "$expand",
    "$orderby",
    "$top",
    "$skip",
    "$format",
    "$inlinecount",
];

impl Query {
    /// Parse a raw (still percent-encoded) query string, with or without the leading `?`.
    ///
    /// `+` decodes to a space; `%27` and raw `'` and `$` are accepted; empty items
    /// (`?&$format=json`) are ignored. `$`-option names are case-sensitive (an unknown
    /// `$xyz` is a `BadRequest`); other parameters are kept for [`Query::param`].
    /// An option given with an empty value counts as absent (as in WCF).
    pub fn parse(raw: &str) -> Result<Query, ODataError> {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        let mut q = Query::default();
        let mut seen: Vec<String> = Vec::new();
        for item in raw.split('&') {
            if item.is_empty() {
                continue;
            }
            let (name_raw, value_raw) = match item.split_once('=') {
                Some((n, v)) => (n, v),
                None => (item, ""),
            };
            let name = percent_decode(name_raw);
            let value = percent_decode(value_raw);
            let name = name.trim().to_string();
            if name.is_empty() {
                continue;
            }
            if !name.starts_with('$') {
                q.params.push((name, value));
                continue;
            }
            if !KNOWN_OPTIONS.contains(&name.as_str()) {
                return Err(bad(format!(
                    "The query parameter '{name}' begins with a system-reserved '$' character but is not recognized."
                )));
            }
            if seen.contains(&name) {
                return Err(bad(format!(
                    "Query option '{name}' was specified more than once, but it must be specified at most once."
                )));
            }
            seen.push(name.clone());
            if value.trim().is_empty() {
                continue;
            }
            match name.as_str() {
                "$filter" => {
                    q.filter = Some(filter::parse(&value)?);
                    q.filter_raw = Some(value);
                }
                "$select" => {
                    q.select = Some(parse_select(&value)?);
                    q.select_raw = Some(value);
                }
                "$expand" => {
                    q.expand = parse_expand(&value)?;
                    q.expand_raw = Some(value);
                }
                "$orderby" => q.orderby = parse_orderby(&value)?,
                "$top" => q.top = Some(parse_count("$top", &value)?),
                "$skip" => q.skip = Some(parse_count("$skip", &value)?),
                "$format" => q.format = Some(value),
                "$inlinecount" => {
                    let v = value.trim();
                    if v != "allpages" && v != "none" {
                        return Err(bad(format!(
                            "Query option '$inlinecount' has an invalid value '{v}'. Valid values are 'allpages' and 'none'."
                        )));
                    }
                    q.inlinecount = Some(v.to_string());
                }
                _ => {}
            }
        }
        Ok(q)
    }

    /// A function parameter as a string: accepts `cinemaId='0200'`, `cinemaId=%270200%27`
    /// and `cinemaid=0200` (unquoted). The name is matched case-insensitively, surrounding
    /// quotes are stripped and `''` is unescaped. The first occurrence wins.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| unquote(v.trim()))
    }

    /// All non-`$` parameters as (name, decoded raw value) pairs, in query order.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// True when `$expand` (or a nested `$select` path, which implies expansion) asks for
    /// this navigation path, e.g. `"Sessions"` or `"Sessions/Attributes"`.
    /// `$expand=Sessions/Attributes` implies `Sessions`.
    pub fn expands(&self, path: &str) -> bool {
        let want: Vec<&str> = path
            .split('/')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if want.is_empty() {
            return false;
        }
        let prefix_of = |p: &[String]| {
            p.len() >= want.len() && want.iter().zip(p).all(|(a, b)| *a == b.as_str())
        };
        if self.expand.iter().any(|p| prefix_of(p)) {
            return true;
        }
        self.select
            .iter()
            .flatten()
            .any(|s| s.path.len() > want.len() && prefix_of(&s.path))
    }

    /// The navigation paths to expand: `$expand` paths plus the navigation prefixes of nested
    /// `$select` paths (segments only, unvalidated).
    pub fn expand_paths(&self) -> Vec<Vec<String>> {
        let mut out = self.expand.clone();
        for s in self.select.iter().flatten() {
            if s.path.len() > 1 {
                out.push(s.path[..s.path.len() - 1].to_vec());
            }
        }
        out
    }

    /// The decoded `$filter` text, if given.
    pub fn filter_text(&self) -> Option<&str> {
        self.filter_raw.as_deref()
    }

    /// The decoded `$select` text, if given (echoed in `odata.metadata`).
    pub fn select_text(&self) -> Option<&str> {
        self.select_raw.as_deref()
    }

    /// The decoded `$expand` text, if given.
    pub fn expand_text(&self) -> Option<&str> {
        self.expand_raw.as_deref()
    }

    /// The parsed `$select` items, if `$select` was given.
    pub fn select_items(&self) -> Option<&[SelectItem]> {
        self.select.as_deref()
    }

    /// The parsed `$orderby` keys (empty when absent).
    pub fn orderby(&self) -> &[OrderKey] {
        &self.orderby
    }

    /// `$top`, if given.
    pub fn top(&self) -> Option<usize> {
        self.top
    }

    /// `$skip`, if given.
    pub fn skip(&self) -> Option<usize> {
        self.skip
    }

    /// `$format`, if given (informational: the answer is always JSON).
    pub fn format(&self) -> Option<&str> {
        self.format.as_deref()
    }

    /// `$inlinecount` (`allpages` or `none`), if given. Accepted but not acted upon.
    pub fn inlinecount(&self) -> Option<&str> {
        self.inlinecount.as_deref()
    }

    pub(crate) fn filter_expr(&self) -> Option<&Expr> {
        self.filter.as_ref()
    }
}

/// Percent-decodes a query-string component: `+` → space, `%XX` → byte; malformed
/// escapes are kept literally; invalid UTF-8 is replaced by U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Strips OData string-literal quotes (`'0200'` → `0200`, `''` → `'`); unquoted text is returned as is.
pub fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        v[1..v.len() - 1].replace("''", "'")
    } else {
        v.to_string()
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Splits a comma list, yielding (trimmed item, char position of the item start).
fn split_list(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut cur = String::new();
    for (i, c) in text.chars().enumerate() {
        if c == ',' {
            out.push((cur.clone(), start));
            cur.clear();
            start = i + 1;
        } else {
            cur.push(c);
        }
    }
    out.push((cur, start));
    out.into_iter()
        .map(|(s, p)| {
            let lead = s.chars().take_while(|c| c.is_whitespace()).count();
            (s.trim().to_string(), p + lead)
        })
        .collect()
}

fn parse_path(item: &str, pos: usize, allow_star: bool) -> Result<Vec<String>, ODataError> {
    let segs: Vec<String> = item.split('/').map(|s| s.trim().to_string()).collect();
    let last = segs.len() - 1;
    let mut off = pos;
    for (i, s) in segs.iter().enumerate() {
        let ok = is_ident(s) || (allow_star && i == last && s == "*");
        if !ok {
            return Err(bad(if s.is_empty() {
                format!("Expression expected at position {off}.")
            } else {
                format!("Syntax error at position {off}.")
            }));
        }
        off += s.chars().count() + 1;
    }
    Ok(segs)
}

fn parse_select(text: &str) -> Result<Vec<SelectItem>, ODataError> {
    split_list(text)
        .into_iter()
        .map(|(item, pos)| {
            Ok(SelectItem {
                path: parse_path(&item, pos, true)?,
                pos,
            })
        })
        .collect()
}

fn parse_expand(text: &str) -> Result<Vec<Vec<String>>, ODataError> {
    split_list(text)
        .into_iter()
        .map(|(item, pos)| parse_path(&item, pos, false))
        .collect()
}

fn parse_orderby(text: &str) -> Result<Vec<OrderKey>, ODataError> {
    let mut keys = Vec::new();
    for (item, pos) in split_list(text) {
        let mut words = item.split_whitespace();
        let prop = words.next().unwrap_or("");
        if prop.is_empty() {
            return Err(bad(format!("Expression expected at position {pos}.")));
        }
        if !is_ident(prop) {
            return Err(bad(format!("Syntax error at position {pos}.")));
        }
        let descending = match words.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => {
                let at = pos + prop.chars().count() + 1;
                return Err(bad(format!(
                    "',' or end of expression expected at position {at}."
                )));
            }
        };
        if words.next().is_some() {
            return Err(bad(format!(
                "',' or end of expression expected at position {}.",
                pos + item.chars().count()
            )));
        }
        keys.push(OrderKey {
            property: prop.to_string(),
            descending,
            pos,
        });
    }
    Ok(keys)
}

fn parse_count(name: &str, value: &str) -> Result<usize, ODataError> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = v.parse::<i32>() {
            return usize::try_from(n)
                .map_err(|_| bad(format!("Incorrect format for {name} argument '{value}'.")));
        }
    }
    Err(bad(format!(
        "Incorrect format for {name} argument '{value}'."
    )))
}
