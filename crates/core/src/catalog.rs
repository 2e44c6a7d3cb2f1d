//! What is for sale: venues (cinemas, theatres, scenic areas), their screens and seat layouts,
//! films/products, ticket types, sessions with their prices, and the partners who sell them.
//!
//! The catalogue is read-mostly: it lives in the database as one document per venue, session and
//! partner and is served from an immutable in-memory [`Catalog`] snapshot that is swapped
//! whenever `catalog apply` changes it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Database id of a venue.
pub type VenueId = i64;
/// Database id of a session (one screening / performance).
pub type SessionId = i64;
/// Database id of a partner (a third party selling through a protocol front end).
pub type PartnerId = i64;

/// What kind of place a venue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum VenueKind {
    /// A cinema: screens, reserved seats, films.
    #[default]
    Cinema,
    /// A theatre: halls, reserved seats, shows.
    Theatre,
    /// A scenic area: day quotas and time segments, no seats.
    ScenicArea,
}

/// A cinema, theatre or scenic area.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Venue {
    /// Database id (0 until stored).
    #[serde(default)]
    pub id: VenueId,
    /// Public code, e.g. `"0200"`.
    pub code: String,
    /// Name, e.g. `"CHTEST01"`.
    pub name: String,
    /// Name printed on booking references, e.g. `"ABC Cinemas"`; defaults to `name`.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Kind of venue.
    #[serde(default)]
    pub kind: VenueKind,
    /// National registration id (广电编码 for cinemas).
    #[serde(default)]
    pub national_id: String,
    /// Telephone.
    #[serde(default)]
    pub phone: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Street address.
    #[serde(default)]
    pub address: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// National statistics area code of the city, e.g. `"440100"`.
    #[serde(default)]
    pub city_code: String,
    /// Minutes after a session's start until which it may still be sold (negative: before).
    #[serde(default)]
    pub sales_cutoff_minutes: i64,
    /// Refunds are possible until this many minutes before a session starts (`None`: no refunds
    /// through partners).
    #[serde(default)]
    pub refund_before_minutes: Option<i64>,
    /// Most refunds allowed per session (`None`: unlimited).
    #[serde(default)]
    pub refund_limit_per_session: Option<i64>,
    /// The venue's identifiers in partner protocols that name venues their own way, by
    /// protocol (e.g. `yueke` → `"888"`).
    #[serde(default)]
    pub links: std::collections::BTreeMap<String, String>,
    /// Screens / halls.
    #[serde(default)]
    pub screens: Vec<Screen>,
    /// Films / shows / products.
    #[serde(default)]
    pub films: Vec<Film>,
    /// Ticket types.
    #[serde(default)]
    pub ticket_types: Vec<TicketType>,
    /// Goods (concessions) sold with or without tickets.
    #[serde(default)]
    pub goods: Vec<Goods>,
    /// Most units of one goods item in an order.
    #[serde(default = "default_max_goods")]
    pub max_goods_per_item: i64,
    /// Scenic-area rules (suppliers of products sold by visit date).
    #[serde(default)]
    pub scenic: Option<crate::scenic::ScenicSettings>,
    /// Products sold by visit date (scenic areas).
    #[serde(default)]
    pub products: Vec<crate::scenic::Product>,
    /// Lines (service items) with their time segments (scenic areas).
    #[serde(default)]
    pub lines: Vec<crate::scenic::Line>,
}

fn default_max_goods() -> i64 {
    10
}

/// A goods item (卖品, concession): popcorn, drinks, combos.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Goods {
    /// Code, e.g. `"1728"`.
    pub code: String,
    /// Name.
    pub name: String,
    /// A package (combo).
    #[serde(default)]
    pub is_package: bool,
    /// Standard price in fen.
    pub price: i64,
    /// Least price partners may sell it for, in fen (`None`: the partner's own price).
    #[serde(default)]
    pub settle_price: Option<i64>,
    /// Picture URL.
    #[serde(default)]
    pub picture_url: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Eligible for member discounts.
    #[serde(default)]
    pub member_discount: bool,
}

