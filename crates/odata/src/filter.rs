//! `$filter` expressions: lexer, parser, type binding against the model, evaluation.

use std::cmp::Ordering;

use chrono::{NaiveDate, NaiveDateTime};

use crate::error::{bad, ODataError};
use crate::model::{Entity, EntityType, Model, PropKind, Value};

/// A literal in a filter expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Null,
    Str(String),
    Int(i64),
    Dec(f64),
    Bool(bool),
    DateTime(NaiveDateTime),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    fn from_word(w: &str) -> Option<CmpOp> {
        Some(match w {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }

    fn word(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
        }
    }
}

/// An unbound (syntax-only) filter expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Prop(String, usize),
    Lit(Lit, usize),
    Not(Box<Expr>, usize),
    And(Box<Expr>, Box<Expr>, usize),
    Or(Box<Expr>, Box<Expr>, usize),
    Cmp(CmpOp, Box<Expr>, Box<Expr>, usize),
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Lit(Lit),
    LParen,
    RParen,
    Comma,
    Slash,
    End,
}

struct Lexer<'a> {
    chars: Vec<char>,
    text: &'a str,
    i: usize,
}

impl<'a> Lexer<'a> {
    fn tokens(text: &'a str) -> Result<Vec<(Tok, usize)>, ODataError> {
        let mut lx = Lexer {
            chars: text.chars().collect(),
            text,
            i: 0,
        };
        let mut out = Vec::new();
        loop {
            let (t, p) = lx.next()?;
            let end = t == Tok::End;
            out.push((t, p));
            if end {
                return Ok(out);
            }
        }
    }

    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    fn next(&mut self) -> Result<(Tok, usize), ODataError> {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.i += 1;
        }
        let start = self.i;
        let Some(c) = self.peek(0) else {
            return Ok((Tok::End, start));
        };
        let tok = match c {
            '(' => {
                self.i += 1;
                Tok::LParen
            }
            ')' => {
                self.i += 1;
                Tok::RParen
            }
            ',' => {
                self.i += 1;
                Tok::Comma
            }
            '/' => {
                self.i += 1;
                Tok::Slash
            }
            '\'' => Tok::Lit(Lit::Str(self.string(start)?)),
            c if c.is_ascii_digit()
                || (c == '-' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.number(start)?
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut word = String::new();
                while let Some(c) = self.peek(0).filter(|c| c.is_alphanumeric() || *c == '_') {
                    word.push(c);
                    self.i += 1;
                }
                if self.peek(0) == Some('\'') {
                    self.typed_literal(&word, start)?
                } else {
                    Tok::Ident(word)
                }
            }
            other => {
                return Err(bad(format!(
                    "Syntax error: character '{other}' is not valid at position {start} in '{}'.",
                    self.text
                )))
            }
        };
        Ok((tok, start))
    }

    /// Reads a `'...'` literal starting at the current quote; `''` is an escaped quote.
    fn string(&mut self, start: usize) -> Result<String, ODataError> {
        self.i += 1;
        let mut s = String::new();
        loop {
            match self.peek(0) {
                None => {
                    return Err(bad(format!(
                        "There is an unterminated string literal at position {start} in '{}'.",
                        self.text
                    )))
                }
                Some('\'') if self.peek(1) == Some('\'') => {
                    s.push('\'');
                    self.i += 2;
                }
                Some('\'') => {
                    self.i += 1;
                    return Ok(s);
                }
                Some(c) => {
                    s.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn typed_literal(&mut self, prefix: &str, start: usize) -> Result<Tok, ODataError> {
        let body = self.string(start)?;
        if prefix.eq_ignore_ascii_case("datetime") {
            return match parse_datetime_literal(&body) {
                Some(d) => Ok(Tok::Lit(Lit::DateTime(d))),
                None => Err(bad(format!(
                    "Unrecognized 'Edm.DateTime' literal 'datetime'{body}'' at '{start}' in '{}'.",
                    self.text
                ))),
            };
        }
        Err(bad(format!(
            "Unrecognized literal '{prefix}'{body}'' at position {start} in '{}'.",
            self.text
        )))
    }

    fn number(&mut self, start: usize) -> Result<Tok, ODataError> {
        let mut s = String::new();
        if self.peek(0) == Some('-') {
            s.push('-');
            self.i += 1;
        }
        let digits = |lx: &mut Lexer, s: &mut String| {
            while let Some(d) = lx.peek(0).filter(char::is_ascii_digit) {
                s.push(d);
                lx.i += 1;
            }
        };
        digits(self, &mut s);
        let mut decimal = false;
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(|d| d.is_ascii_digit()) {
            decimal = true;
            s.push('.');
            self.i += 1;
            digits(self, &mut s);
        }
        if matches!(self.peek(0), Some('e' | 'E'))
            && (self.peek(1).is_some_and(|d| d.is_ascii_digit())
                || (matches!(self.peek(1), Some('+' | '-'))
                    && self.peek(2).is_some_and(|d| d.is_ascii_digit())))
        {
            decimal = true;
            s.push('e');
            self.i += 1;
            if let Some(sign) = self.peek(0).filter(|c| *c == '+' || *c == '-') {
                s.push(sign);
                self.i += 1;
            }
            digits(self, &mut s);
        }
        match self.peek(0) {
            Some('M' | 'm' | 'D' | 'd' | 'F' | 'f') => {
                decimal = true;
                self.i += 1;
            }
            Some('L' | 'l') if !decimal => self.i += 1,
            _ => {}
        }
        if self
            .peek(0)
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            return Err(bad(format!("Syntax error at position {}.", self.i)));
        }
        if decimal {
            s.parse::<f64>()
                .map(|f| Tok::Lit(Lit::Dec(f)))
                .map_err(|_| bad(format!("Invalid numeric literal at position {start}.")))
        } else {
            s.parse::<i64>()
                .map(|n| Tok::Lit(Lit::Int(n)))
                .map_err(|_| {
                    bad(format!(
                        "Unrecognized 'Edm.Int64' literal '{s}' at '{start}' in '{}'.",
                        self.text
                    ))
                })
        }
    }
}

/// Parses the body of a `datetime'...'` literal: date only, `THH:mm`, `THH:mm:ss`,
/// fractional seconds; a trailing `Z` is ignored (values are wall-clock).
pub(crate) fn parse_datetime_literal(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let s = s.strip_suffix('Z').unwrap_or(s);
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d);
        }
    }
    None
}

