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

impl VenueKind {
    /// The name used in the catalogue file, e.g. `"scenic_area"`.
    pub fn as_str(self) -> &'static str {
        match self {
            VenueKind::Cinema => "cinema",
            VenueKind::Theatre => "theatre",
            VenueKind::ScenicArea => "scenic_area",
        }
    }
}

/// A partner protocol served by a front end; the `protocol` of a [`Credential`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// Vista Connect (`/WSVistaWebClient`).
    Vista,
    /// Yueke cloud (`/route?api=ykse.partner.*`).
    Yueke,
    /// 游宝星 e-ticket interface (`*.aspx`).
    Ybx,
}

impl Protocol {
    /// Every protocol.
    pub const ALL: [Protocol; 3] = [Protocol::Vista, Protocol::Yueke, Protocol::Ybx];

    /// The name used in credentials and venue links, e.g. `"yueke"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Vista => "vista",
            Protocol::Yueke => "yueke",
            Protocol::Ybx => "ybx",
        }
    }

    /// A protocol by its name.
    pub fn parse(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Whether the protocol sells venues of a kind. Vista Connect and Yueke sell sessions with
    /// reserved seats: cinemas and theatres. 游宝星 sells scenic areas; a theatre is a 游宝星
    /// supplier in theatre mode (its scenic pages answer `THEATER_MODE`), so it belongs to
    /// 游宝星 too. A cinema is never a 游宝星 supplier, a scenic area never a Vista or Yueke
    /// cinema.
    pub fn sells(self, kind: VenueKind) -> bool {
        match self {
            Protocol::Vista | Protocol::Yueke => {
                matches!(kind, VenueKind::Cinema | VenueKind::Theatre)
            }
            Protocol::Ybx => matches!(kind, VenueKind::ScenicArea | VenueKind::Theatre),
        }
    }

    /// Whether venues carry an identifier of their own in this protocol (`links`): Vista names
    /// a venue by its code.
    pub fn links_venues(self) -> bool {
        !matches!(self, Protocol::Vista)
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
    /// Venue codes it may sell (empty: all); through each protocol, only those of a kind the
    /// protocol sells ([`Partner::may_sell_through`]).
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
    /// Whether the partner's grant names a venue (an empty grant names every venue), whatever
    /// the protocol. What a partner may sell through a protocol is
    /// [`Partner::may_sell_through`] / [`Catalog::venues_for`].
    pub fn may_sell(&self, venue_code: &str) -> bool {
        self.venues.is_empty() || self.venues.iter().any(|v| v == venue_code)
    }
    /// Whether the partner may sell a venue through a protocol: the grant names it and the
    /// protocol sells its kind ([`Protocol::sells`]). "All venues" (an empty grant) therefore
    /// means all venues the protocol can sell.
    pub fn may_sell_through(&self, protocol: Protocol, venue: &Venue) -> bool {
        protocol.sells(venue.kind) && self.may_sell(&venue.code)
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
            // Options hold password digests: only their names are shown.
            .field("options", &self.options.keys().collect::<Vec<_>>())
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
    /// The options read as the typed options of the credential's protocol (`None` for an
    /// unknown protocol or options that do not fit it).
    pub fn typed_options(&self) -> Option<CredentialOptions> {
        let value = serde_json::Value::Object(self.options.clone());
        CredentialOptions::from_value(Protocol::parse(&self.protocol)?, value).ok()
    }
}

/// The options of a credential, typed per protocol. The catalogue file is read through these
/// types (unknown keys and wrong types are refused); the credential stores them as the JSON
/// object [`CredentialOptions::to_map`] writes, which front ends read.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialOptions {
    /// A Vista Connect token's security profile.
    Vista(VistaTokenOptions),
    /// A Yueke channel's grants.
    Yueke(YuekeChannelOptions),
    /// A 游宝星 agent's provisioning.
    Ybx(Box<YbxAgentOptions>),
}

impl CredentialOptions {
    /// Reads options of a protocol from any serde deserializer.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        protocol: Protocol,
        d: D,
    ) -> Result<CredentialOptions, D::Error> {
        Ok(match protocol {
            Protocol::Vista => CredentialOptions::Vista(VistaTokenOptions::deserialize(d)?),
            Protocol::Yueke => CredentialOptions::Yueke(YuekeChannelOptions::deserialize(d)?),
            Protocol::Ybx => CredentialOptions::Ybx(Box::new(YbxAgentOptions::deserialize(d)?)),
        })
    }
    /// Reads options of a protocol from a JSON value.
    pub fn from_value(
        protocol: Protocol,
        value: serde_json::Value,
    ) -> Result<CredentialOptions, serde_json::Error> {
        CredentialOptions::deserialize(protocol, value)
    }
    /// The stored form: a JSON object with every option that has a value.
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        let value = match self {
            CredentialOptions::Vista(o) => serde_json::to_value(o),
            CredentialOptions::Yueke(o) => serde_json::to_value(o),
            CredentialOptions::Ybx(o) => serde_json::to_value(o),
        };
        match value {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// Options of a Vista Connect token (`protocol = "vista"`): its security profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VistaTokenOptions {
    /// The partner may set its own ticket prices (`PriceInCents` on AddTickets).
    #[serde(default)]
    pub allow_price_override: bool,
    /// The partner may refund bookings.
    #[serde(default = "yes")]
    pub allow_refunds: bool,
    /// The partner may complete orders with external payments.
    #[serde(default = "yes")]
    pub allow_external_payments: bool,
}

impl Default for VistaTokenOptions {
    fn default() -> Self {
        VistaTokenOptions {
            allow_price_override: false,
            allow_refunds: true,
            allow_external_payments: true,
        }
    }
}

/// Options of a Yueke channel (`protocol = "yueke"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YuekeChannelOptions {
    /// APIs granted, by name (`ykse.partner.…`), or `"*"` for every API; none when empty.
    #[serde(default)]
    pub apis: Vec<String>,
    /// The ticket type whose prices Yueke quotes (`None`: the session's first price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<String>,
}

