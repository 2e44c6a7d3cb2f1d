//! The Vista Connect OData model: the entity types, sets and service operations of a real
//! Connect install's `$metadata` (namespace `WSVistaWebClient.ServiceContracts.OData`),
//! properties in its declaration order, limited to what boxoffice serves.
//!
//! Left out on purpose: the complex-typed `CustomerRatingStatistics` and
//! `CustomerRatingTrailerStatistics` of `ScheduledFilm` and `Film` (the model has no complex
//! types besides `Translation`), and the loyalty, advertising, sales-profile and season-pass
//! sets (nothing in the catalogue feeds them).

use boxoffice_odata::PropKind::{
    Boolean as B, Byte as BY, DateTime as DT, Decimal as D, Int32 as I, String as S,
    StringCollection as SC, TranslationCollection as TC,
};
use boxoffice_odata::{
    EntitySet, EntityType, FunctionImport, Model, Navigation, PropKind, Property,
};

fn props(list: &[(&'static str, PropKind, bool)]) -> Vec<Property> {
    list.iter()
        .map(|&(n, k, nullable)| Property::new(n, k, nullable))
        .collect()
}

fn nav(name: &'static str, target_type: &'static str) -> Navigation {
    Navigation {
        name,
        target_type,
        many: true,
    }
}

/// The Vista Connect OData model (EDMX of a real Connect install, namespace
/// `WSVistaWebClient.ServiceContracts.OData`), properties in declaration order.
pub(crate) fn model() -> Model {
    Model {
        namespace: "WSVistaWebClient.ServiceContracts.OData",
        container: "DataServiceContext",
        types: vec![
            cinema_type(),
            scheduled_film_type(),
            session_type(),
            setting_type(),
            film_type(),
            site_group_type(),
            cinema_event_type(),
            attribute_type(),
            screen_attribute_type(),
        ],
        sets: SETS
            .iter()
            .map(|&(name, entity_type)| EntitySet { name, entity_type })
            .collect(),
        functions: functions(),
    }
}

/// Entity sets in the real container's order.
const SETS: &[(&str, &str)] = &[
    ("Cinemas", "Cinema"),
    ("ScheduledFilms", "ScheduledFilm"),
    ("Sessions", "Session"),
    ("Settings", "Setting"),
    ("Films", "Film"),
    ("SiteGroups", "SiteGroup"),
    ("CinemaEvents", "CinemaEvent"),
    ("Attributes", "Attribute"),
    ("ScreenAttributes", "ScreenAttribute"),
];

/// The parameters the real `GetScheduledFilms` declares (the film functions share them).
const SCHEDULED_FILM_PARAMS: &[(&str, PropKind)] = &[
    ("siteGroupId", PropKind::String),
    ("cinemaId", PropKind::String),
    ("cinemaEventId", PropKind::String),
    ("attributeShortName", PropKind::String),
    ("userSessionId", PropKind::String),
    ("loyaltyMembershipId", PropKind::String),
    ("includeAdvanceSales", PropKind::Boolean),
];

/// Service operations (GET function imports) with their declared parameters.
fn functions() -> Vec<FunctionImport> {
    let mut now_showing = SCHEDULED_FILM_PARAMS.to_vec();
    now_showing.extend([
        ("cinemaIds", PropKind::String),
        ("salesChannel", PropKind::String),
    ]);
    vec![
        FunctionImport {
            name: "GetScheduledFilms",
            entity_set: "ScheduledFilms",
            params: SCHEDULED_FILM_PARAMS.to_vec(),
        },
        FunctionImport {
            name: "GetNowShowingScheduledFilms",
            entity_set: "ScheduledFilms",
            params: now_showing,
        },
        FunctionImport {
            name: "GetComingSoonScheduledFilms",
            entity_set: "ScheduledFilms",
            params: vec![
                ("userSessionId", PropKind::String),
                ("loyaltyMembershipId", PropKind::String),
                ("cinemaIds", PropKind::String),
            ],
        },
        FunctionImport {
            name: "GetNowShowingSessions",
            entity_set: "Sessions",
            params: vec![
                ("siteGroupId", PropKind::String),
                ("cinemaId", PropKind::String),
            ],
        },
    ]
}

fn cinema_type() -> EntityType {
    EntityType {
        name: "Cinema",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("CinemaNationalId", S, true),
            ("Name", S, true),
            ("NameAlt", S, true),
            ("PhoneNumber", S, true),
            ("EmailAddress", S, true),
            ("Address1", S, true),
            ("Address2", S, true),
            ("City", S, true),
            ("Latitude", D, true),
            ("Longitude", D, true),
            ("ParkingInfo", S, true),
            ("LoyaltyCode", S, true),
            ("IsGiftStore", B, false),
            ("Description", S, true),
            ("DescriptionAlt", S, true),
            ("PublicTransport", S, true),
            ("CurrencyCode", S, true),
            ("AllowPrintAtHomeBookings", B, false),
            ("AllowOnlineVoucherValidation", B, false),
            ("DisplaySofaSeats", B, false),
            ("TimeZoneId", S, true),
            ("HOPK", S, true),
            ("NameTranslations", TC, false),
            ("DescriptionTranslations", TC, false),
            ("ParkingInfoTranslations", TC, false),
            ("PublicTransportTranslations", TC, false),
            ("TipsCompulsory", B, false),
            ("TipPercentages", S, true),
            ("ServerName", S, true),
        ]),
        navigations: vec![
            nav("ScheduledFilms", "ScheduledFilm"),
            nav("ScreenAttributes", "ScreenAttribute"),
            nav("ConceptAttributes", "Attribute"),
        ],
    }
}

