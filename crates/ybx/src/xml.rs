//! The answer envelope `<?xml …?><root><retcode/><retmsg/><sign/>…</root>` and a small writer for
//! the payload (element names exactly as the document spells their opening tags).
//!
//! Every answer is well-formed XML 1.0 whatever is stored: characters XML 1.0 cannot carry (C0
//! controls other than tab, LF and CR; U+FFFE, U+FFFF) are written as U+FFFD (REPLACEMENT
//! CHARACTER), CR as `&#13;` (a raw CR would reach the reader as LF), and `]]>` inside CDATA is
//! split across two sections. Requests carrying such characters are refused before any page runs
//! (`route.rs`), so the replacement only ever shows data stored by other means.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;
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
    /// The `<sign>` covers `retmsg` as the reader sees it (after replacing characters XML cannot
    /// carry).
    pub fn render(&self, key: Option<&str>) -> String {
        let code = self.code.to_string();
        let msg = xml_text(&self.msg);
        let sign = key
            .map(|k| crate::crypto::response_sign(&code, &msg, k))
            .unwrap_or_default();
        let mut out = String::with_capacity(160 + self.body.len());
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>");
        out.push_str(&code);
        out.push_str("</retcode><retmsg>");
        escape_into(&mut out, &msg);
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

/// What stands for a character XML 1.0 cannot carry: U+FFFD REPLACEMENT CHARACTER (visible, so a
/// reader sees that something was there, and never mistaken for the stored value).
pub const REPLACEMENT: char = '\u{FFFD}';

/// Whether XML 1.0 can carry `c` (production `Char`: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD
/// and U+10000 upwards; surrogates cannot occur in a Rust `char`).
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Whether `text` holds a character XML 1.0 cannot carry.
pub fn has_forbidden(text: &str) -> bool {
    !text.chars().all(xml_char)
}

/// `text` with every character XML 1.0 cannot carry replaced by [`REPLACEMENT`] (borrowed when
/// there is none).
pub fn xml_text(text: &str) -> Cow<'_, str> {
    if has_forbidden(text) {
        Cow::Owned(
            text.chars()
                .map(|c| if xml_char(c) { c } else { REPLACEMENT })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Appends `text` as element content: `&`, `<`, `>` escaped, CR as `&#13;` (kept through the
/// reader's line-end normalization), characters XML 1.0 cannot carry as [`REPLACEMENT`].
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if !xml_char(c) => out.push(REPLACEMENT),
            c => out.push(c),
        }
    }
}

/// Appends `text` as a CDATA section: a `]]>` inside is split across two sections
/// (`]]]]><![CDATA[>`), characters XML 1.0 cannot carry become [`REPLACEMENT`]. (A CR in CDATA
/// still reaches the reader as LF, as XML requires; use [`escape_into`] where CR matters.)
pub fn cdata_into(out: &mut String, text: &str) {
    out.push_str("<![CDATA[");
    out.push_str(&xml_text(text).replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]>");
}

/// The text of the first element named `name` in an XML document (ASCII case ignored, at any
/// depth, whatever its attributes), read with `quick_xml`: its text and CDATA content joined,
/// entity and character references resolved, line ends normalized. `None` when there is no
/// such element, or the document is not well-formed before that element ends. A leading BOM is
/// ignored. (Lenient on purpose: agents' answers to callbacks are read with it.)
pub fn element_text(xml: &str, name: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml.trim_start_matches('\u{feff}'));
    // Nesting depth inside the wanted element, once found.
    let mut inside: Option<usize> = None;
    let mut text = String::new();
    let wanted = |n: &[u8]| n.eq_ignore_ascii_case(name.as_bytes());
    loop {
        match (reader.read_event().ok()?, inside) {
            (Event::Start(e), None) if wanted(e.local_name().as_ref()) => inside = Some(0),
            (Event::Empty(e), None) if wanted(e.local_name().as_ref()) => return Some(text),
            (Event::Start(_), Some(d)) => inside = Some(d + 1),
            (Event::End(_), Some(0)) => return Some(text),
            (Event::End(_), Some(d)) => inside = Some(d - 1),
            (Event::Text(t), Some(_)) => text.push_str(&t.xml10_content().ok()?),
            (Event::CData(c), Some(_)) => text.push_str(&c.xml10_content().ok()?),
            (Event::GeneralRef(r), Some(_)) => match r.resolve_char_ref().ok()? {
                Some(c) => text.push(c),
                None => text.push_str(quick_xml::escape::resolve_predefined_entity(
                    &r.decode().ok()?,
                )?),
            },
            (Event::Eof, _) => return None,
            _ => {}
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
    boxoffice_core::money::yuan(fen)
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
    fn forbidden_characters_never_reach_the_answer() {
        let key = "6F9619FF-8B86-D011-B42D-00C04FC964FF";
        let mut x = Xml::new();
        x.leaf("a", "x\u{1}y\u{FFFE}\u{FFFF}\u{B}z\r\n\t");
        let text = Answer::ok("m\u{0}", x.finish()).render(Some(key));
        assert!(text.chars().all(xml_char), "{text}");
        assert!(text.contains("<a>x\u{FFFD}y\u{FFFD}\u{FFFD}\u{FFFD}z&#13;\n\t</a>"));
        assert_eq!(element_text(&text, "retmsg").as_deref(), Some("m\u{FFFD}"));
        assert_eq!(
            element_text(&text, "a").as_deref(),
            Some("x\u{FFFD}y\u{FFFD}\u{FFFD}\u{FFFD}z\r\n\t")
        );
        // The sign covers the message as the reader sees it.
        assert_eq!(
            element_text(&text, "sign"),
            Some(crate::crypto::response_sign("0", "m\u{FFFD}", key))
        );
        assert!(has_forbidden("\u{1F}") && has_forbidden("\u{FFFF}") && has_forbidden("\u{0}"));
        assert!(!has_forbidden("\t\r\n 中文 \u{FFFD} \u{10FFFF} \u{7F}"));
    }

    #[test]
    fn cdata_with_its_terminator_round_trips() {
        for value in ["a]]>b", "]]>", "]]]]>>", "x]]", "plain", ""] {
            let mut out = String::from("<r><v>");
            cdata_into(&mut out, value);
            out.push_str("</v></r>");
            assert_eq!(element_text(&out, "v").as_deref(), Some(value), "{out}");
        }
    }

    #[test]
    fn elements_are_read_whatever_their_spelling() {
        let read = |x: &str| element_text(x, "retcode");
        assert_eq!(
            read("\u{feff}<?xml version=\"1.0\"?>\r\n<root>\n <retcode> 0 </retcode></root>")
                .as_deref(),
            Some(" 0 ")
        );
        assert_eq!(
            read("<ROOT><RetCode type=\"int\">-1</RetCode></ROOT>").as_deref(),
            Some("-1")
        );
        assert_eq!(
            read("<root><retcode><![CDATA[0]]></retcode></root>").as_deref(),
            Some("0")
        );
        assert_eq!(
            read("<root><retcode>&#48;&amp;</retcode></root>").as_deref(),
            Some("0&")
        );
        assert_eq!(read("<root><retcode/></root>").as_deref(), Some(""));
        assert_eq!(read("<root><retmsg>x</retmsg></root>"), None);
        assert_eq!(read("<root><retcode>0</retmsg></root>"), None);
        assert_eq!(read("OK"), None);
    }

    #[test]
    fn money_has_two_decimals() {
        assert_eq!(money(23500), "235.00");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(-1050), "-10.50");
        assert_eq!(money(0), "0.00");
    }
}