// ---------------------------------------------------------------- parser

struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
    /// Operator and parenthesis count, bounding the depth of the expression tree
    /// (and so the recursion of binding, evaluation and drop).
    nodes: usize,
    /// Current nesting of parentheses and `not`.
    depth: usize,
}

/// Maximum nesting of parentheses and `not` in one `$filter`.
const MAX_DEPTH: usize = 64;

/// Maximum number of operators plus parenthesised groups in one `$filter`.
const MAX_NODES: usize = 400;

/// Parses a decoded `$filter` text into an unbound expression (syntax errors only).
pub(crate) fn parse(text: &str) -> Result<Expr, ODataError> {
    let mut p = Parser {
        toks: Lexer::tokens(text)?,
        i: 0,
        nodes: 0,
        depth: 0,
    };
    let e = p.or()?;
    let (t, pos) = p.peek();
    if *t != Tok::End {
        return Err(bad(format!("Syntax error at position {pos}.")));
    }
    Ok(e)
}

const END: (Tok, usize) = (Tok::End, 0);

impl Parser {
    fn peek(&self) -> (&Tok, usize) {
        let (t, p) = self.toks.get(self.i).unwrap_or(&END);
        (t, *p)
    }

    fn node(&mut self) -> Result<(), ODataError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            let (_, p) = self.peek();
            return Err(bad(format!(
                "Recursion limit exceeded at position {p}: the $filter expression is too complex."
            )));
        }
        Ok(())
    }

    fn nest(&mut self) -> Result<(), ODataError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let (_, p) = self.peek();
            return Err(bad(format!(
                "Recursion limit exceeded at position {p}: the $filter expression is nested too deeply."
            )));
        }
        self.node()
    }

    fn bump(&mut self) {
        if self.i < self.toks.len() {
            self.i += 1;
        }
    }

    fn peek_word(&self, w: &str) -> Option<usize> {
        match self.peek() {
            (Tok::Ident(s), p) if s == w => Some(p),
            _ => None,
        }
    }

    fn or(&mut self) -> Result<Expr, ODataError> {
        let mut l = self.and()?;
        while let Some(p) = self.peek_word("or") {
            self.bump();
            self.node()?;
            let r = self.and()?;
            l = Expr::Or(Box::new(l), Box::new(r), p);
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, ODataError> {
        let mut l = self.cmp()?;
        while let Some(p) = self.peek_word("and") {
            self.bump();
            self.node()?;
            let r = self.cmp()?;
            l = Expr::And(Box::new(l), Box::new(r), p);
        }
        Ok(l)
    }

    fn cmp(&mut self) -> Result<Expr, ODataError> {
        let mut l = self.unary()?;
        loop {
            let op = match self.peek() {
                (Tok::Ident(w), p) => CmpOp::from_word(w).map(|o| (o, p)),
                _ => None,
            };
            let Some((op, p)) = op else { break };
            self.bump();
            self.node()?;
            let r = self.unary()?;
            l = Expr::Cmp(op, Box::new(l), Box::new(r), p);
        }
        Ok(l)
    }

    fn unary(&mut self) -> Result<Expr, ODataError> {
        if let Some(p) = self.peek_word("not") {
            self.bump();
            self.nest()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e), p));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ODataError> {
        let (tok, pos) = self.peek();
        let tok = tok.clone();
        match tok {
            Tok::LParen => {
                self.bump();
                self.nest()?;
                let e = self.or()?;
                self.depth -= 1;
                match self.peek() {
                    (Tok::RParen, _) => {
                        self.bump();
                        Ok(e)
                    }
                    (_, p) => Err(bad(format!("')' or operator expected at position {p}."))),
                }
            }
            Tok::Lit(l) => {
                self.bump();
                Ok(Expr::Lit(l, pos))
            }
            Tok::Ident(w) => {
                match w.as_str() {
                    "true" => {
                        self.bump();
                        return Ok(Expr::Lit(Lit::Bool(true), pos));
                    }
                    "false" => {
                        self.bump();
                        return Ok(Expr::Lit(Lit::Bool(false), pos));
                    }
                    "null" => {
                        self.bump();
                        return Ok(Expr::Lit(Lit::Null, pos));
                    }
                    "and" | "or" | "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "not" => {
                        return Err(bad(format!("Expression expected at position {pos}.")));
                    }
                    _ => {}
                }
                self.bump();
                match self.peek() {
                    (Tok::LParen, _) => {
                        Err(bad(format!("Unknown function '{w}' at position {pos}.")))
                    }
                    (Tok::Slash, p) => Err(bad(format!(
                        "Member access ('/') is not supported in $filter at position {p}."
                    ))),
                    _ => Ok(Expr::Prop(w, pos)),
                }
            }
            _ => Err(bad(format!("Expression expected at position {pos}."))),
        }
    }
}

