//! The catalogue file format (`boxoffice catalog apply FILE`), described in `docs/catalog.md`:
//! TOML with venues (screens with seat grids, films, ticket types, sessions with prices) and
//! partners with their protocol credentials.

use boxoffice_core::catalog::{
    Area, Credential, Film, Partner, Price, Row, Screen, Seat, SeatKey, SeatKind, SeatStyle,
    Session, TicketType, Venue, VenueKind,
};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Deserialize;
use std::collections::HashSet;

/// Why a catalogue file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CatalogFileError {
    /// Not valid TOML, or fields of the wrong type.
    #[error("catalogue file: {0}")]
    Syntax(String),
    /// Valid TOML that does not describe a consistent catalogue.
    #[error("catalogue file: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> CatalogFileError {
    CatalogFileError::Invalid(msg.into())
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
    links: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    screen: Vec<ScreenDoc>,
    #[serde(default)]
    film: Vec<Film>,
    #[serde(default)]
    ticket_type: Vec<TicketType>,
    #[serde(default)]
    goods: Vec<boxoffice_core::catalog::Goods>,
    #[serde(default)]
    max_goods_per_item: Option<i64>,
    #[serde(default)]
    session: Vec<SessionDoc>,
    #[serde(default)]
    scenic: Option<boxoffice_core::scenic::ScenicSettings>,
    #[serde(default)]
    product: Vec<boxoffice_core::scenic::Product>,
    #[serde(default)]
    line: Vec<boxoffice_core::scenic::Line>,
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
    credential: Vec<Credential>,
    #[serde(default)]
    accounts: std::collections::BTreeMap<String, i64>,
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
    /// Parses a catalogue; relative dates (`today+1 10:50`) are resolved against `today`.
    pub fn parse(text: &str, today: NaiveDate) -> Result<CatalogFile, CatalogFileError> {
        let doc: FileDoc =
            toml::from_str(text).map_err(|e| CatalogFileError::Syntax(e.to_string()))?;
        let mut out = CatalogFile::default();
        let mut venue_codes = HashSet::new();
        for v in doc.venue {
            if !venue_codes.insert(v.code.clone()) {
                return Err(invalid(format!("venue {} is defined twice", v.code)));
            }
            let mut screens = Vec::new();
            for s in v.screen {
                let mut areas = Vec::new();
                for a in s.area {
                    areas.push(parse_area(a).map_err(|e| {
                        invalid(format!("venue {} screen {}: {e}", v.code, s.number))
                    })?);
                }
                screens.push(Screen {
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
                });
            }
            unique(
                screens.iter().map(|s| s.number.to_string()),
                &format!("venue {} screen", v.code),
            )?;
            unique(
                v.film.iter().map(|f| f.code.clone()),
                &format!("venue {} film", v.code),
            )?;
            unique(
                v.ticket_type.iter().map(|t| t.code.clone()),
                &format!("venue {} ticket type", v.code),
            )?;
            unique(
                v.session.iter().map(|s| s.code.clone()),
                &format!("venue {} session", v.code),
            )?;
            unique(
                v.goods.iter().map(|g| g.code.clone()),
                &format!("venue {} goods", v.code),
            )?;
            if v.goods
                .iter()
                .any(|g| g.price < 0 || g.settle_price.is_some_and(|p| p < 0))
            {
                return Err(invalid(format!("venue {}: negative goods price", v.code)));
            }
            check_scenic(&v.code, &v.product, &v.line, v.scenic.as_ref())?;
            let venue = Venue {
                id: 0,
                code: v.code.clone(),
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
            for s in v.session {
                let ctx = format!("venue {} session {}", v.code, s.code);
                let screen = venue
                    .screen(s.screen)
                    .ok_or_else(|| invalid(format!("{ctx}: unknown screen {}", s.screen)))?;
                venue
                    .film(&s.film)
                    .ok_or_else(|| invalid(format!("{ctx}: unknown film {}", s.film)))?;
                let mut prices = Vec::new();
                for p in s.prices {
                    venue.ticket_type(&p.ticket).ok_or_else(|| {
                        invalid(format!("{ctx}: unknown ticket type {}", p.ticket))
                    })?;
                    if !screen.areas.iter().any(|a| a.category == p.area) {
                        return Err(invalid(format!(
                            "{ctx}: screen {} has no area category {}",
                            s.screen, p.area
                        )));
                    }
                    if p.price < 0 || p.booking_fee < 0 {
                        return Err(invalid(format!("{ctx}: negative price")));
                    }
                    if prices
                        .iter()
                        .any(|q: &Price| q.ticket_type == p.ticket && q.area_category == p.area)
                    {
                        return Err(invalid(format!(
                            "{ctx}: two prices for {} in {}",
                            p.ticket, p.area
                        )));
                    }
                    prices.push(Price {
                        ticket_type: p.ticket,
                        area_category: p.area,
                        price: p.price,
                        booking_fee: p.booking_fee,
                    });
                }
                let start = parse_start(&s.start, today)
                    .ok_or_else(|| invalid(format!("{ctx}: bad start {:?}", s.start)))?;
                out.sessions.push((
                    v.code.clone(),
                    Session {
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
                    },
                ));
            }
            out.venues.push(venue);
        }
        unique(doc.partner.iter().map(|p| p.code.clone()), "partner")?;
        let mut keys = HashSet::new();
        for p in doc.partner {
            if p.accounts.values().any(|a| *a < 0) {
                return Err(invalid(format!(
                    "partner {}: negative opening balance",
                    p.code
                )));
            }
            for c in &p.credential {
                if !keys.insert((c.protocol.clone(), c.key.clone())) {
                    return Err(invalid(format!(
                        "partner {}: a {} credential key is used twice",
                        p.code, c.protocol
                    )));
                }
            }
            out.partners.push(Partner {
                id: 0,
                code: p.code,
                name: p.name,
                channel: p.channel,
                venues: p.venues,
                credentials: p.credential,
                accounts: p.accounts,
            });
        }
        Ok(out)
    }
}