impl Venue {
    /// The name printed on booking references.
    pub fn display_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
    /// A screen by its number.
    pub fn screen(&self, number: i32) -> Option<&Screen> {
        self.screens.iter().find(|s| s.number == number)
    }
    /// A film by its code.
    pub fn film(&self, code: &str) -> Option<&Film> {
        self.films.iter().find(|f| f.code == code)
    }
    /// A goods item by its code.
    pub fn goods_item(&self, code: &str) -> Option<&Goods> {
        self.goods.iter().find(|g| g.code == code)
    }
    /// A ticket type by its code.
    pub fn ticket_type(&self, code: &str) -> Option<&TicketType> {
        self.ticket_types.iter().find(|t| t.code == code)
    }
    /// A scenic product by its id (case-insensitive).
    pub fn product(&self, id: &str) -> Option<&crate::scenic::Product> {
        self.products.iter().find(|p| p.id.eq_ignore_ascii_case(id))
    }
    /// A line by its code.
    pub fn line(&self, code: &str) -> Option<&crate::scenic::Line> {
        self.lines.iter().find(|l| l.code == code)
    }
}

/// A screen (auditorium, hall) and its seat layout.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Screen {
    /// Screen number within the venue.
    pub number: i32,
    /// Name, e.g. `"一号厅"`.
    pub name: String,
    /// Alternative-language name.
    #[serde(default)]
    pub name_alt: String,
    /// Hall type as the venue classifies it (e.g. `N` normal, `I` IMAX, `Y` VIP).
    #[serde(default)]
    pub kind: String,
    /// Date from which this seat layout is in force.
    #[serde(default)]
    pub layout_effective_date: Option<chrono::NaiveDate>,
    /// Seating areas; each has its own grid and price category.
    #[serde(default)]
    pub areas: Vec<Area>,
}

impl Screen {
    /// All seats of all areas.
    pub fn seats(&self) -> impl Iterator<Item = &Seat> {
        self.areas
            .iter()
            .flat_map(|a| a.rows.iter().flat_map(|r| r.seats.iter()))
    }
    /// A seat by its logical position.
    pub fn seat(&self, key: SeatKey) -> Option<&Seat> {
        let area = self.areas.iter().find(|a| a.number == key.area)?;
        let row = area.rows.get(usize::try_from(key.row).ok()?)?;
        row.seats.iter().find(|s| s.key.column == key.column)
    }
    /// An area by its number.
    pub fn area(&self, number: i32) -> Option<&Area> {
        self.areas.iter().find(|a| a.number == number)
    }
    /// Number of seats that can ever be sold.
    pub fn sellable_seats(&self) -> usize {
        self.seats().filter(|s| s.kind == SeatKind::Normal).count()
    }
}

/// A seating area: a grid of rows and columns with one price category.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Area {
    /// Area number within the screen (1-based).
    pub number: i32,
    /// Price category code, e.g. `"0000000001"`; ticket prices are per category.
    pub category: String,
    /// Description (usually the screen name).
    #[serde(default)]
    pub description: String,
    /// Columns of the grid.
    pub column_count: i32,
    /// Rows of the grid, from the back (index 0) to the front.
    pub rows: Vec<Row>,
}

impl Area {
    /// Rows of the grid.
    pub fn row_count(&self) -> i32 {
        i32::try_from(self.rows.len()).unwrap_or(i32::MAX)
    }
    /// Seats that exist in this area.
    pub fn seat_count(&self) -> usize {
        self.rows.iter().map(|r| r.seats.len()).sum()
    }
}

/// One grid row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// Physical row name printed on tickets (`None` for a gap row).
    pub physical_name: Option<String>,
    /// Seats that exist in this row, left to right.
    pub seats: Vec<Seat>,
}