// ---------------------------------------------------------------- binding

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Int,
    Dec,
    Bool,
    DateTime,
    Null,
    Coll,
}

/// A type-checked filter expression ready for evaluation.
#[derive(Debug, Clone)]
pub(crate) enum Bound {
    Prop(usize),
    Lit(Lit),
    Not(Box<Bound>),
    And(Box<Bound>, Box<Bound>),
    Or(Box<Bound>, Box<Bound>),
    Cmp(CmpOp, Box<Bound>, Box<Bound>),
}

fn clr_name(kind: PropKind, nullable: bool) -> String {
    let base = match kind {
        PropKind::String => return "System.String".into(),
        PropKind::Int32 => "System.Int32",
        PropKind::Byte => "System.Byte",
        PropKind::Boolean => "System.Boolean",
        PropKind::DateTime => "System.DateTime",
        PropKind::Decimal => "System.Decimal",
        PropKind::StringCollection => {
            return "System.Collections.Generic.IEnumerable`1[System.String]".into()
        }
        PropKind::TranslationCollection => {
            return "System.Collections.Generic.IEnumerable`1[Translation]".into()
        }
    };
    if nullable {
        format!("System.Nullable`1[{base}]")
    } else {
        base.into()
    }
}

fn lit_ty(l: &Lit) -> (Ty, String) {
    match l {
        Lit::Null => (Ty::Null, "null".into()),
        Lit::Str(_) => (Ty::Str, "System.String".into()),
        Lit::Int(i) if i32::try_from(*i).is_ok() => (Ty::Int, "System.Int32".into()),
        Lit::Int(_) => (Ty::Int, "System.Int64".into()),
        Lit::Dec(_) => (Ty::Dec, "System.Decimal".into()),
        Lit::Bool(_) => (Ty::Bool, "System.Boolean".into()),
        Lit::DateTime(_) => (Ty::DateTime, "System.DateTime".into()),
    }
}

