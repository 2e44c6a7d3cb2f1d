//! Applying query options to entity collections and rendering JSON light.

use serde_json::{Map, Value as J};

use crate::error::{bad, ODataError};
use crate::filter::{self, no_property};
use crate::model::{Entity, EntityType, Model};
use crate::query::Query;

/// Checks every option of `q` against entity type `ty`: `$filter` (names and types),
/// `$orderby`, `$select` and `$expand` paths. Called by [`apply`] and [`render_collection`].
pub fn validate(model: &Model, ty: &str, q: &Query) -> Result<(), ODataError> {
    let et = model.require_type(ty)?;
    if let Some(e) = q.filter_expr() {
        filter::bind(model, et, e)?;
    }
    order_keys(model, et, q)?;
    if let Some(items) = q.select_items() {
        for item in items {
            let mut cur = et;
            let mut pos = item.pos;
            let last = item.path.len().saturating_sub(1);
            for (i, seg) in item.path.iter().enumerate() {
                if seg == "*" {
                    break;
                }
                if let Some(nav) = cur.navigation(seg) {
                    if i < last {
                        cur = model.require_type(nav.target_type)?;
                    }
                } else if cur.property(seg).is_some() {
                    if i < last {
                        return Err(bad(format!(
                            "Property '{seg}' on type '{}' is not a navigation property; '/' cannot follow it in $select at position {pos}.",
                            model.qualified(cur.name)
                        )));
                    }
                } else {
                    return Err(no_property(model, cur, seg, pos));
                }
                pos += seg.chars().count() + 1;
            }
        }
    }
    for path in q.expand_paths() {
        let mut cur = et;
        for seg in &path {
            match cur.navigation(seg) {
                Some(nav) => cur = model.require_type(nav.target_type)?,
                None if cur.property(seg).is_some() => {
                    return Err(bad(format!(
                        "Only navigation properties can be expanded; property '{seg}' of type '{}' is not a navigation property.",
                        model.qualified(cur.name)
                    )))
                }
                None => return Err(no_property(model, cur, seg, 0)),
            }
        }
    }
    Ok(())
}

fn order_keys(model: &Model, et: &EntityType, q: &Query) -> Result<Vec<(usize, bool)>, ODataError> {
    q.orderby()
        .iter()
        .map(|k| {
            let idx = et
                .property_index(&k.property)
                .ok_or_else(|| no_property(model, et, &k.property, k.pos))?;
            if et.properties[idx].kind.is_collection() {
                return Err(bad(format!(
                    "The $orderby expression must evaluate to a single value of primitive type (property '{}' at position {}).",
                    k.property, k.pos
                )));
            }
            Ok((idx, k.descending))
        })
        .collect()
}

/// Applies `$filter`, `$orderby`, `$skip` and `$top` (in that order) to a collection of
/// entities of type `ty`. All options (including `$select`/`$expand`) are validated first:
/// an unknown property yields `BadRequest` with a WCF-like message, e.g.
/// `No property 'Foo' exists in type 'WSVistaWebClient.ServiceContracts.OData.Session' at position 0.`
pub fn apply(
    model: &Model,
    ty: &str,
    entities: Vec<Entity>,
    q: &Query,
) -> Result<Vec<Entity>, ODataError> {
    validate(model, ty, q)?;
    let et = model.require_type(ty)?;
    let mut out = match q.filter_expr() {
        Some(e) => {
            let b = filter::bind(model, et, e)?;
            entities
                .into_iter()
                .filter(|ent| filter::eval(&b, ent) == Some(true))
                .collect()
        }
        None => entities,
    };
    let keys = order_keys(model, et, q)?;
    if !keys.is_empty() {
        out.sort_by(|a, b| {
            for &(idx, desc) in &keys {
                let o = filter::order_values(a.value(idx), b.value(idx));
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let skip = q.skip().unwrap_or(0);
    let out = out.into_iter().skip(skip);
    Ok(match q.top() {
        Some(n) => out.take(n).collect(),
        None => out.collect(),
    })
}

/// Expansion tree: navigation name → nested expansions.
#[derive(Default)]
struct ExpNode {
    children: Vec<(String, ExpNode)>,
}

impl ExpNode {
    fn insert(&mut self, path: &[String]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let idx = match self.children.iter().position(|(n, _)| n == first) {
            Some(i) => i,
            None => {
                self.children.push((first.clone(), ExpNode::default()));
                self.children.len() - 1
            }
        };
        self.children[idx].1.insert(rest);
    }

    fn child(&self, name: &str) -> Option<&ExpNode> {
        self.children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
    }
}

/// What to render for one entity type level.
struct Sel<'m> {
    ty: &'m EntityType,
    all: bool,
    props: Vec<bool>,
    navs: Vec<(&'static str, Sel<'m>)>,
}

fn build_sel<'m>(
    model: &'m Model,
    ty: &'m EntityType,
    select: Option<Vec<&[String]>>,
    exp: &ExpNode,
) -> Result<Sel<'m>, ODataError> {
    let mut sel = Sel {
        ty,
        all: select.is_none(),
        props: vec![false; ty.properties.len()],
        navs: Vec::new(),
    };
    let select = select.unwrap_or_default();
    let whole = sel.all;
    for path in &select {
        if let [one] = path {
            if one == "*" {
                sel.all = true;
            } else if let Some(i) = ty.property_index(one) {
                sel.props[i] = true;
            }
        }
    }
    for nav in &ty.navigations {
        let Some(child_exp) = exp.child(nav.name) else {
            continue;
        };
        let target = model.require_type(nav.target_type)?;
        let whole_nav = whole || select.iter().any(|p| p.len() == 1 && p[0] == nav.name);
        if whole_nav {
            sel.navs
                .push((nav.name, build_sel(model, target, None, child_exp)?));
            continue;
        }
        let sub: Vec<&[String]> = select
            .iter()
            .filter(|p| p.len() > 1 && p[0] == nav.name)
            .map(|p| &p[1..])
            .collect();
        if !sub.is_empty() {
            sel.navs
                .push((nav.name, build_sel(model, target, Some(sub), child_exp)?));
        }
    }
    Ok(sel)
}

fn selection<'m>(model: &'m Model, ty: &str, q: &Query) -> Result<Sel<'m>, ODataError> {
    validate(model, ty, q)?;
    let et = model.require_type(ty)?;
    let mut exp = ExpNode::default();
    for p in q.expand_paths() {
        exp.insert(&p);
    }
    let select = q
        .select_items()
        .map(|items| items.iter().map(|i| i.path.as_slice()).collect());
    build_sel(model, et, select, &exp)
}