/// Checks a scenic area's products, lines and settings.
fn check_scenic(
    code: &str,
    products: &[boxoffice_core::scenic::Product],
    lines: &[boxoffice_core::scenic::Line],
    scenic: Option<&boxoffice_core::scenic::ScenicSettings>,
) -> Result<(), CatalogFileError> {
    unique(
        products.iter().map(|p| p.id.to_ascii_uppercase()),
        &format!("venue {code} product"),
    )?;
    unique(
        lines.iter().map(|l| l.code.clone()),
        &format!("venue {code} line"),
    )?;
    for p in products {
        let ctx = format!("venue {code} product {}", p.id);
        if p.price < 0 || p.min_per_order < 1 || p.max_per_order < p.min_per_order {
            return Err(invalid(format!("{ctx}: bad price or order limits")));
        }
        if p.daily_max.is_some_and(|m| m < 0) || p.per_id_daily_max < 0 {
            return Err(invalid(format!("{ctx}: negative daily maximum")));
        }
        if let Some(l) = p
            .lines
            .iter()
            .find(|l| !lines.iter().any(|x| &x.code == *l))
        {
            return Err(invalid(format!("{ctx}: unknown line {l}")));
        }
        if p.free.as_ref().is_some_and(|f| f.per < 1 || f.free < 0) {
            return Err(invalid(format!("{ctx}: bad free scheme")));
        }
    }
    for l in lines {
        unique(
            l.segments.iter().map(|s| s.index.to_string()),
            &format!("venue {code} line {} segment", l.code),
        )?;
        for s in &l.segments {
            let ok = |t: &str| chrono::NaiveTime::parse_from_str(t, "%H:%M").is_ok();
            if s.index < 1 || !ok(&s.start) || !ok(&s.end) || s.capacity < 0 || s.desk_capacity < 0
            {
                return Err(invalid(format!(
                    "venue {code} line {} segment {}: bad index, times (HH:MM) or capacity",
                    l.code, s.index
                )));
            }
        }
    }
    if let Some(s) = scenic {
        if !(0..=2).contains(&s.remote_activation) || !(1..=3).contains(&s.gate_medium) {
            return Err(invalid(format!(
                "venue {code}: remote_activation must be 0–2 and gate_medium 1–3"
            )));
        }
        if let Some(c) = s
            .epay_channels
            .iter()
            .find(|c| !["01", "02", "03"].contains(&c.as_str()))
        {
            return Err(invalid(format!(
                "venue {code}: unknown payment channel {c}"
            )));
        }
    }
    Ok(())
}