/// Logical position of a seat: area number, row index and column index (0-based, from the
/// top-left of the area's grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct SeatKey {
    /// Area number.
    pub area: i32,
    /// Row index.
    pub row: i32,
    /// Column index.
    pub column: i32,
}

impl SeatKey {
    /// The stored form, `area:row:column`.
    pub fn encode(&self) -> String {
        format!("{}:{}:{}", self.area, self.row, self.column)
    }
    /// Parses the stored form.
    pub fn decode(s: &str) -> Option<SeatKey> {
        let mut it = s.split(':').map(|p| p.parse::<i32>().ok());
        let k = SeatKey {
            area: it.next()??,
            row: it.next()??,
            column: it.next()??,
        };
        it.next().is_none().then_some(k)
    }
}

/// What a seat permanently is (set in the layout, independent of sales).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SeatKind {
    /// Sellable.
    #[default]
    Normal,
    /// Held back by the venue.
    House,
    /// Wheelchair / special seat.
    Special,
    /// Broken.
    Broken,
    /// Placeholder.
    Placeholder,
    /// Companion seat (not sold online).
    Companion,
}

/// Sofa / couple seat grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SeatStyle {
    /// Ordinary seat.
    #[default]
    Normal,
    /// Left end of a sofa.
    SofaLeft,
    /// Middle of a sofa.
    SofaMiddle,
    /// Right end of a sofa.
    SofaRight,
}

/// A seat that exists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Seat {
    /// Logical position.
    pub key: SeatKey,
    /// Seat name within the physical row, e.g. `"10"`.
    pub name: String,
    /// What the seat permanently is.
    #[serde(default)]
    pub kind: SeatKind,
    /// Sofa grouping.
    #[serde(default)]
    pub style: SeatStyle,
    /// Allocation priority (lower is better; 0 = none).
    #[serde(default)]
    pub priority: i32,
}

/// A film, show or product.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Film {
    /// Code, e.g. `"HO00012501"`.
    pub code: String,
    /// Title.
    pub title: String,
    /// Alternative-language title.
    #[serde(default)]
    pub title_alt: String,
    /// National film code (影片广电编码), e.g. `"001200472015"`.
    #[serde(default)]
    pub short_code: String,
    /// Running time in minutes.
    #[serde(default)]
    pub runtime_minutes: i32,
    /// Classification, e.g. `"G"`.
    #[serde(default)]
    pub rating: String,
    /// Rating description / short synopsis.
    #[serde(default)]
    pub rating_description: String,
    /// Synopsis (director, cast, release date).
    #[serde(default)]
    pub synopsis: String,
    /// Opening date.
    #[serde(default)]
    pub opening_date: Option<NaiveDateTime>,
}

/// A ticket type (票类): who may buy it, through which channels, at most how many per order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TicketType {
    /// Code, e.g. `"0056"`.
    pub code: String,
    /// Description, e.g. `"标准票"`.
    pub description: String,
    /// Alternative-language description.
    #[serde(default)]
    pub description_alt: String,
    /// Long description.
    #[serde(default)]
    pub long_description: String,
    /// Head-office primary key.
    #[serde(default)]
    pub hopk: String,
    /// Head-office grouping code.
    #[serde(default)]
    pub head_office_grouping_code: String,
    /// Sales channels that may sell it (matched against the partner's channel).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Only for validated loyalty members.
    #[serde(default)]
    pub member_only: bool,
    /// Complimentary ticket.
    #[serde(default)]
    pub complimentary: bool,
    /// Child-only ticket.
    #[serde(default)]
    pub child_only: bool,
    /// Most tickets of this type in one order.
    #[serde(default = "default_max_per_order")]
    pub max_per_order: i32,
    /// Display order.
    #[serde(default)]
    pub display_sequence: i32,
}

fn default_max_per_order() -> i32 {
    10
}