fn entity_json(sel: &Sel, e: &Entity) -> Map<String, J> {
    let mut m = Map::new();
    for (i, p) in sel.ty.properties.iter().enumerate() {
        if sel.all || sel.props[i] {
            m.insert(p.name.to_string(), e.value(i).to_json());
        }
    }
    for (name, child) in &sel.navs {
        let items = e
            .navigation(name)
            .unwrap_or(&[])
            .iter()
            .map(|c| J::Object(entity_json(child, c)))
            .collect();
        m.insert((*name).to_string(), J::Array(items));
    }
    m
}

fn metadata_url(base: &str, fragment: &str, q: &Query) -> String {
    let mut s = format!("{}/$metadata#{fragment}", base.trim_end_matches('/'));
    if let Some(sel) = q.select_text() {
        s.push_str("&$select=");
        s.push_str(sel);
    }
    s
}

/// Renders a collection response:
/// `{"odata.metadata":"{base}/$metadata#{set}[&$select=...]","value":[...]}`.
///
/// Structural properties come in declaration order (only the selected ones when `$select`
/// is given; `*` = all structural), followed by the expanded navigations (requested by
/// `$expand` or implied by a nested `$select` path) as arrays, in declaration order.
/// With `$select`, an expanded navigation is rendered only if the select list names it
/// or a path below it. Unexpanded navigations are omitted.
pub fn render_collection(
    model: &Model,
    ty: &str,
    base: &str,
    set_fragment: &str,
    entities: &[Entity],
    q: &Query,
) -> Result<String, ODataError> {
    let sel = selection(model, ty, q)?;
    let mut root = Map::new();
    root.insert(
        "odata.metadata".into(),
        J::String(metadata_url(base, set_fragment, q)),
    );
    root.insert(
        "value".into(),
        J::Array(
            entities
                .iter()
                .map(|e| J::Object(entity_json(&sel, e)))
                .collect(),
        ),
    );
    Ok(J::Object(root).to_string())
}

/// Renders a single entity (addressed by key, e.g. `Cinemas('0200')`):
/// `{"odata.metadata":"{base}/$metadata#{set}/@Element[&$select=...]",...properties}`.
pub fn render_entity(
    model: &Model,
    ty: &str,
    base: &str,
    set_fragment: &str,
    entity: &Entity,
    q: &Query,
) -> Result<String, ODataError> {
    let sel = selection(model, ty, q)?;
    let mut root = Map::new();
    root.insert(
        "odata.metadata".into(),
        J::String(metadata_url(base, &format!("{set_fragment}/@Element"), q)),
    );
    root.extend(entity_json(&sel, entity));
    Ok(J::Object(root).to_string())
}

/// Service document: `{"odata.metadata":"{base}/$metadata","value":[{"name":"Cinemas","url":"Cinemas"},...]}`
/// listing the entity sets in model order.
pub fn service_document(model: &Model, base: &str) -> String {
    let mut root = Map::new();
    root.insert(
        "odata.metadata".into(),
        J::String(format!("{}/$metadata", base.trim_end_matches('/'))),
    );
    let sets = model
        .sets
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("name".into(), J::String(s.name.into()));
            m.insert("url".into(), J::String(s.name.into()));
            J::Object(m)
        })
        .collect();
    root.insert("value".into(), J::Array(sets));
    J::Object(root).to_string()
}