fn kind_ty(k: PropKind) -> Ty {
    match k {
        PropKind::String => Ty::Str,
        PropKind::Int32 | PropKind::Byte => Ty::Int,
        PropKind::Decimal => Ty::Dec,
        PropKind::Boolean => Ty::Bool,
        PropKind::DateTime => Ty::DateTime,
        PropKind::StringCollection | PropKind::TranslationCollection => Ty::Coll,
    }
}

/// The WCF message for an unknown property.
pub(crate) fn no_property(model: &Model, ty: &EntityType, name: &str, pos: usize) -> ODataError {
    bad(format!(
        "No property '{name}' exists in type '{}' at position {pos}.",
        model.qualified(ty.name)
    ))
}

/// Type-checks `e` against entity type `ty`; the result must be Boolean.
pub(crate) fn bind(model: &Model, ty: &EntityType, e: &Expr) -> Result<Bound, ODataError> {
    let (b, t, name) = bind_inner(model, ty, e)?;
    if t != Ty::Bool {
        return Err(bad(format!(
            "Expression of type '{name}' cannot be converted to type 'System.Boolean'."
        )));
    }
    Ok(b)
}

fn bind_inner(model: &Model, ty: &EntityType, e: &Expr) -> Result<(Bound, Ty, String), ODataError> {
    match e {
        Expr::Prop(name, pos) => {
            let idx = ty
                .property_index(name)
                .ok_or_else(|| no_property(model, ty, name, *pos))?;
            let p = &ty.properties[idx];
            Ok((
                Bound::Prop(idx),
                kind_ty(p.kind),
                clr_name(p.kind, p.nullable),
            ))
        }
        Expr::Lit(l, _) => {
            let (t, n) = lit_ty(l);
            Ok((Bound::Lit(l.clone()), t, n))
        }
        Expr::Not(inner, pos) => {
            let (b, t, n) = bind_inner(model, ty, inner)?;
            if t != Ty::Bool {
                return Err(bad(format!(
                    "Operator 'not' incompatible with operand type '{n}' at position {pos}."
                )));
            }
            Ok((Bound::Not(Box::new(b)), Ty::Bool, n))
        }
        Expr::And(l, r, pos) | Expr::Or(l, r, pos) => {
            let word = if matches!(e, Expr::And(..)) {
                "and"
            } else {
                "or"
            };
            let (lb, lt, ln) = bind_inner(model, ty, l)?;
            let (rb, rt, rn) = bind_inner(model, ty, r)?;
            if lt != Ty::Bool || rt != Ty::Bool {
                return Err(bad(format!(
                    "Operator '{word}' incompatible with operand types '{ln}' and '{rn}' at position {pos}."
                )));
            }
            let b = if word == "and" {
                Bound::And(Box::new(lb), Box::new(rb))
            } else {
                Bound::Or(Box::new(lb), Box::new(rb))
            };
            Ok((b, Ty::Bool, "System.Boolean".into()))
        }
        Expr::Cmp(op, l, r, pos) => {
            let (lb, lt, ln) = bind_inner(model, ty, l)?;
            let (rb, rt, rn) = bind_inner(model, ty, r)?;
            let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
            let ok = match (lt, rt) {
                (Ty::Coll, _) | (_, Ty::Coll) => false,
                (Ty::Null, _) | (_, Ty::Null) => true,
                (Ty::Str, Ty::Str) | (Ty::DateTime, Ty::DateTime) => true,
                (Ty::Int | Ty::Dec, Ty::Int | Ty::Dec) => true,
                (Ty::Bool, Ty::Bool) => !ordered,
                _ => false,
            };
            if !ok {
                return Err(bad(format!(
                    "Operator '{}' incompatible with operand types '{ln}' and '{rn}' at position {pos}.",
                    op.word()
                )));
            }
            Ok((
                Bound::Cmp(*op, Box::new(lb), Box::new(rb)),
                Ty::Bool,
                "System.Boolean".into(),
            ))
        }
    }
}

// ---------------------------------------------------------------- evaluation

#[derive(Debug, Clone, PartialEq)]
enum V<'a> {
    Null,
    Str(&'a str),
    Int(i64),
    Dec(f64),
    Bool(bool),
    DateTime(NaiveDateTime),
    Other,
}

fn value_v(v: &Value) -> V<'_> {
    match v {
        Value::Null => V::Null,
        Value::String(s) => V::Str(s),
        Value::Int(i) => V::Int(*i),
        Value::Bool(b) => V::Bool(*b),
        Value::DateTime(d) => V::DateTime(*d),
        Value::Decimal(s) => s.trim().parse::<f64>().map_or(V::Null, V::Dec),
        Value::Strings(_) | Value::Translations(_) => V::Other,
    }
}

