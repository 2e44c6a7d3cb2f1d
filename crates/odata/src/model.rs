//! The entity data model (what `$metadata` describes) and entity values.

use chrono::{NaiveDateTime, Timelike};

/// The EDM type of a structural property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropKind {
    /// `Edm.String`.
    String,
    /// `Edm.Int32`.
    Int32,
    /// `Edm.Byte`.
    Byte,
    /// `Edm.Boolean`.
    Boolean,
    /// `Edm.DateTime` (local wall-clock, no offset).
    DateTime,
    /// `Edm.Decimal` (rendered as a JSON string).
    Decimal,
    /// `Collection(Edm.String)`.
    StringCollection,
    /// `Collection({namespace}.Translation)` of `{LanguageTag, Text}`.
    TranslationCollection,
}

impl PropKind {
    /// The EDM type name as written in `$metadata` (`ns` qualifies the `Translation` complex type).
    pub fn edm_type(self, ns: &str) -> String {
        match self {
            PropKind::String => "Edm.String".into(),
            PropKind::Int32 => "Edm.Int32".into(),
            PropKind::Byte => "Edm.Byte".into(),
            PropKind::Boolean => "Edm.Boolean".into(),
            PropKind::DateTime => "Edm.DateTime".into(),
            PropKind::Decimal => "Edm.Decimal".into(),
            PropKind::StringCollection => "Collection(Edm.String)".into(),
            PropKind::TranslationCollection => format!("Collection({ns}.Translation)"),
        }
    }

    /// True for the two collection kinds (not usable in `$filter`/`$orderby`).
    pub fn is_collection(self) -> bool {
        matches!(
            self,
            PropKind::StringCollection | PropKind::TranslationCollection
        )
    }
}

/// A structural property of an entity type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Property name (case-sensitive).
    pub name: &'static str,
    /// EDM type.
    pub kind: PropKind,
    /// Whether `null` is allowed (`Nullable` facet in `$metadata`).
    pub nullable: bool,
}

impl Property {
    /// Shorthand constructor.
    pub const fn new(name: &'static str, kind: PropKind, nullable: bool) -> Property {
        Property {
            name,
            kind,
            nullable,
        }
    }
}

/// A navigation property (expandable with `$expand`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Navigation {
    /// Navigation property name (case-sensitive).
    pub name: &'static str,
    /// Target entity type name (unqualified, e.g. `"Session"`; a namespace-qualified name is accepted too).
    pub target_type: &'static str,
    /// True for a collection (`*`) navigation, false for a single-valued (`0..1`) one.
    pub many: bool,
}

/// An entity type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityType {
    /// Unqualified type name, e.g. `"Session"`.
    pub name: &'static str,
    /// Name of the key property.
    pub key: &'static str,
    /// Structural properties in declaration (EDMX) order.
    pub properties: Vec<Property>,
    /// Navigation properties in declaration order.
    pub navigations: Vec<Navigation>,
}

impl EntityType {
    /// Index of a structural property in [`EntityType::properties`] (case-sensitive).
    pub fn property_index(&self, name: &str) -> Option<usize> {
        self.properties.iter().position(|p| p.name == name)
    }

    /// A structural property by name (case-sensitive).
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// A navigation property by name (case-sensitive).
    pub fn navigation(&self, name: &str) -> Option<&Navigation> {
        self.navigations.iter().find(|n| n.name == name)
    }
}

/// An entity set of the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitySet {
    /// Set name, e.g. `"Cinemas"`.
    pub name: &'static str,
    /// Unqualified entity type name, e.g. `"Cinema"`.
    pub entity_type: &'static str,
}

/// A service operation (function import) invoked with GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionImport {
    /// Function name, e.g. `"GetNowShowingScheduledFilms"`.
    pub name: &'static str,
    /// The entity set of the result, e.g. `"ScheduledFilms"`.
    pub entity_set: &'static str,
    /// Parameters (name, type) in declaration order.
    pub params: Vec<(&'static str, PropKind)>,
}

/// The whole data model of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// Schema namespace, e.g. `"WSVistaWebClient.ServiceContracts.OData"`.
    pub namespace: &'static str,
    /// Entity container name.
    pub container: &'static str,
    /// Entity types.
    pub types: Vec<EntityType>,
    /// Entity sets.
    pub sets: Vec<EntitySet>,
    /// Function imports (service operations).
    pub functions: Vec<FunctionImport>,
}

impl Model {
    /// An entity type by name, unqualified (`"Session"`) or namespace-qualified.
    pub fn entity_type(&self, name: &str) -> Option<&EntityType> {
        let name = self.unqualify(name);
        self.types.iter().find(|t| t.name == name)
    }

