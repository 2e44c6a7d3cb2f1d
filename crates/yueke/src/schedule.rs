//! How the catalogue looks through Yueke eyes: cinemas by `cinemaLinkId`, halls by number,
//! sections (one per seat area, `sectionId` = area number in 16 digits), seat ids
//! `{sectionId}-{rowId}-{columnId}`, and schedules with one price per area category.

use crate::codes::{self, BizCode};
use crate::Caller;
use boxoffice_core::catalog::{Area, Screen, SeatKey, Session, Venue};
use boxoffice_core::clock::{from_local, to_millis};
use md5::{Digest, Md5};
use std::collections::HashMap;
use std::sync::Arc;

/// The cinema named by `cinemaLinkId`, if it exists and the channel is bound to it (G-CH-1).
pub fn cinema(yk: &crate::Yueke, c: &Caller, link: &str) -> Result<Arc<Venue>, BizCode> {
    let catalog = yk.svc.catalog();
    let venue = catalog
        .venue_by_link(crate::PROTOCOL, link)
        .ok_or(codes::CINEMA_INVALID)?;
    if !crate::route::bound(&c.partner, venue) {
        return Err(codes::CHANNEL_CINEMA_NOT_FOUND);
    }
    Ok(venue.clone())
}

/// `sectionId` of an area.
pub fn section_id(area: &Area) -> String {
    format!("{:016}", area.number)
}

/// `columnId` of a seat name: numeric names padded to two digits.
pub fn column_id(name: &str) -> String {
    if !name.is_empty() && name.len() < 2 && name.chars().all(|c| c.is_ascii_digit()) {
        format!("{name:0>2}")
    } else {
        name.to_string()
    }
}

/// Every seat id of a screen and its logical position.
pub fn seat_ids(screen: &Screen) -> HashMap<String, SeatKey> {
    let mut out = HashMap::new();
    for a in &screen.areas {
        let section = section_id(a);
        for r in &a.rows {
            let row = r.physical_name.clone().unwrap_or_default();
            for s in &r.seats {
                out.insert(format!("{section}-{row}-{}", column_id(&s.name)), s.key);
            }
        }
    }
    out
}

/// A session offered as a Yueke schedule.
pub struct Schedule {
    /// The venue.
    pub venue: Arc<Venue>,
    /// The session.
    pub session: Arc<Session>,
    /// Area categories with the price (fen), booking fee (fen) and ticket type a seat there sells at.
    pub prices: Vec<(String, i64, i64, String)>,
    /// The schedule check string.
    pub key: String,
    /// Sales deadline, stored milliseconds.
    pub stop_selling_ms: i64,
}

impl Schedule {
    /// The screen.
    pub fn screen(&self) -> Option<&Screen> {
        self.venue.screen(self.session.screen)
    }
    /// Price, fee and ticket type of an area category.
    pub fn price_of(&self, category: &str) -> Option<&(String, i64, i64, String)> {
        self.prices.iter().find(|p| p.0 == category)
    }
    /// The category whose price is the schedule's `settlePrice` (the first area's).
    pub fn base_category(&self) -> Option<&str> {
        self.screen()
            .and_then(|s| s.areas.first())
            .map(|a| a.category.as_str())
    }
}

/// A venue's session as a Yueke schedule, if the channel can sell it: each area category is
/// priced with the channel's ticket type when the session prices it there, else with the
/// cheapest ticket type the channel may sell.
pub fn schedule(
    yk: &crate::Yueke,
    c: &Caller,
    venue: &Arc<Venue>,
    session: &Arc<Session>,
) -> Option<Schedule> {
    let screen = venue.screen(session.screen)?;
    let mut prices = Vec::new();
    for a in &screen.areas {
        if prices
            .iter()
            .any(|p: &(String, i64, i64, String)| p.0 == a.category)
        {
            continue;
        }
        let sellable = |code: &str| {
            venue
                .ticket_type(code)
                .is_some_and(|t| t.sold_on(&c.partner.channel) && !t.member_only)
        };
        let configured = c
            .ticket_type
            .as_deref()
            .filter(|t| sellable(t))
            .and_then(|t| session.price(t, &a.category));
        let chosen = configured.or_else(|| {
            session
                .prices
                .iter()
                .filter(|p| p.area_category == a.category && sellable(&p.ticket_type))
                .min_by_key(|p| p.price)
        });
        if let Some(p) = chosen {
            prices.push((
                a.category.clone(),
                p.price,
                p.booking_fee,
                p.ticket_type.clone(),
            ));
        }
    }
    if prices.is_empty() {
        return None;
    }
    let start_ms = to_millis(from_local(session.start, yk.svc.settings().offset));
    let stop_selling_ms = start_ms + venue.sales_cutoff_minutes * 60_000;
    let mut h = Md5::new();
    h.update(format!(
        "{}|{}|{}|{}|{}|{:?}|{}|{}|{}",
        venue.code,
        session.code,
        session.start,
        session.screen,
        session.film,
        prices,
        session.sold_out,
        session.sales_closed,
        stop_selling_ms
    ));
    let key = hex::encode_upper(h.finalize());
    Some(Schedule {
        venue: venue.clone(),
        session: session.clone(),
        prices,
        key,
        stop_selling_ms,
    })
}

/// The schedule named by `scheduleId` and checked by `scheduleKey` (G-SCH-4).
pub fn find(
    yk: &crate::Yueke,
    c: &Caller,
    venue: &Arc<Venue>,
    id: &str,
    key: Option<&str>,
) -> Result<Schedule, BizCode> {
    let catalog = yk.svc.catalog();
    let session = catalog
        .session(venue.id, id)
        .ok_or(codes::SCHEDULE_NOT_FOUND)?;
    let s = schedule(yk, c, venue, session).ok_or(codes::SCHEDULE_NOT_FOUND)?;
    match key {
        Some(k) if k.eq_ignore_ascii_case(&s.key) => Ok(s),
        _ => Err(codes::SCHEDULE_HAS_CHANGED),
    }
}
