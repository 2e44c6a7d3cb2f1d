//! `$metadata` (EDMX v3 / CSDL) generation.

use std::fmt::Write as _;

use crate::model::Model;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// One association derived from a navigation property.
struct Assoc {
    name: String,
    from_type: String,
    from_role: String,
    to_type: String,
    to_role: String,
    many: bool,
}

fn associations(model: &Model) -> Vec<Assoc> {
    let mut out = Vec::new();
    for t in &model.types {
        for n in &t.navigations {
            let to_type = model.unqualify(n.target_type).to_string();
            let from_role = t.name.to_string();
            let mut to_role = n.name.to_string();
            if to_role == from_role {
                to_role.push_str("_Target");
            }
            out.push(Assoc {
                name: format!("{}_{}", t.name, n.name),
                from_type: t.name.to_string(),
                from_role,
                to_type,
                to_role,
                many: n.many,
            });
        }
    }
    out
}

/// EDMX v3 document describing `model`: entity types with keys, properties and navigation
/// properties, the `Translation` complex type, associations, and an entity container with
/// entity sets, association sets and GET function imports.
pub fn metadata_xml(model: &Model) -> String {
    let ns = esc(model.namespace);
    let assocs = associations(model);
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>");
    x.push_str(
        "<edmx:Edmx Version=\"1.0\" xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\">",
    );
    x.push_str("<edmx:DataServices xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" m:DataServiceVersion=\"3.0\" m:MaxDataServiceVersion=\"3.0\">");
    let _ = write!(
        x,
        "<Schema Namespace=\"{ns}\" xmlns=\"http://schemas.microsoft.com/ado/2009/11/edm\">"
    );
    for t in &model.types {
        let _ = write!(x, "<EntityType Name=\"{}\">", esc(t.name));
        let _ = write!(x, "<Key><PropertyRef Name=\"{}\" /></Key>", esc(t.key));
        for p in &t.properties {
            let _ = write!(
                x,
                "<Property Name=\"{}\" Type=\"{}\" Nullable=\"{}\" />",
                esc(p.name),
                esc(&p.kind.edm_type(model.namespace)),
                p.nullable
            );
        }
        for n in &t.navigations {
            if let Some(a) = assocs
                .iter()
                .find(|a| a.from_type == t.name && a.name == format!("{}_{}", t.name, n.name))
            {
                let _ = write!(
                    x,
                    "<NavigationProperty Name=\"{}\" Relationship=\"{ns}.{}\" ToRole=\"{}\" FromRole=\"{}\" />",
                    esc(n.name),
                    esc(&a.name),
                    esc(&a.to_role),
                    esc(&a.from_role)
                );
            }
        }
        x.push_str("</EntityType>");
    }
    {
        x.push_str("<ComplexType Name=\"Translation\">");
        x.push_str("<Property Name=\"LanguageTag\" Type=\"Edm.String\" Nullable=\"true\" />");
        x.push_str("<Property Name=\"Text\" Type=\"Edm.String\" Nullable=\"true\" />");
        x.push_str("</ComplexType>");
    }
    for a in &assocs {
        let _ = write!(x, "<Association Name=\"{}\">", esc(&a.name));
        let _ = write!(
            x,
            "<End Type=\"{ns}.{}\" Role=\"{}\" Multiplicity=\"{}\" />",
            esc(&a.to_type),
            esc(&a.to_role),
            if a.many { "*" } else { "0..1" }
        );
        let _ = write!(
            x,
            "<End Type=\"{ns}.{}\" Role=\"{}\" Multiplicity=\"*\" />",
            esc(&a.from_type),
            esc(&a.from_role)
        );
        x.push_str("</Association>");
    }
    let _ = write!(
        x,
        "<EntityContainer Name=\"{}\" m:IsDefaultEntityContainer=\"true\">",
        esc(model.container)
    );
    for s in &model.sets {
        let _ = write!(
            x,
            "<EntitySet Name=\"{}\" EntityType=\"{ns}.{}\" />",
            esc(s.name),
            esc(model.unqualify(s.entity_type))
        );
    }
    for a in &assocs {
        let (Some(from_set), Some(to_set)) = (
            model.set_for_type(&a.from_type),
            model.set_for_type(&a.to_type),
        ) else {
            continue;
        };
        let _ = write!(
            x,
            "<AssociationSet Name=\"{}\" Association=\"{ns}.{}\">",
            esc(&a.name),
            esc(&a.name)
        );
        let _ = write!(
            x,
            "<End Role=\"{}\" EntitySet=\"{}\" />",
            esc(&a.to_role),
            esc(to_set.name)
        );
        let _ = write!(
            x,
            "<End Role=\"{}\" EntitySet=\"{}\" />",
            esc(&a.from_role),
            esc(from_set.name)
        );
        x.push_str("</AssociationSet>");
    }
    for f in &model.functions {
        let ret_type = model
            .entity_set(f.entity_set)
            .map(|s| model.unqualify(s.entity_type).to_string())
            .unwrap_or_else(|| f.entity_set.to_string());
        let _ = write!(
            x,
            "<FunctionImport Name=\"{}\" ReturnType=\"Collection({ns}.{})\" EntitySet=\"{}\" m:HttpMethod=\"GET\">",
            esc(f.name),
            esc(&ret_type),
            esc(f.entity_set)
        );
        for (name, kind) in &f.params {
            let _ = write!(
                x,
                "<Parameter Name=\"{}\" Type=\"{}\" Mode=\"In\" />",
                esc(name),
                esc(&kind.edm_type(model.namespace))
            );
        }
        x.push_str("</FunctionImport>");
    }
    x.push_str("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
    x
}
