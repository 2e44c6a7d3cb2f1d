//! The catalogue file format (`boxoffice catalog apply FILE`), described in `docs/catalog.md`:
//! TOML with venues (screens with seat grids, films, ticket types, goods, sessions with prices,
//! scenic settings, lines and products) and partners with their protocol credentials.
//!
//! Reading is strict: every table refuses unknown keys, credential options are read as the
//! typed options of their protocol, and values are checked after reading. Every refusal names
//! where it is as a key path into the file — `venue[0].screen[1].area[0].rows[2]: …`, arrays of
//! tables counted from 0 in file order — followed by what is wrong.

use boxoffice_core::catalog::{
    Area, CatalogError, Credential, CredentialOptions, Film, Goods, Partner, Price, Protocol, Row,
    Screen, Seat, SeatKey, SeatKind, SeatStyle, Session, TicketType, Venue, VenueKind,
    YbxAgentOptions, YuekeChannelOptions,
};
use boxoffice_core::scenic::{FeeRule, Line, Product, ScenicSettings};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// Why a catalogue file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CatalogFileError {
    /// Not valid TOML, an unknown key, or a value of the wrong type or form (`PATH: message
    /// (line L, column C)`).
    #[error("catalogue file: {0}")]
    Syntax(String),
    /// Valid TOML that does not describe a consistent catalogue (`PATH: message`).
    #[error("catalogue file: {0}")]
    Invalid(#[from] CatalogError),
}