/// How a 游宝星 agent's `sign` is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignCheck {
    /// The signature is verified.
    #[default]
    Strict,
    /// Any non-empty `sign` is accepted.
    Off,
}

/// Options of a 游宝星 agent (`protocol = "ybx"`): its provisioning. Runtime settings kept in
/// the database override them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YbxAgentOptions {
    /// `UPPER(MD5(login password))`, 32 hexadecimal digits.
    pub login_md5: String,
    /// `UPPER(MD5(payment password))`, 32 hexadecimal digits (`None`: not set yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_md5: Option<String>,
    /// The account is enabled.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Client unit id (`DWID`; `None`: the partner code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_id: Option<String>,
    /// Client unit type (`DWSX`, `"1"`–`"8"`; `None`: `"1"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_type: Option<String>,
    /// Display name (`customername`; `None`: the partner name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Reserved mobile 1.
    #[serde(default)]
    pub mobile1: String,
    /// Reserved mobile 2.
    #[serde(default)]
    pub mobile2: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// May leave orders to be paid at the counter.
    #[serde(default)]
    pub allow_cash: bool,
    /// May pay from the deposit account.
    #[serde(default)]
    pub allow_deposit: bool,
    /// May pay from the rebate account.
    #[serde(default)]
    pub allow_rebate: bool,
    /// May pay instantly (gateway).
    #[serde(default)]
    pub allow_epay: bool,
    /// Most persons per visit date (0: unlimited).
    #[serde(default)]
    pub daily_max: i64,
    /// Product ids it may sell, or `"*"` for all (empty: none).
    #[serde(default = "every_product")]
    pub products: Vec<String>,
    /// Its own prices per product id, in fen.
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, i64>,
    /// How its signatures are checked.
    #[serde(default)]
    pub sign_check: SignCheck,
    /// Callback base address (empty: no callbacks).
    #[serde(default)]
    pub responseaddr: String,
    /// Official notices to visitors are sent.
    #[serde(default = "yes")]
    pub sendofficiallysnotify: bool,
}