fn lit_v(l: &Lit) -> V<'_> {
    match l {
        Lit::Null => V::Null,
        Lit::Str(s) => V::Str(s),
        Lit::Int(i) => V::Int(*i),
        Lit::Dec(d) => V::Dec(*d),
        Lit::Bool(b) => V::Bool(*b),
        Lit::DateTime(d) => V::DateTime(*d),
    }
}

fn cmp_v(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        (V::Int(x), V::Dec(y)) => (*x as f64).partial_cmp(y),
        (V::Dec(x), V::Int(y)) => x.partial_cmp(&(*y as f64)),
        (V::Dec(x), V::Dec(y)) => x.partial_cmp(y),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::DateTime(x), V::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn eval_v<'a>(b: &'a Bound, e: &'a Entity) -> V<'a> {
    match b {
        Bound::Prop(i) => value_v(e.value(*i)),
        Bound::Lit(l) => lit_v(l),
        _ => match eval(b, e) {
            Some(x) => V::Bool(x),
            None => V::Null,
        },
    }
}

/// Evaluates with three-valued logic (`None` = null); a filter keeps an entity on `Some(true)`.
pub(crate) fn eval(b: &Bound, e: &Entity) -> Option<bool> {
    match b {
        Bound::Prop(_) | Bound::Lit(_) => match eval_v(b, e) {
            V::Bool(x) => Some(x),
            _ => None,
        },
        Bound::Not(x) => eval(x, e).map(|v| !v),
        Bound::And(l, r) => match (eval(l, e), eval(r, e)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Bound::Or(l, r) => match (eval(l, e), eval(r, e)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Bound::Cmp(op, l, r) => {
            let (a, b) = (eval_v(l, e), eval_v(r, e));
            let a_null = a == V::Null;
            let b_null = b == V::Null;
            // LINQ-to-objects lifted semantics: null eq null is true, any ordering with null is false.
            if a_null || b_null {
                return Some(match op {
                    CmpOp::Eq => a_null && b_null,
                    CmpOp::Ne => a_null != b_null,
                    _ => false,
                });
            }
            let ord = cmp_v(&a, &b);
            Some(match op {
                CmpOp::Eq => ord == Some(Ordering::Equal),
                CmpOp::Ne => ord != Some(Ordering::Equal),
                CmpOp::Gt => ord == Some(Ordering::Greater),
                CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                CmpOp::Lt => ord == Some(Ordering::Less),
                CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
            })
        }
    }
}

/// Orders two property values for `$orderby` (null first, strings ordinal).
pub(crate) fn order_values(a: &Value, b: &Value) -> Ordering {
    let (x, y) = (value_v(a), value_v(b));
    match (&x, &y) {
        (V::Null, V::Null) => Ordering::Equal,
        (V::Null, _) => Ordering::Less,
        (_, V::Null) => Ordering::Greater,
        _ => cmp_v(&x, &y).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let e = parse("a eq 1 or b eq 2 and not c").unwrap();
        match e {
            Expr::Or(_, r, _) => assert!(matches!(*r, Expr::And(..))),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn literals() {
        assert!(
            matches!(parse("-5 eq X").unwrap(), Expr::Cmp(_, l, _, _) if *l == Expr::Lit(Lit::Int(-5), 0))
        );
        assert!(parse("X eq 'it''s'").is_ok());
        assert!(parse("X eq datetime'2015-08-08T10:30:00.123'").is_ok());
        assert!(parse("X eq datetime'2015-13-08'").is_err());
        assert!(parse("X eq 'abc").is_err());
        assert!(parse("X eq 1.5M").is_ok());
        assert!(parse("X eq 99999999999999999999999").is_err());
        assert!(parse("X eq guid'abc'").is_err());
        assert!(parse("X eq %").is_err());
        assert!(parse("(X eq 1").is_err());
        assert!(parse("X eq 1)").is_err());
        assert!(parse("X eq").is_err());
        assert!(parse("eq 1").is_err());
        assert!(parse("").is_err());
        assert!(parse("substringof('a',X)").is_err());
        assert!(parse("X/Y eq 1").is_err());
        assert_eq!(
            parse_datetime_literal("2015-08-08T10:30"),
            NaiveDate::from_ymd_opt(2015, 8, 8).and_then(|d| d.and_hms_opt(10, 30, 0))
        );
    }
}
