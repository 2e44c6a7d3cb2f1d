//! The answer envelope `<?xml …?><root><retcode/><retmsg/><sign/>…</root>` and a small writer for
//! the payload (element names exactly as the document spells their opening tags).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;

/// A page's answer before rendering: code, message and payload XML (only sent when the code is 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `retcode`.
    pub code: i64,
    /// `retmsg`.
    pub msg: String,
    /// Payload elements (children of `<root>` after `<sign>`).
    pub body: String,
}

impl Answer {
    /// Success with a payload.
    pub fn ok(msg: &str, body: String) -> Answer {
        Answer {
            code: 0,
            msg: msg.to_string(),
            body,
        }
    }
    /// A failure (no payload).
    pub fn err(code: i64, msg: impl Into<String>) -> Answer {
        Answer {
            code,
            msg: msg.into(),
            body: String::new(),
        }
    }
    /// Renders the document; `key` (the caller's data key) signs it, `None` leaves `<sign>` empty.
    pub fn render(&self, key: Option<&str>) -> String {
        let code = self.code.to_string();
        let sign = key
            .map(|k| crate::crypto::response_sign(&code, &self.msg, k))
            .unwrap_or_default();
        let mut out = String::with_capacity(160 + self.body.len());
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>");
        out.push_str(&code);
        out.push_str("</retcode><retmsg>");
        escape_into(&mut out, &self.msg);
        out.push_str("</retmsg><sign>");
        out.push_str(&sign);
        out.push_str("</sign>");
        if self.code == 0 {
            out.push_str(&self.body);
        }
        out.push_str("</root>");
        out
    }
    /// The HTTP response (always 200, `text/xml; charset=utf-8`).
    pub fn response(&self, key: Option<&str>) -> Response {
        xml_response(self.render(key))
    }
}

/// An XML document as an HTTP 200 response.
pub fn xml_response(text: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Appends `text` with `&`, `<`, `>` escaped.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// A payload writer.
#[derive(Debug, Default)]
pub struct Xml {
    buf: String,
}

impl Xml {
    /// An empty payload.
    pub fn new() -> Xml {
        Xml::default()
    }
    /// `<tag>`.
    pub fn open(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.buf, "<{tag}>");
        self
    }
    /// `</tag>`.
    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.buf, "</{tag}>");
        self
    }
    /// `<tag>value</tag>` (escaped).
    pub fn leaf(&mut self, tag: &str, value: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.buf, "<{tag}>");
        let v = value.to_string();
        escape_into(&mut self.buf, &v);
        let _ = write!(self.buf, "</{tag}>");
        self
    }
    /// The payload text.
    pub fn finish(self) -> String {
        self.buf
    }
}

/// Money in fen as the wire's decimal yuan with two digits (`235.00`).
pub fn money(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// A date as `yyyyMMdd`.
pub fn ymd(d: chrono::NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// A local date-time as `yyyyMMddHHmmss`.
pub fn ymdhms(t: chrono::NaiveDateTime) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_is_signed_and_drops_the_payload_on_errors() {
        let key = "6F9619FF-8B86-D011-B42D-00C04FC964FF";
        let ok = Answer::ok("", "<Item><a>1</a></Item>".into()).render(Some(key));
        assert_eq!(
            ok,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>0</retcode><retmsg></retmsg><sign>1AAEC0F5D59F992CFC5679336DD5A580</sign><Item><a>1</a></Item></root>"
        );
        let mut err = Answer::err(-1, "a<b");
        err.body = "<Item/>".into();
        assert_eq!(
            err.render(None),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>-1</retcode><retmsg>a&lt;b</retmsg><sign></sign></root>"
        );
    }

    #[test]
    fn money_has_two_decimals() {
        assert_eq!(money(23500), "235.00");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(-1050), "-10.50");
        assert_eq!(money(0), "0.00");
    }
}