fn every_product() -> Vec<String> {
    vec!["*".into()]
}

/// Why catalogue documents cannot be applied: where (a path into the catalogue file, e.g.
/// `partner[1].venues[0]`: tables and arrays by their key, array entries counted from 0 in file
/// order) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CatalogError {
    /// Where, e.g. `venue[0].session[2].prices[1].ticket`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl CatalogError {
    /// An error at a path.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> CatalogError {
        CatalogError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Checks what partners refer to against the venues the catalogue will hold once they are
/// applied (`venue` finds one by code): granted venues exist and are sold by one of the
/// partner's protocols, credential keys are not another partner's (`holder` names the partner
/// already holding a protocol's key), and options name products and ticket types of the venues
/// the partner sells through that protocol. `partners` are in file order (paths count them).
pub fn check_partners<'a>(
    partners: &[Partner],
    venue: impl Fn(&str) -> Option<&'a Venue>,
    all_venues: &[&'a Venue],
    holder: impl Fn(&str, &str) -> Option<String>,
) -> Result<(), CatalogError> {
    for (i, p) in partners.iter().enumerate() {
        let at = format!("partner[{i}]");
        let protocols: Vec<Protocol> = p
            .credentials
            .iter()
            .filter_map(|c| Protocol::parse(&c.protocol))
            .collect();
        for (j, code) in p.venues.iter().enumerate() {
            let Some(v) = venue(code) else {
                return Err(CatalogError::at(
                    format!("{at}.venues[{j}]"),
                    format!("unknown venue \"{code}\""),
                ));
            };
            if !protocols.is_empty() && !protocols.iter().any(|pr| pr.sells(v.kind)) {
                return Err(CatalogError::at(
                    format!("{at}.venues[{j}]"),
                    format!(
                        "\"{code}\" is a {}, which none of the partner's protocols ({}) sells",
                        v.kind.as_str(),
                        protocol_list(&protocols)
                    ),
                ));
            }
        }
        for (k, c) in p.credentials.iter().enumerate() {
            let at = format!("{at}.credential[{k}]");
            if let Some(other) = holder(&c.protocol, &c.key).filter(|o| *o != p.code) {
                return Err(CatalogError::at(
                    format!("{at}.key"),
                    format!("partner \"{other}\" already holds this {} key", c.protocol),
                ));
            }
            let Some(protocol) = Protocol::parse(&c.protocol) else {
                continue;
            };
            let sold: Vec<&Venue> = all_venues
                .iter()
                .copied()
                .filter(|v| p.may_sell_through(protocol, v))
                .collect();
            check_option_references(&format!("{at}.options"), c, &sold)?;
        }
    }
    Ok(())
}