impl TicketType {
    /// Whether a partner selling on `channel` may see and sell this ticket type.
    pub fn sold_on(&self, channel: &str) -> bool {
        self.channels.is_empty()
            || self
                .channels
                .iter()
                .any(|c| c.eq_ignore_ascii_case(channel))
    }
}

/// The price of a ticket type in one area category of a session, in fen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Price {
    /// Ticket type code.
    pub ticket_type: String,
    /// Area category code.
    pub area_category: String,
    /// Price in fen (cents).
    pub price: i64,
    /// Booking fee per ticket in fen, unless the partner overrides it.
    #[serde(default)]
    pub booking_fee: i64,
}

/// One screening / performance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    /// Database id (0 until stored).
    #[serde(default)]
    pub id: SessionId,
    /// Venue id.
    #[serde(default)]
    pub venue_id: VenueId,
    /// Public code, e.g. `"29617"`.
    pub code: String,
    /// Screen number.
    pub screen: i32,
    /// Film code.
    pub film: String,
    /// Start, venue-local wall clock.
    pub start: NaiveDateTime,
    /// Session attributes, e.g. `["原版", "3D"]`.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Price group code.
    #[serde(default)]
    pub price_group: String,
    /// Prices per ticket type and area category.
    #[serde(default)]
    pub prices: Vec<Price>,
    /// Flagged sold out by the venue (包场).
    #[serde(default)]
    pub sold_out: bool,
    /// Sales switched off.
    #[serde(default)]
    pub sales_closed: bool,
}

impl Session {
    /// The price of a ticket type in an area category.
    pub fn price(&self, ticket_type: &str, area_category: &str) -> Option<&Price> {
        self.prices
            .iter()
            .find(|p| p.ticket_type == ticket_type && p.area_category == area_category)
    }
    /// The prices of a ticket type (one per area category).
    pub fn prices_of<'a>(&'a self, ticket_type: &'a str) -> impl Iterator<Item = &'a Price> + 'a {
        self.prices
            .iter()
            .filter(move |p| p.ticket_type == ticket_type)
    }
}

/// A third party selling through one or more protocol front ends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Partner {
    /// Database id (0 until stored).
    #[serde(default)]
    pub id: PartnerId,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Sales channel the partner sells on (ticket types are filtered by it), e.g. `"RSP"`.
    #[serde(default)]
    pub channel: String,
    /// Venue codes it may sell (empty: all).
    #[serde(default)]
    pub venues: Vec<String>,
    /// Credentials and options, one per protocol; opaque to the core.
    #[serde(default)]
    pub credentials: Vec<Credential>,
    /// Opening balances of the partner's accounts (`deposit`, `rebate`) in fen, credited once
    /// when the account is first created.
    #[serde(default)]
    pub accounts: std::collections::BTreeMap<String, i64>,
}

impl Partner {
    /// Whether the partner may sell at a venue.
    pub fn may_sell(&self, venue_code: &str) -> bool {
        self.venues.is_empty() || self.venues.iter().any(|v| v == venue_code)
    }
    /// This partner's credential for a protocol.
    pub fn credential(&self, protocol: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.protocol == protocol)
    }
}

/// A partner's credential for one protocol: a key to identify it (token, app key, agent id),
/// an optional secret, and protocol options. The core never interprets them.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Credential {
    /// Protocol name, e.g. `"vista"`.
    pub protocol: String,
    /// Identifying key (looked up on every request).
    pub key: String,
    /// Secret (signing key), if the protocol has one.
    #[serde(default)]
    pub secret: Option<String>,
    /// Protocol-specific options.
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("protocol", &self.protocol)
            .field("key", &"<redacted>")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("options", &self.options)
            .finish()
    }
}

impl Credential {
    /// A boolean option, with a default when absent.
    pub fn flag(&self, name: &str, default: bool) -> bool {
        self.options
            .get(name)
            .and_then(|v| v.as_bool())
            .unwrap_or(default)
    }
}