    /// An entity set by exact (case-sensitive) name.
    pub fn entity_set(&self, name: &str) -> Option<&EntitySet> {
        self.sets.iter().find(|s| s.name == name)
    }

    /// A function import by exact (case-sensitive) name.
    pub fn function(&self, name: &str) -> Option<&FunctionImport> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The entity set whose element type is `type_name` (first match).
    pub fn set_for_type(&self, type_name: &str) -> Option<&EntitySet> {
        let name = self.unqualify(type_name);
        self.sets
            .iter()
            .find(|s| self.unqualify(s.entity_type) == name)
    }

    /// The namespace-qualified name of a type, e.g. `WSVistaWebClient.ServiceContracts.OData.Session`.
    pub fn qualified(&self, type_name: &str) -> String {
        format!("{}.{}", self.namespace, self.unqualify(type_name))
    }

    pub(crate) fn unqualify<'a>(&self, name: &'a str) -> &'a str {
        name.strip_prefix(self.namespace)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(name)
    }

    pub(crate) fn require_type(&self, name: &str) -> Result<&EntityType, crate::ODataError> {
        self.entity_type(name).ok_or_else(|| {
            crate::error::bad(format!(
                "Type '{}' is not defined in the model.",
                self.qualified(name)
            ))
        })
    }
}

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `Edm.String`.
    String(String),
    /// `Edm.Int32` / `Edm.Byte`.
    Int(i64),
    /// `Edm.Boolean`.
    Bool(bool),
    /// `Edm.DateTime` (local wall-clock).
    DateTime(NaiveDateTime),
    /// `Edm.Decimal`, as its decimal text (scale preserved), e.g. `"31.2304"`.
    Decimal(String),
    /// `Collection(Edm.String)`.
    Strings(Vec<String>),
    /// `Collection(Translation)` as `(LanguageTag, Text)` pairs.
    Translations(Vec<(String, String)>),
}

impl Value {
    /// Converts to the JSON-light representation (see [`crate::render_collection`]).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::String(s) => J::String(s.clone()),
            Value::Int(i) => J::from(*i),
            Value::Bool(b) => J::Bool(*b),
            Value::DateTime(d) => J::String(format_datetime(d)),
            Value::Decimal(s) => J::String(s.clone()),
            Value::Strings(v) => J::Array(v.iter().map(|s| J::String(s.clone())).collect()),
            Value::Translations(v) => J::Array(
                v.iter()
                    .map(|(tag, text)| {
                        let mut m = serde_json::Map::new();
                        m.insert("LanguageTag".into(), J::String(tag.clone()));
                        m.insert("Text".into(), J::String(text.clone()));
                        J::Object(m)
                    })
                    .collect(),
            ),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Value {
        s.map_or(Value::Null, Value::String)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<NaiveDateTime> for Value {
    fn from(d: NaiveDateTime) -> Value {
        Value::DateTime(d)
    }
}

/// Formats an `Edm.DateTime` as WCF does in JSON light: `yyyy-MM-ddTHH:mm:ss`, plus up to
/// seven fractional digits (trailing zeros trimmed) only when the fraction is non-zero.
pub fn format_datetime(d: &NaiveDateTime) -> String {
    let base = d.format("%Y-%m-%dT%H:%M:%S").to_string();
    // .NET ticks are 100 ns; leap-second nanos (>= 1e9) are folded into the last tick.
    let ticks = (d.nanosecond() / 100).min(9_999_999);
    if ticks == 0 {
        return base;
    }
    let frac = format!("{ticks:07}");
    format!("{base}.{}", frac.trim_end_matches('0'))
}

/// An entity: structural values in the entity type's declaration order plus the
/// (already loaded) navigation collections, keyed by navigation property name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entity {
    /// Structural values, same order and length as [`EntityType::properties`]
    /// (a missing trailing value is treated as `null`).
    pub values: Vec<Value>,
    /// Navigation collections (only those the adapter loaded; a requested but absent one renders as `[]`).
    pub nav: Vec<(&'static str, Vec<Entity>)>,
}

impl Entity {
    /// An entity without navigation collections.
    pub fn new(values: Vec<Value>) -> Entity {
        Entity {
            values,
            nav: Vec::new(),
        }
    }

    /// The value at a property index (`Null` when missing).
    pub fn value(&self, index: usize) -> &Value {
        self.values.get(index).unwrap_or(&Value::Null)
    }

    /// A navigation collection by name, if loaded.
    pub fn navigation(&self, name: &str) -> Option<&[Entity]> {
        self.nav
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
    }
}