fn protocol_list(protocols: &[Protocol]) -> String {
    protocols
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Options that name things: 游宝星 products and prices, the Yueke price ticket type.
fn check_option_references(at: &str, c: &Credential, sold: &[&Venue]) -> Result<(), CatalogError> {
    let names = || {
        sold.iter()
            .map(|v| format!("\"{}\"", v.code))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match c.typed_options() {
        Some(CredentialOptions::Ybx(o)) => {
            let known = |id: &str| sold.iter().any(|v| v.product(id).is_some());
            if let Some((m, id)) = o
                .products
                .iter()
                .enumerate()
                .find(|(_, id)| *id != "*" && !known(id))
            {
                return Err(CatalogError::at(
                    format!("{at}.products[{m}]"),
                    format!(
                        "no product \"{id}\" at the partner's 游宝星 venues ({})",
                        names()
                    ),
                ));
            }
            if let Some(id) = o.prices.keys().find(|id| !known(id)) {
                return Err(CatalogError::at(
                    format!("{at}.prices.\"{id}\""),
                    format!(
                        "no product \"{id}\" at the partner's 游宝星 venues ({})",
                        names()
                    ),
                ));
            }
        }
        Some(CredentialOptions::Yueke(o)) => {
            // Yueke reaches a venue by its link only.
            let linked = |v: &&&Venue| v.links.contains_key(Protocol::Yueke.as_str());
            if let Some(tt) = &o.ticket_type {
                if let Some(v) = sold
                    .iter()
                    .filter(linked)
                    .find(|v| v.ticket_type(tt).is_none())
                {
                    return Err(CatalogError::at(
                        format!("{at}.ticket_type"),
                        format!("venue \"{}\" has no ticket type \"{tt}\"", v.code),
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
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
    /// The venues a partner may sell through a protocol, in catalogue order: those its grant
    /// names (every venue for an empty grant) of a kind the protocol sells.
    pub fn venues_for<'a>(
        &'a self,
        partner: &'a Partner,
        protocol: Protocol,
    ) -> impl Iterator<Item = &'a Arc<Venue>> + 'a {
        self.venues
            .iter()
            .filter(move |v| partner.may_sell_through(protocol, v))
    }
    /// A venue by code, if the partner may sell it through a protocol.
    pub fn venue_for(
        &self,
        partner: &Partner,
        protocol: Protocol,
        code: &str,
    ) -> Option<&Arc<Venue>> {
        self.venue(code)
            .filter(|v| partner.may_sell_through(protocol, v))
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

    fn venue(code: &str, kind: VenueKind) -> Venue {
        serde_json::from_value(serde_json::json!({"code": code, "name": code, "kind": kind}))
            .expect("venue")
    }

    fn partner(venues: &[&str]) -> Partner {
        serde_json::from_value(serde_json::json!({"code": "p", "name": "p", "venues": venues}))
            .expect("partner")
    }

    #[test]
    fn all_venues_resolve_to_the_kinds_a_protocol_sells() {
        let catalog = Catalog::new(
            vec![
                venue("C", VenueKind::Cinema),
                venue("T", VenueKind::Theatre),
                venue("S", VenueKind::ScenicArea),
            ],
            vec![],
            vec![],
        );
        let codes = |p: &Partner, protocol| -> Vec<String> {
            catalog
                .venues_for(p, protocol)
                .map(|v| v.code.clone())
                .collect()
        };
        let all = partner(&[]);
        assert_eq!(codes(&all, Protocol::Vista), ["C", "T"]);
        assert_eq!(codes(&all, Protocol::Yueke), ["C", "T"]);
        assert_eq!(codes(&all, Protocol::Ybx), ["T", "S"]);
        let some = partner(&["C", "S"]);
        assert_eq!(codes(&some, Protocol::Vista), ["C"]);
        assert_eq!(codes(&some, Protocol::Ybx), ["S"]);
        assert!(catalog.venue_for(&some, Protocol::Vista, "S").is_none());
        assert!(catalog.venue_for(&some, Protocol::Vista, "C").is_some());
        assert!(
            catalog.venue_for(&some, Protocol::Vista, "T").is_none(),
            "not granted"
        );
    }

    #[test]
    fn partners_must_name_venues_their_protocols_sell() {
        let venues = [
            venue("C", VenueKind::Cinema),
            venue("S", VenueKind::ScenicArea),
        ];
        let all: Vec<&Venue> = venues.iter().collect();
        let find = |code: &str| all.iter().copied().find(|v| v.code == code);
        let mut p = partner(&["C", "S"]);
        p.credentials =
            vec![
                serde_json::from_value(serde_json::json!({"protocol": "vista", "key": "K"}))
                    .expect("credential"),
            ];
        let e = check_partners(&[p.clone()], find, &all, |_, _| None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "partner[0].venues[1]: \"S\" is a scenic_area, which none of the partner's protocols (vista) sells"
        );
        p.venues = vec!["X".into()];
        let e = check_partners(&[p.clone()], find, &all, |_, _| None).unwrap_err();
        assert_eq!(e.to_string(), "partner[0].venues[0]: unknown venue \"X\"");
        p.venues = vec!["C".into()];
        assert_eq!(
            check_partners(&[p.clone()], find, &all, |_, _| None),
            Ok(())
        );
        let e = check_partners(&[p], find, &all, |_, _| Some("q".into())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "partner[0].credential[0].key: partner \"q\" already holds this vista key"
        );
    }

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