type Checked<T = ()> = Result<T, CatalogError>;

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Checked<T> {
    Err(CatalogError::at(path, message))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    venue: Vec<VenueDoc>,
    #[serde(default)]
    partner: Vec<PartnerDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VenueDoc {
    code: String,
    name: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    kind: VenueKind,
    #[serde(default)]
    national_id: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    city_code: String,
    #[serde(default)]
    sales_cutoff_minutes: i64,
    #[serde(default)]
    refund_before_minutes: Option<i64>,
    #[serde(default)]
    refund_limit_per_session: Option<i64>,
    #[serde(default)]
    links: BTreeMap<String, String>,
    #[serde(default)]
    screen: Vec<ScreenDoc>,
    #[serde(default)]
    film: Vec<Film>,
    #[serde(default)]
    ticket_type: Vec<TicketType>,
    #[serde(default)]
    goods: Vec<Goods>,
    #[serde(default)]
    max_goods_per_item: Option<i64>,
    #[serde(default)]
    session: Vec<SessionDoc>,
    #[serde(default)]
    scenic: Option<ScenicSettings>,
    #[serde(default)]
    product: Vec<Product>,
    #[serde(default)]
    line: Vec<Line>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScreenDoc {
    number: i32,
    name: String,
    #[serde(default)]
    name_alt: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    layout_effective_date: Option<NaiveDate>,
    #[serde(default)]
    area: Vec<AreaDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaDoc {
    number: i32,
    category: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    columns: Option<i32>,
    rows: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionDoc {
    code: String,
    screen: i32,
    film: String,
    start: String,
    #[serde(default)]
    attributes: Vec<String>,
    #[serde(default)]
    price_group: String,
    #[serde(default)]
    sold_out: bool,
    #[serde(default)]
    sales_closed: bool,
    #[serde(default)]
    prices: Vec<PriceDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceDoc {
    ticket: String,
    area: String,
    price: i64,
    #[serde(default)]
    booking_fee: i64,
}

/// Opening balances of a partner's accounts, in fen.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AccountsDoc {
    #[serde(default)]
    deposit: Option<i64>,
    #[serde(default)]
    rebate: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerDoc {
    code: String,
    name: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    venues: Vec<String>,
    #[serde(default)]
    credential: Vec<CredentialDoc>,
    #[serde(default)]
    accounts: AccountsDoc,
}

/// A credential as written; `options` is read by [`read_options`] once the protocol is known.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialDoc {
    protocol: Protocol,
    key: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    options: toml::Table,
}

/// A parsed, validated catalogue.
#[derive(Debug, Clone, Default)]
pub struct CatalogFile {
    /// Venues.
    pub venues: Vec<Venue>,
    /// Sessions with the code of their venue.
    pub sessions: Vec<(String, Session)>,
    /// Partners.
    pub partners: Vec<Partner>,
}

impl CatalogFile {
    /// Parses and checks a catalogue; relative dates (`today+1 10:50`) are resolved against
    /// `today`. What partners name outside the file (venues already stored) is checked when the
    /// catalogue is applied (`Boxoffice::apply_catalog`).
    pub fn parse(text: &str, today: NaiveDate) -> Result<CatalogFile, CatalogFileError> {
        let doc: FileDoc = read_toml(text)?;
        let mut out = CatalogFile::default();
        unique(
            doc.venue.iter().map(|v| v.code.as_str()),
            "venue",
            ".code",
            "venue code",
        )?;
        check_links(&doc.venue)?;
        for (i, v) in doc.venue.into_iter().enumerate() {
            let (venue, sessions) = build_venue(&format!("venue[{i}]"), v, today)?;
            out.sessions
                .extend(sessions.into_iter().map(|s| (venue.code.clone(), s)));
            out.venues.push(venue);
        }
        unique(
            doc.partner.iter().map(|p| p.code.as_str()),
            "partner",
            ".code",
            "partner code",
        )?;
        let mut keys = HashSet::new();
        for (i, p) in doc.partner.into_iter().enumerate() {
            out.partners
                .push(build_partner(&format!("partner[{i}]"), p, &mut keys)?);
        }
        Ok(out)
    }
}

/// Reads TOML into `T`, naming the key path of the first error and its line and column.
fn read_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, CatalogFileError> {
    serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let mut msg = inner.message().trim().replace('\n', ": ");
        if let Some(span) = inner.span() {
            let (line, column) = line_and_column(text, span.start);
            msg = format!("{msg} (line {line}, column {column})");
        }
        CatalogFileError::Syntax(if path == "." {
            msg
        } else {
            format!("{path}: {msg}")
        })
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary_compat(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// `str::floor_char_boundary` for the toolchain this crate supports.
trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, i: usize) -> usize {
        let mut i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// Refuses the second of two equal items: `{array}[i]{field}: {what} "X" is already used by
/// {array}[j]`.
fn unique<'a>(
    items: impl Iterator<Item = &'a str>,
    array: &str,
    field: &str,
    what: &str,
) -> Checked {
    let mut seen: Vec<&str> = Vec::new();
    for (i, item) in items.enumerate() {
        if let Some(j) = seen.iter().position(|s| *s == item) {
            return err(
                format!("{array}[{i}]{field}"),
                format!("{what} \"{item}\" is already used by {array}[{j}]"),
            );
        }
        seen.push(item);
    }
    Ok(())
}

/// A required text is not empty.
fn required(path: String, value: &str) -> Checked {
    if value.trim().is_empty() {
        return err(path, "must not be empty");
    }
    Ok(())
}

/// A number is at least `least`.
fn at_least(path: String, value: i64, least: i64) -> Checked {
    if value < least {
        return err(path, format!("must be {least} or more (is {value})"));
    }
    Ok(())
}

/// Venue links: only protocols that name venues their own way, that sell the venue's kind,
/// one venue per identifier.
fn check_links(venues: &[VenueDoc]) -> Checked {
    let mut seen: Vec<(Protocol, &str, usize)> = Vec::new();
    for (i, v) in venues.iter().enumerate() {
        for (name, id) in &v.links {
            let at = format!("venue[{i}].links.{name}");
            let Some(protocol) = Protocol::parse(name) else {
                return err(at, format!("unknown protocol \"{name}\" (yueke or ybx)"));
            };
            if !protocol.links_venues() {
                return err(at, format!("{protocol} names a venue by its code; no link"));
            }
            if !protocol.sells(v.kind) {
                return err(
                    at,
                    format!("{protocol} does not sell a {}", v.kind.as_str()),
                );
            }
            required(at.clone(), id)?;
            if let Some((_, _, j)) = seen.iter().find(|(p, x, _)| *p == protocol && x == id) {
                return err(at, format!("\"{id}\" is already the link of venue[{j}]"));
            }
            seen.push((protocol, id, i));
        }
    }
    Ok(())
}

/// A scenic area has no screens, films or sessions; only a scenic area has scenic settings,
/// lines and products.
fn check_kind_tables(at: &str, v: &VenueDoc) -> Checked {
    if v.kind == VenueKind::ScenicArea {
        for (key, n) in [
            ("screen", v.screen.len()),
            ("session", v.session.len()),
            ("film", v.film.len()),
        ] {
            if n > 0 {
                return err(
                    format!("{at}.{key}"),
                    "a scenic_area sells products by visit date, not sessions",
                );
            }
        }
    } else if let Some(key) = [
        ("scenic", v.scenic.is_some()),
        ("product", !v.product.is_empty()),
        ("line", !v.line.is_empty()),
    ]
    .into_iter()
    .find_map(|(k, present)| present.then_some(k))
    {
        return err(
            format!("{at}.{key}"),
            format!("a {} has no {key}; only a scenic_area has", v.kind.as_str()),
        );
    }
    Ok(())
}

/// A venue and its sessions from its table.
fn build_venue(at: &str, v: VenueDoc, today: NaiveDate) -> Checked<(Venue, Vec<Session>)> {
    required(format!("{at}.code"), &v.code)?;
    required(format!("{at}.name"), &v.name)?;
    if let Some(limit) = v.refund_limit_per_session {
        at_least(format!("{at}.refund_limit_per_session"), limit, 0)?;
    }
    if let Some(most) = v.max_goods_per_item {
        at_least(format!("{at}.max_goods_per_item"), most, 1)?;
    }
    check_kind_tables(at, &v)?;
    let mut screens = Vec::new();
    for (i, s) in v.screen.into_iter().enumerate() {
        screens.push(build_screen(&format!("{at}.screen[{i}]"), s)?);
    }
    unique(
        screens
            .iter()
            .map(|s| s.number.to_string())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
        &format!("{at}.screen"),
        ".number",
        "screen number",
    )?;
    check_films(at, &v.film)?;
    check_ticket_types(at, &v.ticket_type)?;
    check_goods(at, &v.goods)?;
    check_scenic(at, &v.product, &v.line, v.scenic.as_ref())?;
    let venue = Venue {
        id: 0,
        code: v.code,
        name: v.name,
        display_name: v.display_name,
        kind: v.kind,
        national_id: v.national_id,
        phone: v.phone,
        email: v.email,
        address: v.address,
        city: v.city,
        city_code: v.city_code,
        sales_cutoff_minutes: v.sales_cutoff_minutes,
        refund_before_minutes: v.refund_before_minutes,
        refund_limit_per_session: v.refund_limit_per_session,
        links: v.links,
        screens,
        films: v.film,
        ticket_types: v.ticket_type,
        goods: v.goods,
        max_goods_per_item: v.max_goods_per_item.unwrap_or(10),
        scenic: v.scenic,
        products: v.product,
        lines: v.line,
    };
    unique(
        v.session.iter().map(|s| s.code.as_str()),
        &format!("{at}.session"),
        ".code",
        "session code",
    )?;
    let mut sessions = Vec::new();
    for (i, s) in v.session.into_iter().enumerate() {
        sessions.push(build_session(
            &format!("{at}.session[{i}]"),
            &venue,
            s,
            today,
        )?);
    }
    Ok((venue, sessions))
}

/// A screen and its seat grids.
fn build_screen(at: &str, s: ScreenDoc) -> Checked<Screen> {
    at_least(format!("{at}.number"), i64::from(s.number), 1)?;
    required(format!("{at}.name"), &s.name)?;
    unique(
        s.area
            .iter()
            .map(|a| a.number.to_string())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
        &format!("{at}.area"),
        ".number",
        "area number",
    )?;
    let mut areas = Vec::new();
    for (i, a) in s.area.into_iter().enumerate() {
        areas.push(parse_area(&format!("{at}.area[{i}]"), a)?);
    }
    Ok(Screen {
        number: s.number,
        name: s.name,
        name_alt: s.name_alt,
        kind: if s.kind.is_empty() {
            "N".into()
        } else {
            s.kind
        },
        layout_effective_date: s.layout_effective_date,
        areas,
    })
}

fn check_films(at: &str, films: &[Film]) -> Checked {
    unique(
        films.iter().map(|f| f.code.as_str()),
        &format!("{at}.film"),
        ".code",
        "film code",
    )?;
    for (i, f) in films.iter().enumerate() {
        required(format!("{at}.film[{i}].code"), &f.code)?;
        required(format!("{at}.film[{i}].title"), &f.title)?;
        at_least(
            format!("{at}.film[{i}].runtime_minutes"),
            i64::from(f.runtime_minutes),
            0,
        )?;
    }
    Ok(())
}

fn check_ticket_types(at: &str, types: &[TicketType]) -> Checked {
    unique(
        types.iter().map(|t| t.code.as_str()),
        &format!("{at}.ticket_type"),
        ".code",
        "ticket type code",
    )?;
    for (i, t) in types.iter().enumerate() {
        required(format!("{at}.ticket_type[{i}].code"), &t.code)?;
        at_least(
            format!("{at}.ticket_type[{i}].max_per_order"),
            i64::from(t.max_per_order),
            1,
        )?;
    }
    Ok(())
}

fn check_goods(at: &str, goods: &[Goods]) -> Checked {
    unique(
        goods.iter().map(|g| g.code.as_str()),
        &format!("{at}.goods"),
        ".code",
        "goods code",
    )?;
    for (i, g) in goods.iter().enumerate() {
        required(format!("{at}.goods[{i}].code"), &g.code)?;
        at_least(format!("{at}.goods[{i}].price"), g.price, 0)?;
        if let Some(p) = g.settle_price {
            at_least(format!("{at}.goods[{i}].settle_price"), p, 0)?;
        }
    }
    Ok(())
}

/// A session: its screen, film, ticket types and area categories exist; prices are not
/// negative and not given twice.
fn build_session(at: &str, venue: &Venue, s: SessionDoc, today: NaiveDate) -> Checked<Session> {
    required(format!("{at}.code"), &s.code)?;
    let Some(screen) = venue.screen(s.screen) else {
        return err(
            format!("{at}.screen"),
            format!("unknown screen {} at venue \"{}\"", s.screen, venue.code),
        );
    };
    if venue.film(&s.film).is_none() {
        return err(
            format!("{at}.film"),
            format!("unknown film \"{}\" at venue \"{}\"", s.film, venue.code),
        );
    }
    let Some(start) = parse_start(&s.start, today) else {
        return err(
            format!("{at}.start"),
            format!(
                "\"{}\" is not `today[±N] HH:MM`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]`",
                s.start
            ),
        );
    };
    let mut prices: Vec<Price> = Vec::new();
    for (i, p) in s.prices.into_iter().enumerate() {
        let at = format!("{at}.prices[{i}]");
        if venue.ticket_type(&p.ticket).is_none() {
            return err(
                format!("{at}.ticket"),
                format!(
                    "unknown ticket type \"{}\" at venue \"{}\"",
                    p.ticket, venue.code
                ),
            );
        }
        if !screen.areas.iter().any(|a| a.category == p.area) {
            return err(
                format!("{at}.area"),
                format!(
                    "unknown area category \"{}\" in screen {}",
                    p.area, s.screen
                ),
            );
        }
        at_least(format!("{at}.price"), p.price, 0)?;
        at_least(format!("{at}.booking_fee"), p.booking_fee, 0)?;
        if let Some(j) = prices
            .iter()
            .position(|q| q.ticket_type == p.ticket && q.area_category == p.area)
        {
            return err(
                at,
                format!(
                    "ticket type \"{}\" in area category \"{}\" is already priced by prices[{j}]",
                    p.ticket, p.area
                ),
            );
        }
        prices.push(Price {
            ticket_type: p.ticket,
            area_category: p.area,
            price: p.price,
            booking_fee: p.booking_fee,
        });
    }
    Ok(Session {
        id: 0,
        venue_id: 0,
        code: s.code,
        screen: s.screen,
        film: s.film,
        start,
        attributes: s.attributes,
        price_group: s.price_group,
        prices,
        sold_out: s.sold_out,
        sales_closed: s.sales_closed,
    })
}

/// A scenic area's products, lines and settings.
fn check_scenic(
    at: &str,
    products: &[Product],
    lines: &[Line],
    scenic: Option<&ScenicSettings>,
) -> Checked {
    let ids: Vec<String> = products.iter().map(|p| p.id.to_ascii_uppercase()).collect();
    unique(
        ids.iter().map(String::as_str),
        &format!("{at}.product"),
        ".id",
        "product id (compared case-insensitively)",
    )?;
    unique(
        lines.iter().map(|l| l.code.as_str()),
        &format!("{at}.line"),
        ".code",
        "line code",
    )?;
    for (i, l) in lines.iter().enumerate() {
        check_line(&format!("{at}.line[{i}]"), l)?;
    }
    for (i, p) in products.iter().enumerate() {
        check_product(&format!("{at}.product[{i}]"), p, lines)?;
    }
    if let Some(s) = scenic {
        check_settings(&format!("{at}.scenic"), s)?;
    }
    Ok(())
}

/// `HH:MM`.
fn clock_time(path: String, t: &str) -> Checked<NaiveTime> {
    match NaiveTime::parse_from_str(t, "%H:%M") {
        Ok(time) if t.len() == 5 => Ok(time),
        _ => err(path, format!("\"{t}\" is not a time HH:MM")),
    }
}

fn check_line(at: &str, l: &Line) -> Checked {
    required(format!("{at}.code"), &l.code)?;
    let indexes: Vec<String> = l.segments.iter().map(|s| s.index.to_string()).collect();
    unique(
        indexes.iter().map(String::as_str),
        &format!("{at}.segment"),
        ".index",
        "segment index",
    )?;
    for (i, s) in l.segments.iter().enumerate() {
        let at = format!("{at}.segment[{i}]");
        at_least(format!("{at}.index"), i64::from(s.index), 1)?;
        let start = clock_time(format!("{at}.start"), &s.start)?;
        let end = clock_time(format!("{at}.end"), &s.end)?;
        if end <= start {
            return err(
                format!("{at}.end"),
                format!("{} is not after the start {}", s.end, s.start),
            );
        }
        at_least(format!("{at}.capacity"), s.capacity, 0)?;
        at_least(format!("{at}.desk_capacity"), s.desk_capacity, 0)?;
    }
    Ok(())
}

/// `yyyyMMdd` or empty.
fn compact_date(path: String, d: &str) -> Checked {
    if !d.is_empty() && (d.len() != 8 || NaiveDate::parse_from_str(d, "%Y%m%d").is_err()) {
        return err(path, format!("\"{d}\" is not a date yyyyMMdd"));
    }
    Ok(())
}

fn check_product(at: &str, p: &Product, lines: &[Line]) -> Checked {
    required(format!("{at}.id"), &p.id)?;
    required(format!("{at}.name"), &p.name)?;
    at_least(format!("{at}.price"), p.price, 0)?;
    if !(0..=1).contains(&p.class) {
        return err(
            format!("{at}.class"),
            format!("must be 0 or 1 (is {})", p.class),
        );
    }
    at_least(format!("{at}.min_per_order"), p.min_per_order, 1)?;
    at_least(
        format!("{at}.max_per_order"),
        p.max_per_order,
        p.min_per_order,
    )?;
    at_least(format!("{at}.per_id_daily_max"), p.per_id_daily_max, 0)?;
    if let Some(m) = p.daily_max {
        at_least(format!("{at}.daily_max"), m, 0)?;
    }
    for (key, n) in [
        ("order_validity_days", p.order_validity_days),
        ("validity_days", p.validity_days),
        ("lead_days", p.lead_days),
        ("delivery_days", p.delivery_days),
    ] {
        at_least(format!("{at}.{key}"), n, 0)?;
    }
    if !matches!(p.effect_mode.as_str(), "A" | "B") {
        return err(
            format!("{at}.effect_mode"),
            format!("\"{}\" is not A or B", p.effect_mode),
        );
    }
    compact_date(format!("{at}.effect_from"), &p.effect_from)?;
    compact_date(format!("{at}.effect_to"), &p.effect_to)?;
    if !p.effect_from.is_empty() && !p.effect_to.is_empty() && p.effect_to < p.effect_from {
        return err(format!("{at}.effect_to"), "is before effect_from");
    }
    if let (Some(from), Some(to)) = (p.valid_from, p.valid_to) {
        if to < from {
            return err(
                format!("{at}.valid_to"),
                format!("{to} is before valid_from {from}"),
            );
        }
    }
    if let Some((i, l)) = p
        .lines
        .iter()
        .enumerate()
        .find(|(_, l)| !lines.iter().any(|x| &x.code == *l))
    {
        return err(
            format!("{at}.lines[{i}]"),
            format!("no line \"{l}\" at this venue"),
        );
    }
    if let Some(f) = &p.free {
        at_least(format!("{at}.free.per"), f.per, 1)?;
        at_least(format!("{at}.free.free"), f.free, 0)?;
        if let (Some(from), Some(to)) = (f.from, f.to) {
            if to < from {
                return err(
                    format!("{at}.free.to"),
                    format!("{to} is before from {from}"),
                );
            }
        }
    }
    Ok(())
}

fn check_settings(at: &str, s: &ScenicSettings) -> Checked {
    if !(0..=2).contains(&s.remote_activation) {
        return err(
            format!("{at}.remote_activation"),
            format!("must be 0, 1 or 2 (is {})", s.remote_activation),
        );
    }
    if !(1..=3).contains(&s.gate_medium) {
        return err(
            format!("{at}.gate_medium"),
            format!("must be 1, 2 or 3 (is {})", s.gate_medium),
        );
    }
    at_least(
        format!("{at}.pay_timeout_minutes"),
        s.pay_timeout_minutes,
        1,
    )?;
    at_least(format!("{at}.daily_max"), s.daily_max, 0)?;
    for (i, c) in s.epay_channels.iter().enumerate() {
        if !["01", "02", "03"].contains(&c.as_str()) {
            return err(
                format!("{at}.epay_channels[{i}]"),
                format!("unknown payment channel \"{c}\" (01, 02 or 03)"),
            );
        }
    }
    unique(
        s.epay_channels.iter().map(String::as_str),
        &format!("{at}.epay_channels"),
        "",
        "payment channel",
    )?;
    for (i, f) in s.fees.iter().enumerate() {
        check_fee(&format!("{at}.fees[{i}]"), f)?;
    }
    Ok(())
}

fn check_fee(at: &str, f: &FeeRule) -> Checked {
    if !matches!(f.unit.as_str(), "D" | "H") {
        return err(
            format!("{at}.unit"),
            format!("\"{}\" is not D or H", f.unit),
        );
    }
    match (f.percent, f.amount) {
        (Some(_), Some(_)) | (None, None) => {
            err(at.to_string(), "needs exactly one of percent and amount")
        }
        (Some(p), None) if !(0..=100).contains(&p) => err(
            format!("{at}.percent"),
            format!("must be 0 to 100 (is {p})"),
        ),
        (None, Some(a)) => at_least(format!("{at}.amount"), a, 0),
        _ => Ok(()),
    }
}

/// A partner, its credentials (typed options per protocol) and opening balances.
fn build_partner(
    at: &str,
    p: PartnerDoc,
    keys: &mut HashSet<(Protocol, String)>,
) -> Checked<Partner> {
    required(format!("{at}.code"), &p.code)?;
    required(format!("{at}.name"), &p.name)?;
    unique(
        p.venues.iter().map(String::as_str),
        &format!("{at}.venues"),
        "",
        "venue",
    )?;
    let protocols: Vec<String> = p
        .credential
        .iter()
        .map(|c| c.protocol.to_string())
        .collect();
    unique(
        protocols.iter().map(String::as_str),
        &format!("{at}.credential"),
        ".protocol",
        "protocol",
    )?;
    let mut credentials = Vec::new();
    for (i, c) in p.credential.into_iter().enumerate() {
        let at = format!("{at}.credential[{i}]");
        if !keys.insert((c.protocol, c.key.clone())) {
            return err(
                format!("{at}.key"),
                format!("this {} key is already another credential's", c.protocol),
            );
        }
        credentials.push(build_credential(&at, c)?);
    }
    let mut accounts = BTreeMap::new();
    for (name, balance) in [
        ("deposit", p.accounts.deposit),
        ("rebate", p.accounts.rebate),
    ] {
        if let Some(b) = balance {
            at_least(format!("{at}.accounts.{name}"), b, 0)?;
            accounts.insert(name.to_string(), b);
        }
    }
    Ok(Partner {
        id: 0,
        code: p.code,
        name: p.name,
        channel: p.channel,
        venues: p.venues,
        credentials,
        accounts,
    })
}

/// A credential: its key and secret as the protocol needs them, its options read as the
/// protocol's typed options.
fn build_credential(at: &str, c: CredentialDoc) -> Checked<Credential> {
    required(format!("{at}.key"), &c.key)?;
    match (c.protocol, c.secret.as_deref()) {
        (Protocol::Vista, Some(_)) => {
            return err(format!("{at}.secret"), "a vista token has no secret")
        }
        (Protocol::Yueke, None) => {
            return err(
                format!("{at}.secret"),
                "a yueke channel needs its signing secret",
            )
        }
        (Protocol::Yueke, Some(s)) => required(format!("{at}.secret"), s)?,
        (Protocol::Ybx, Some(s)) if s.chars().count() != 36 => {
            return err(
                format!("{at}.secret"),
                format!(
                    "a 游宝星 data key has 36 characters (this one {})",
                    s.chars().count()
                ),
            )
        }
        (Protocol::Ybx, None) => {
            return err(
                format!("{at}.secret"),
                "a 游宝星 agent needs its 36-character data key",
            )
        }
        _ => {}
    }
    let options = read_options(&format!("{at}.options"), c.protocol, c.options)?;
    Ok(Credential {
        protocol: c.protocol.as_str().to_string(),
        key: c.key,
        secret: c.secret,
        options: options.to_map(),
    })
}

/// Reads a credential's options as its protocol's typed options and checks their values.
fn read_options(at: &str, protocol: Protocol, table: toml::Table) -> Checked<CredentialOptions> {
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(toml::Value::Table(table), &mut track);
    let options = CredentialOptions::deserialize(protocol, de).map_err(|e| {
        let path = track.path().to_string();
        let msg = e.message().trim().to_string();
        if path == "." {
            CatalogError::at(at, msg)
        } else {
            CatalogError::at(format!("{at}.{path}"), msg)
        }
    })?;
    match &options {
        CredentialOptions::Ybx(o) => check_ybx_options(at, o)?,
        CredentialOptions::Yueke(o) => check_yueke_options(at, o)?,
        CredentialOptions::Vista(_) => {}
    }
    Ok(options)
}

/// 32 hexadecimal digits (an MD5 digest).
fn md5_hex(path: String, value: &str) -> Checked {
    if value.len() != 32 || !value.chars().all(|c| c.is_ascii_hexdigit()) {
        return err(path, "must be 32 hexadecimal digits (an MD5 digest)");
    }
    Ok(())
}

fn check_ybx_options(at: &str, o: &YbxAgentOptions) -> Checked {
    md5_hex(format!("{at}.login_md5"), &o.login_md5)?;
    if let Some(pay) = &o.pay_md5 {
        md5_hex(format!("{at}.pay_md5"), pay)?;
    }
    if let Some(t) = &o.unit_type {
        if !matches!(t.as_str(), "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8") {
            return err(
                format!("{at}.unit_type"),
                format!("\"{t}\" is not \"1\" to \"8\""),
            );
        }
    }
    at_least(format!("{at}.daily_max"), o.daily_max, 0)?;
    for (i, id) in o.products.iter().enumerate() {
        required(format!("{at}.products[{i}]"), id)?;
    }
    for (id, price) in &o.prices {
        at_least(format!("{at}.prices.\"{id}\""), *price, 0)?;
    }
    Ok(())
}

fn check_yueke_options(at: &str, o: &YuekeChannelOptions) -> Checked {
    for (i, api) in o.apis.iter().enumerate() {
        if api != "*" && !api.starts_with("ykse.partner.") {
            return err(
                format!("{at}.apis[{i}]"),
                format!("\"{api}\" is not \"*\" or an API name ykse.partner.…"),
            );
        }
    }
    if let Some(t) = &o.ticket_type {
        required(format!("{at}.ticket_type"), t)?;
    }
    Ok(())
}

/// Parses `today+N HH:MM`, `today HH:MM`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]`.
fn parse_start(s: &str, today: NaiveDate) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("today") {
        let (days, time) = rest
            .trim()
            .split_once(' ')
            .unwrap_or((rest.trim(), "00:00"));
        let days: i64 = if days.is_empty() {
            0
        } else {
            days.replace('+', "").parse().ok()?
        };
        let time = NaiveTime::parse_from_str(time.trim(), "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(time.trim(), "%H:%M:%S"))
            .ok()?;
        return Some(
            today
                .checked_add_signed(Duration::try_days(days)?)?
                .and_time(time),
        );
    }
    [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// Parses an area grid: each row is `NAME | cell cell …` where a cell is `.` (aisle) or a seat
/// name with optional `@` flags: `h` house, `w` wheelchair/special, `x` broken, `p` placeholder,
/// `c` companion, `L`/`M`/`R` sofa left/middle/right. A row named `-` is a gap row. A hand-written
/// parser: the grid is a small picture language of its own, not a data format a crate reads.
fn parse_area(at: &str, a: AreaDoc) -> Checked<Area> {
    at_least(format!("{at}.number"), i64::from(a.number), 1)?;
    required(format!("{at}.category"), &a.category)?;
    let mut rows = Vec::new();
    let mut widest = 0;
    let mut names: Vec<&str> = Vec::new();
    for (ri, line) in a.rows.iter().enumerate() {
        let at = format!("{at}.rows[{ri}]");
        let Some((name, cells)) = line.split_once('|') else {
            return err(at, format!("{line:?} is not `NAME | cells`"));
        };
        let name = name.trim();
        required(at.clone(), name)?;
        if name != "-" {
            if names.contains(&name) {
                return err(
                    at,
                    format!("row \"{name}\" is already named by an earlier row"),
                );
            }
            names.push(name);
        }
        let cells: Vec<&str> = cells.split_whitespace().collect();
        widest = widest.max(cells.len());
        let row = ri32(ri);
        rows.push(Row {
            physical_name: (name != "-").then(|| name.to_string()),
            seats: parse_row(&at, name, a.number, row, &cells)?,
        });
    }
    let column_count = a.columns.unwrap_or(ri32(widest));
    if ri32(widest) > column_count {
        return err(
            format!("{at}.columns"),
            format!("{column_count} columns, but a row has {widest} cells"),
        );
    }
    Ok(Area {
        number: a.number,
        category: a.category,
        description: a.description,
        column_count,
        rows,
    })
}

fn ri32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The seats of one grid row.
fn parse_row(at: &str, name: &str, area: i32, row: i32, cells: &[&str]) -> Checked<Vec<Seat>> {
    let mut seats = Vec::new();
    let mut names = HashSet::new();
    for (ci, cell) in cells.iter().enumerate() {
        if *cell == "." {
            continue;
        }
        let (seat_name, flags) = cell.split_once('@').unwrap_or((cell, ""));
        if seat_name.is_empty() {
            return err(
                at,
                format!("row \"{name}\": cell {cell:?} has no seat name"),
            );
        }
        if !names.insert(seat_name) {
            return err(at, format!("row \"{name}\" repeats seat {seat_name}"));
        }
        let mut kind = SeatKind::Normal;
        let mut style = SeatStyle::Normal;
        for f in flags.chars() {
            match f {
                'h' => kind = SeatKind::House,
                'w' => kind = SeatKind::Special,
                'x' => kind = SeatKind::Broken,
                'p' => kind = SeatKind::Placeholder,
                'c' => kind = SeatKind::Companion,
                'L' => style = SeatStyle::SofaLeft,
                'M' => style = SeatStyle::SofaMiddle,
                'R' => style = SeatStyle::SofaRight,
                other => {
                    return err(
                        at,
                        format!("row \"{name}\": seat {seat_name} has an unknown flag {other:?} (h w x p c L M R)"),
                    )
                }
            }
        }
        seats.push(Seat {
            key: SeatKey {
                area,
                row,
                column: ri32(ci),
            },
            name: seat_name.to_string(),
            kind,
            style,
            priority: 0,
        });
    }
    Ok(seats)
}
#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// Every TOML example of docs/catalog.md, in order: together they are one catalogue.
    fn doc_examples() -> String {
        let doc = include_str!("../../../docs/catalog.md");
        doc.split("```toml\n")
            .skip(1)
            .map(|block| block.split("```").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A small catalogue touching every table: a cinema, a scenic area and three partners.
    const BASE: &str = r#"
[[venue]]
code = "C1"
name = "Cinema"
links = { yueke = "777" }
[[venue.screen]]
number = 1
name = "Hall 1"
[[venue.screen.area]]
number = 1
category = "STD"
rows = ["B | 2 1", "A | 2 1@h"]
[[venue.film]]
code = "F1"
title = "Film"
[[venue.ticket_type]]
code = "T1"
description = "Adult"
[[venue.goods]]
code = "G1"
name = "Popcorn"
price = 1000
[[venue.session]]
code = "S1"
screen = 1
film = "F1"
start = "today+1 10:50"
prices = [{ ticket = "T1", area = "STD", price = 5000 }]

[[venue]]
code = "P1"
name = "Park"
kind = "scenic_area"
links = { ybx = "P1" }
[venue.scenic]
remote_activation = 1
fees = [{ unit_count = 0, percent = 20 }]
[[venue.line]]
code = "01"
name = "Main"
segment = [{ index = 1, start = "08:00", end = "10:00", capacity = 300 }]
[[venue.product]]
id = "ADULT"
name = "Adult"
price = 12000
lines = ["01"]

[[partner]]
code = "v"
name = "Vista partner"
[[partner.credential]]
protocol = "vista"
key = "TOKEN"
options = { allow_refunds = false }

[[partner]]
code = "y"
name = "Yueke partner"
[[partner.credential]]
protocol = "yueke"
key = "YK"
secret = "s"
options = { apis = ["*"], ticket_type = "T1" }

[[partner]]
code = "a"
name = "Agent"
venues = ["P1"]
accounts = { deposit = 100 }
[[partner.credential]]
protocol = "ybx"
key = "agent"
secret = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A", products = ["ADULT"], prices = { ADULT = 11000 } }
"#;

    /// The message refusing BASE with `from` replaced by `to`.
    fn refusal(from: &str, to: &str) -> String {
        assert_eq!(BASE.matches(from).count(), 1, "{from:?} once in BASE");
        let text = BASE.replacen(from, to, 1);
        match CatalogFile::parse(&text, today()) {
            Ok(_) => panic!("accepted with {to:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn assert_refused(from: &str, to: &str, expected: &str) {
        let msg = refusal(from, to);
        assert_eq!(msg, format!("catalogue file: {expected}"), "with {to:?}");
    }

    #[test]
    fn the_base_catalogue_is_accepted() {
        let c = CatalogFile::parse(BASE, today()).expect("BASE");
        assert_eq!(c.venues.len(), 2);
        assert_eq!(c.sessions.len(), 1);
        assert_eq!(c.partners.len(), 3);
        let vista = &c.partners[0].credentials[0];
        assert_eq!(vista.protocol, "vista");
        assert!(!vista.flag("allow_refunds", true));
        assert!(
            vista.flag("allow_external_payments", false),
            "default written"
        );
        let agent = &c.partners[2].credentials[0];
        assert_eq!(agent.options["products"], serde_json::json!(["ADULT"]));
        assert_eq!(c.partners[2].accounts.get("deposit"), Some(&100));
    }

    #[test]
    fn typos_are_refused_at_every_level() {
        for (from, to, path) in [
            ("name = \"Cinema\"", "nmae = \"Cinema\"", "venue[0].nmae"),
            (
                "name = \"Hall 1\"",
                "nane = \"Hall 1\"",
                "venue[0].screen[0].nane",
            ),
            (
                "category = \"STD\"",
                "categry = \"STD\"",
                "venue[0].screen[0].area[0].categry",
            ),
            (
                "title = \"Film\"",
                "titel = \"Film\"",
                "venue[0].film[0].titel",
            ),
            (
                "description = \"Adult\"",
                "descripton = \"Adult\"",
                "venue[0].ticket_type[0].descripton",
            ),
            ("price = 1000", "prise = 1000", "venue[0].goods[0].prise"),
            ("film = \"F1\"", "flim = \"F1\"", "venue[0].session[0].flim"),
            (
                "price = 5000 }",
                "price = 5000, fee = 1 }",
                "venue[0].session[0].prices[0].fee",
            ),
            (
                "remote_activation = 1",
                "remote_activaton = 1",
                "venue[1].scenic.remote_activaton",
            ),
            (
                "percent = 20 }",
                "percent = 20, per = 1 }",
                "venue[1].scenic.fees[0].per",
            ),
            (
                "capacity = 300 }",
                "capacity = 300, cap = 1 }",
                "venue[1].line[0].segment[0].cap",
            ),
            (
                "price = 12000",
                "prize = 12000",
                "venue[1].product[0].prize",
            ),
            ("name = \"Agent\"", "nam = \"Agent\"", "partner[2].nam"),
            (
                "key = \"TOKEN\"",
                "token = \"TOKEN\"",
                "partner[0].credential[0].token",
            ),
            (
                "allow_refunds = false",
                "allow_refund = false",
                "partner[0].credential[0].options.allow_refund",
            ),
            (
                "apis = [\"*\"]",
                "api = [\"*\"]",
                "partner[1].credential[0].options.api",
            ),
            (
                "products = [\"ADULT\"]",
                "product = [\"ADULT\"]",
                "partner[2].credential[0].options.product",
            ),
        ] {
            let msg = refusal(from, to);
            assert!(
                msg.starts_with(&format!("catalogue file: {path}: unknown field `")),
                "{to:?}: {msg}"
            );
        }
    }

    #[test]
    fn unknown_key_messages_name_the_line_and_the_known_keys() {
        let msg = refusal("title = \"Film\"", "titel = \"Film\"");
        assert!(msg.contains("expected one of `code`, `title`"), "{msg}");
        assert!(msg.ends_with("(line 15, column 1)"), "{msg}");
        let msg = refusal("allow_refunds = false", "payment_password = \"x\"");
        assert_eq!(
            msg,
            "catalogue file: partner[0].credential[0].options.payment_password: unknown field \
             `payment_password`, expected one of `allow_price_override`, `allow_refunds`, \
             `allow_external_payments`"
        );
    }

    #[test]
    fn wrong_types_and_unknown_names_are_refused() {
        for (from, to, expected) in [
            ("kind = \"scenic_area\"", "kind = \"park\"", "venue[1].kind: unknown variant `park`, expected one of `cinema`, `theatre`, `scenic_area`"),
            ("protocol = \"vista\"", "protocol = \"vistaa\"", "partner[0].credential[0].protocol: unknown variant `vistaa`, expected one of `vista`, `yueke`, `ybx`"),
            ("accounts = { deposit = 100 }", "accounts = { deposits = 100 }", "partner[2].accounts.deposits: unknown field `deposits`, expected `deposit` or `rebate`"),
            ("allow_refunds = false", "allow_refunds = \"no\"", "partner[0].credential[0].options.allow_refunds: invalid type: string \"no\", expected a boolean"),
        ] {
            let msg = refusal(from, to);
            assert!(msg.starts_with(&format!("catalogue file: {expected}")), "{to:?}: {msg}");
        }
        let msg = refusal(
            "number = 1\nname = \"Hall 1\"",
            "number = \"one\"\nname = \"Hall 1\"",
        );
        assert!(msg.starts_with("catalogue file: venue[0].screen[0].number: invalid type: string \"one\", expected i32"), "{msg}");
        let msg = refusal(
            "price = 12000",
            "price = 12000\nvalid_from = \"2026-13-01\"",
        );
        assert!(
            msg.starts_with("catalogue file: venue[1].product[0].valid_from: "),
            "{msg}"
        );
    }

    #[test]
    fn invalid_values_are_refused_with_their_path() {
        for (from, to, expected) in [
            ("rows = [\"B | 2 1\"", "rows = [\"B | 2 2\"", "venue[0].screen[0].area[0].rows[0]: row \"B\" repeats seat 2"),
            ("\"A | 2 1@h\"", "\"A | 2 1@q\"", "venue[0].screen[0].area[0].rows[1]: row \"A\": seat 1 has an unknown flag 'q' (h w x p c L M R)"),
            ("\"A | 2 1@h\"", "\"A 2 1\"", "venue[0].screen[0].area[0].rows[1]: \"A 2 1\" is not `NAME | cells`"),
            ("\"A | 2 1@h\"", "\"B | 2 1\"", "venue[0].screen[0].area[0].rows[1]: row \"B\" is already named by an earlier row"),
            ("price = 5000 }", "price = -1 }", "venue[0].session[0].prices[0].price: must be 0 or more (is -1)"),
            ("price = 1000", "price = -5", "venue[0].goods[0].price: must be 0 or more (is -5)"),
            ("price = 12000", "price = -5", "venue[1].product[0].price: must be 0 or more (is -5)"),
            ("start = \"today+1 10:50\"", "start = \"tomorrow\"", "venue[0].session[0].start: \"tomorrow\" is not `today[±N] HH:MM`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]`"),
            ("screen = 1\n", "screen = 3\n", "venue[0].session[0].screen: unknown screen 3 at venue \"C1\""),
            ("film = \"F1\"", "film = \"F9\"", "venue[0].session[0].film: unknown film \"F9\" at venue \"C1\""),
            ("ticket = \"T1\"", "ticket = \"T9\"", "venue[0].session[0].prices[0].ticket: unknown ticket type \"T9\" at venue \"C1\""),
            ("area = \"STD\"", "area = \"VIP\"", "venue[0].session[0].prices[0].area: unknown area category \"VIP\" in screen 1"),
            ("end = \"10:00\"", "end = \"07:00\"", "venue[1].line[0].segment[0].end: 07:00 is not after the start 08:00"),
            ("start = \"08:00\"", "start = \"8h\"", "venue[1].line[0].segment[0].start: \"8h\" is not a time HH:MM"),
            ("lines = [\"01\"]", "lines = [\"09\"]", "venue[1].product[0].lines[0]: no line \"09\" at this venue"),
            ("remote_activation = 1", "remote_activation = 5", "venue[1].scenic.remote_activation: must be 0, 1 or 2 (is 5)"),
            ("percent = 20 }", "percent = 20, amount = 5 }", "venue[1].scenic.fees[0]: needs exactly one of percent and amount"),
            ("code = \"P1\"", "code = \"C1\"", "venue[1].code: venue code \"C1\" is already used by venue[0]"),
            ("code = \"v\"", "code = \"a\"", "partner[2].code: partner code \"a\" is already used by partner[0]"),
            ("key = \"YK\"", "key = \"\"", "partner[1].credential[0].key: must not be empty"),
            ("secret = \"s\"\n", "", "partner[1].credential[0].secret: a yueke channel needs its signing secret"),
            ("key = \"TOKEN\"", "key = \"TOKEN\"\nsecret = \"x\"", "partner[0].credential[0].secret: a vista token has no secret"),
            ("secret = \"6F9619FF-8B86-D011-B42D-00C04FC964FF\"", "secret = \"short\"", "partner[2].credential[0].secret: a 游宝星 data key has 36 characters (this one 5)"),
            ("login_md5 = \"A540459139867E3EB98F0686EE199B2A\"", "login_md5 = \"demo-pass\"", "partner[2].credential[0].options.login_md5: must be 32 hexadecimal digits (an MD5 digest)"),
            ("ADULT = 11000", "ADULT = -1", "partner[2].credential[0].options.prices.\"ADULT\": must be 0 or more (is -1)"),
            ("apis = [\"*\"]", "apis = [\"getCinemas\"]", "partner[1].credential[0].options.apis[0]: \"getCinemas\" is not \"*\" or an API name ykse.partner.…"),
            ("accounts = { deposit = 100 }", "accounts = { deposit = -100 }", "partner[2].accounts.deposit: must be 0 or more (is -100)"),
            ("venues = [\"P1\"]", "venues = [\"P1\", \"P1\"]", "partner[2].venues[1]: venue \"P1\" is already used by partner[2].venues[0]"),
            ("links = { ybx = \"P1\" }", "links = { yueke = \"P1\" }", "venue[1].links.yueke: yueke does not sell a scenic_area"),
            ("links = { yueke = \"777\" }", "links = { yuke = \"777\" }", "venue[0].links.yuke: unknown protocol \"yuke\" (yueke or ybx)"),
            ("links = { yueke = \"777\" }", "links = { vista = \"777\" }", "venue[0].links.vista: vista names a venue by its code; no link"),
            ("kind = \"scenic_area\"\nlinks = { ybx = \"P1\" }", "", "venue[1].scenic: a cinema has no scenic; only a scenic_area has"),
        ] {
            assert_refused(from, to, expected);
        }
    }

    #[test]
    fn a_second_credential_of_a_protocol_or_a_shared_key_is_refused() {
        let second = "[[partner.credential]]\nprotocol = \"vista\"\nkey = \"OTHER\"\n\n[[partner]]\ncode = \"y\"";
        assert_refused(
            "\n[[partner]]\ncode = \"y\"",
            &format!("\n{second}"),
            "partner[0].credential[1].protocol: protocol \"vista\" is already used by partner[0].credential[0]",
        );
        assert_refused(
            "ticket_type = \"T1\" }",
            "ticket_type = \"T1\" }\n[[partner.credential]]\nprotocol = \"vista\"\nkey = \"TOKEN\"",
            "partner[1].credential[1].key: this vista key is already another credential's",
        );
    }

    #[test]
    fn the_documented_catalogue_parses() {
        let file = CatalogFile::parse(&doc_examples(), today()).expect("docs/catalog.md");
        let v = file
            .venues
            .iter()
            .find(|v| v.kind == VenueKind::ScenicArea)
            .unwrap();
        let scenic = v.scenic.as_ref().unwrap();
        assert!(scenic.segmented);
        assert_eq!(scenic.fees.len(), 3);
        assert_eq!(scenic.fee("*", 12000, 2, -1), 10000);
        assert_eq!(v.lines[0].segments.len(), 1);
        let p = &v.products[0];
        assert_eq!(p.daily_max, Some(500));
        assert_eq!(p.valid_to, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(p.free.as_ref().map(|f| (f.per, f.free)), Some((10, 1)));
        assert_eq!(file.sessions.len(), 1);
        assert_eq!(file.partners.len(), 2);
    }

    #[test]
    fn demo_catalogue_matches_the_document() {
        let c = CatalogFile::parse(crate::DEMO_CATALOG, today()).unwrap();
        let v = &c.venues[0];
        assert_eq!(v.code, "0200");
        let screen = v.screen(1).unwrap();
        assert_eq!(screen.seats().count(), 77);
        let area = &screen.areas[0];
        assert_eq!(area.row_count(), 7);
        assert_eq!(area.column_count, 12);
        assert_eq!(area.rows[0].physical_name.as_deref(), Some("7"));
        let at = |column| SeatKey {
            area: 1,
            row: 0,
            column,
        };
        assert!(screen.seat(at(0)).is_none(), "(0,0) is an aisle");
        assert_eq!(screen.seat(at(1)).unwrap().name, "10");
        assert_eq!(screen.seat(at(2)).unwrap().name, "9");
        let s = &c
            .sessions
            .iter()
            .find(|(_, s)| s.code == "29617")
            .unwrap()
            .1;
        assert_eq!(
            s.start,
            today().succ_opt().unwrap().and_hms_opt(10, 50, 0).unwrap()
        );
    }

    #[test]
    fn start_times() {
        assert_eq!(
            parse_start("today-1 23:59", today()),
            today().pred_opt().unwrap().and_hms_opt(23, 59, 0)
        );
        assert_eq!(
            parse_start("2026-01-02T03:04:05", today()),
            NaiveDate::from_ymd_opt(2026, 1, 2)
                .unwrap()
                .and_hms_opt(3, 4, 5)
        );
        assert_eq!(parse_start("tomorrow", today()), None);
        assert_eq!(parse_start("today+999999999999 10:00", today()), None);
    }
}