fn scheduled_film_type() -> EntityType {
    EntityType {
        name: "ScheduledFilm",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("ScheduledFilmId", S, true),
            ("CinemaId", S, true),
            ("HasFutureSessions", B, false),
            ("Title", S, true),
            ("TitleAlt", S, true),
            ("Rating", S, true),
            ("RatingAlt", S, true),
            ("RatingDescription", S, true),
            ("RatingDescriptionAlt", S, true),
            ("Synopsis", S, true),
            ("SynopsisAlt", S, true),
            ("OpeningDate", DT, true),
            ("FilmHOPK", S, true),
            ("FilmHOCode", S, true),
            ("ShortCode", S, true),
            ("RunTime", S, true),
            ("TrailerUrl", S, true),
            ("DisplaySequence", I, true),
            ("TwitterTag", S, true),
            ("HasSessionsAvailable", B, false),
            ("GraphicUrl", S, true),
            ("CinemaName", S, true),
            ("CinemaNameAlt", S, true),
            ("AllowTicketSales", B, false),
            ("AdvertiseAdvanceBookingDate", B, false),
            ("AdvanceBookingDate", DT, true),
            ("LoyaltyAdvanceBookingDate", DT, true),
            ("HasDynamicallyPricedTicketsAvailable", B, false),
            ("IsPlayThroughMarketingFilm", B, false),
        ]),
        navigations: vec![
            nav("Sessions", "Session"),
            nav("PlayThroughFilms", "ScheduledFilm"),
        ],
    }
}

fn session_type() -> EntityType {
    EntityType {
        name: "Session",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("CinemaId", S, true),
            ("ScheduledFilmId", S, true),
            ("SessionId", S, true),
            ("AreaCategoryCodes", SC, false),
            ("Showtime", DT, false),
            ("IsAllocatedSeating", B, false),
            ("AllowChildAdmits", B, false),
            ("SeatsAvailable", I, false),
            ("AllowComplimentaryTickets", B, false),
            ("EventId", S, true),
            ("PriceGroupCode", S, true),
            ("ScreenName", S, true),
            ("ScreenNameAlt", S, true),
            ("ScreenNumber", I, true),
            ("CinemaOperatorCode", S, true),
            ("FormatCode", S, true),
            ("SalesChannels", S, true),
            ("SessionAttributesNames", SC, false),
            ("ConceptAttributesNames", SC, false),
            ("AllowTicketSales", B, false),
            ("HasDynamicallyPricedTicketsAvailable", B, false),
            ("PlayThroughId", S, true),
            ("SessionBusinessDate", DT, false),
            ("SessionDisplayPriority", I, false),
            ("GroupSessionsByAttribute", B, false),
        ]),
        navigations: vec![nav("Attributes", "Attribute")],
    }
}