fn unique(items: impl Iterator<Item = String>, what: &str) -> Result<(), CatalogFileError> {
    let mut seen = HashSet::new();
    for i in items {
        if !seen.insert(i.clone()) {
            return Err(invalid(format!("{what} {i} is defined twice")));
        }
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
        return Some((today + Duration::days(days)).and_time(time));
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
/// `c` companion, `L`/`M`/`R` sofa left/middle/right. A row named `-` is a gap row.
fn parse_area(a: AreaDoc) -> Result<Area, String> {
    let mut rows = Vec::new();
    let mut widest = 0;
    for (ri, line) in a.rows.iter().enumerate() {
        let (name, cells) = line
            .split_once('|')
            .ok_or_else(|| format!("row {line:?} needs `NAME | cells`"))?;
        let name = name.trim();
        let mut seats = Vec::new();
        let cells: Vec<&str> = cells.split_whitespace().collect();
        widest = widest.max(cells.len());
        let mut names = HashSet::new();
        for (ci, cell) in cells.iter().enumerate() {
            if *cell == "." {
                continue;
            }
            let (seat_name, flags) = cell.split_once('@').unwrap_or((cell, ""));
            if !names.insert(seat_name) {
                return Err(format!("row {name}: seat {seat_name} appears twice"));
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
                    other => return Err(format!("row {name}: unknown seat flag {other:?}")),
                }
            }
            seats.push(Seat {
                key: SeatKey {
                    area: a.number,
                    row: ri as i32,
                    column: ci as i32,
                },
                name: seat_name.to_string(),
                kind,
                style,
                priority: 0,
            });
        }
        rows.push(Row {
            physical_name: (name != "-").then(|| name.to_string()),
            seats,
        });
    }
    let column_count = a.columns.unwrap_or(widest as i32);
    if (widest as i32) > column_count {
        return Err(format!(
            "area {} has a row wider than its {column_count} columns",
            a.number
        ));
    }
    Ok(Area {
        number: a.number,
        category: a.category,
        description: a.description,
        column_count,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// The first TOML example under a heading of docs/catalog.md.
    fn doc_example(heading: &str) -> String {
        let doc = include_str!("../../../docs/catalog.md");
        let section = &doc[doc.find(heading).expect("heading")..];
        let start = section.find("```toml\n").expect("example") + "```toml\n".len();
        let end = start + section[start..].find("```").expect("end of example");
        section[start..end].to_string()
    }

    #[test]
    fn the_documented_scenic_area_parses() {
        let file = CatalogFile::parse(&doc_example("## Scenic areas"), today()).unwrap();
        let v = &file.venues[0];
        assert_eq!(v.kind, VenueKind::ScenicArea);
        let scenic = v.scenic.as_ref().unwrap();
        assert!(scenic.segmented);
        assert_eq!(scenic.fees.len(), 3);
        assert_eq!(scenic.fee("*", 12000, 2, -1), 10000);
        assert_eq!(v.lines[0].segments.len(), 1);
        let p = &v.products[0];
        assert_eq!(p.daily_max, Some(500));
        assert_eq!(p.valid_to, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(p.free.as_ref().map(|f| (f.per, f.free)), Some((10, 1)));
    }

    #[test]
    fn scenic_mistakes_are_refused() {
        let base = doc_example("## Scenic areas");
        for (from, to) in [
            ("lines = [\"01\"]", "lines = [\"09\"]"),
            ("remote_activation = 1", "remote_activation = 5"),
            (
                "epay_channels = [\"01\", \"02\", \"03\"]",
                "epay_channels = [\"07\"]",
            ),
            ("start = \"08:00\"", "start = \"8 o'clock\""),
            ("max_per_order = 50", "max_per_order = 0"),
        ] {
            assert!(base.contains(from), "{from}");
            let text = base.replace(from, to);
            assert!(
                CatalogFile::parse(&text, today()).is_err(),
                "accepted with {to}"
            );
        }
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
        assert!(
            screen
                .seat(SeatKey {
                    area: 1,
                    row: 0,
                    column: 0
                })
                .is_none(),
            "(0,0) is an aisle"
        );
        assert_eq!(
            screen
                .seat(SeatKey {
                    area: 1,
                    row: 0,
                    column: 1
                })
                .unwrap()
                .name,
            "10"
        );
        assert_eq!(
            screen
                .seat(SeatKey {
                    area: 1,
                    row: 0,
                    column: 2
                })
                .unwrap()
                .name,
            "9"
        );
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
    fn rejects_inconsistent_catalogues() {
        let bad_screen = r#"
[[venue]]
code = "1"
name = "x"
[[venue.film]]
code = "F"
title = "t"
[[venue.session]]
code = "S"
screen = 3
film = "F"
start = "today 10:00"
"#;
        let e = CatalogFile::parse(bad_screen, today())
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown screen 3"), "{e}");
        assert!(CatalogFile::parse("[[venue]]\ncode = 1", today()).is_err());
        assert!(
            CatalogFile::parse("[[venue]]\ncode = \"1\"\nname = \"a\"\nbogus = 1", today())
                .is_err()
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
    }
}