/// An immutable snapshot of the whole catalogue with lookup indexes.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Venues.
    pub venues: Vec<Arc<Venue>>,
    /// Sessions, ordered by venue and start.
    pub sessions: Vec<Arc<Session>>,
    /// Partners.
    pub partners: Vec<Arc<Partner>>,
    venue_by_code: HashMap<String, usize>,
    venue_by_id: HashMap<VenueId, usize>,
    session_by_code: HashMap<(VenueId, String), usize>,
    session_by_id: HashMap<SessionId, usize>,
    partner_by_credential: HashMap<(String, String), usize>,
    venue_by_link: HashMap<(String, String), usize>,
}

impl Catalog {
    /// Builds the snapshot and its indexes.
    pub fn new(venues: Vec<Venue>, mut sessions: Vec<Session>, partners: Vec<Partner>) -> Catalog {
        sessions
            .sort_by(|a, b| (a.venue_id, a.start, &a.code).cmp(&(b.venue_id, b.start, &b.code)));
        let mut c = Catalog {
            venues: venues.into_iter().map(Arc::new).collect(),
            sessions: sessions.into_iter().map(Arc::new).collect(),
            partners: partners.into_iter().map(Arc::new).collect(),
            ..Catalog::default()
        };
        for (i, v) in c.venues.iter().enumerate() {
            c.venue_by_code.insert(v.code.clone(), i);
            c.venue_by_id.insert(v.id, i);
            for (protocol, id) in &v.links {
                c.venue_by_link.insert((protocol.clone(), id.clone()), i);
            }
        }
        for (i, s) in c.sessions.iter().enumerate() {
            c.session_by_code.insert((s.venue_id, s.code.clone()), i);
            c.session_by_id.insert(s.id, i);
        }
        for (i, p) in c.partners.iter().enumerate() {
            for cred in &p.credentials {
                c.partner_by_credential
                    .insert((cred.protocol.clone(), cred.key.clone()), i);
            }
        }
        c
    }
    /// A venue by code.
    pub fn venue(&self, code: &str) -> Option<&Arc<Venue>> {
        self.venue_by_code.get(code).map(|&i| &self.venues[i])
    }
    /// A venue by id.
    pub fn venue_by_id(&self, id: VenueId) -> Option<&Arc<Venue>> {
        self.venue_by_id.get(&id).map(|&i| &self.venues[i])
    }
    /// A venue by its identifier in a protocol (see [`Venue::links`]).
    pub fn venue_by_link(&self, protocol: &str, id: &str) -> Option<&Arc<Venue>> {
        self.venue_by_link
            .get(&(protocol.to_string(), id.to_string()))
            .map(|&i| &self.venues[i])
    }
    /// A session by venue and code.
    pub fn session(&self, venue: VenueId, code: &str) -> Option<&Arc<Session>> {
        self.session_by_code
            .get(&(venue, code.to_string()))
            .map(|&i| &self.sessions[i])
    }
    /// A session by id.
    pub fn session_by_id(&self, id: SessionId) -> Option<&Arc<Session>> {
        self.session_by_id.get(&id).map(|&i| &self.sessions[i])
    }
    /// Sessions of a venue.
    pub fn sessions_of(&self, venue: VenueId) -> impl Iterator<Item = &Arc<Session>> {
        self.sessions.iter().filter(move |s| s.venue_id == venue)
    }
    /// The partner holding a credential key for a protocol.
    pub fn partner_by_credential(&self, protocol: &str, key: &str) -> Option<&Arc<Partner>> {
        self.partner_by_credential
            .get(&(protocol.to_string(), key.to_string()))
            .map(|&i| &self.partners[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_keys_round_trip() {
        let k = SeatKey {
            area: 1,
            row: 0,
            column: 11,
        };
        assert_eq!(SeatKey::decode(&k.encode()), Some(k));
        assert_eq!(SeatKey::decode("1:2"), None);
        assert_eq!(SeatKey::decode("1:2:3:4"), None);
        assert_eq!(SeatKey::decode("a:2:3"), None);
    }
}