fn attribute_type() -> EntityType {
    EntityType {
        name: "Attribute",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("Description", S, true),
            ("ShortName", S, true),
            ("AltDescription", S, true),
            ("AltShortName", S, true),
            ("Message", S, true),
            ("MessageAlt", S, true),
            ("SalesChannels", S, true),
            ("IsUsedForConcepts", B, false),
            ("IsUsedForSessionAdvertising", B, false),
            ("DisplayPriority", I, false),
            ("DescriptionTranslations", TC, false),
            ("MessageTranslations", TC, false),
            ("SessionAttributeCinemaIDs", SC, false),
        ]),
        navigations: vec![],
    }
}

fn film_type() -> EntityType {
    EntityType {
        name: "Film",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("ShortCode", S, true),
            ("Title", S, true),
            ("Rating", S, true),
            ("RatingDescription", S, true),
            ("Synopsis", S, true),
            ("ShortSynopsis", S, true),
            ("HOFilmCode", S, true),
            ("CorporateFilmId", S, true),
            ("RunTime", I, true),
            ("OpeningDate", DT, true),
            ("TrailerUrl", S, true),
            ("IsComingSoon", B, false),
            ("IsScheduledAtCinema", B, false),
            ("TitleAlt", S, true),
            ("RatingAlt", S, true),
            ("RatingDescriptionAlt", S, true),
            ("SynopsisAlt", S, true),
            ("ShortSynopsisAlt", S, true),
            ("WebsiteUrl", S, true),
            ("GenreId", S, true),
            ("TwitterTag", S, true),
            ("TitleTranslations", TC, false),
            ("SynopsisTranslations", TC, false),
            ("RatingDescriptionTranslations", TC, false),
            ("FilmWebId", S, true),
        ]),
        navigations: vec![],
    }
}

fn setting_type() -> EntityType {
    EntityType {
        name: "Setting",
        key: "ID",
        properties: props(&[("ID", S, false), ("Value", S, true), ("Name", S, true)]),
        navigations: vec![],
    }
}

fn site_group_type() -> EntityType {
    EntityType {
        name: "SiteGroup",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("Name", S, true),
            ("AreaCode", S, true),
            ("ClientId", S, true),
            ("IsOnlyAvailableToClient", B, false),
        ]),
        navigations: vec![nav("Cinemas", "Cinema")],
    }
}

fn cinema_event_type() -> EntityType {
    EntityType {
        name: "CinemaEvent",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("Name", S, true),
            ("NameAlt", S, true),
            ("Description", S, true),
            ("DescriptionAlt", S, true),
            ("StartDate", DT, true),
            ("Status", I, false),
            ("CinemaIDs", SC, false),
            ("HasSeasonPassTicketsAvailable", B, false),
            ("NameTranslations", TC, false),
            ("DescriptionTranslations", TC, false),
        ]),
        navigations: vec![nav("LinkedCinemas", "Cinema")],
    }
}

fn screen_attribute_type() -> EntityType {
    EntityType {
        name: "ScreenAttribute",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("CinemaId", S, true),
            ("ScreenNumber", BY, false),
            ("ShortName", S, true),
            ("IsConcept", B, false),
            ("Description", S, true),
            ("DescriptionAlt", S, true),
        ]),
        navigations: vec![],
    }
}
