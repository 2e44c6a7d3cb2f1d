mod common;

use boxoffice_odata::metadata_xml;

/// Minimal XML well-formedness check: balanced, properly nested tags, quoted attributes,
/// a single root element. Returns the list of element names in document order.
fn check_xml(x: &str) -> Result<Vec<String>, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut rest = x;
    let mut roots = 0;
    if let Some(r) = rest.strip_prefix("<?xml") {
        let end = r.find("?>").ok_or("unterminated declaration")?;
        rest = &r[end + 2..];
    }
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if stack.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside root: {text}"));
        }
        if text.contains('>') {
            return Err(format!("stray '>' in {text}"));
        }
        let after = &rest[lt + 1..];
        // Find the tag end, skipping quoted attribute values.
        let mut in_quote = None;
        let mut end = None;
        for (i, c) in after.char_indices() {
            match (in_quote, c) {
                (None, '"' | '\'') => in_quote = Some(c),
                (Some(q), c) if c == q => in_quote = None,
                (Some(_), '<') => return Err("'<' in attribute".into()),
                (None, '>') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.ok_or("unterminated tag")?;
        let tag = &after[..end];
        rest = &after[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or_else(|| format!("unexpected </{name}>"))?;
            if open != name.trim() {
                return Err(format!("</{name}> closes <{open}>"));
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name = body
            .split_whitespace()
            .next()
            .ok_or("empty tag")?
            .to_string();
        // Attributes: name="value" pairs.
        let attrs = body[name.len()..].trim();
        let mut a = attrs;
        while !a.is_empty() {
            let eq = a
                .find('=')
                .ok_or_else(|| format!("bad attribute in <{name}>: {a}"))?;
            let v = a[eq + 1..].trim_start();
            let q = v.chars().next().ok_or("missing value")?;
            if q != '"' {
                return Err(format!("unquoted attribute in <{name}>"));
            }
            let close = v[1..].find('"').ok_or("unterminated attribute")?;
            let val = &v[1..1 + close];
            if val.contains('&') && !val.contains(';') {
                return Err("bare '&'".into());
            }
            a = v[close + 2..].trim_start();
        }
        if stack.is_empty() {
            roots += 1;
        }
        names.push(name.clone());
        if !self_closing {
            stack.push(name);
        }
    }
    if !rest.trim().is_empty() {
        return Err("trailing text".into());
    }
    if !stack.is_empty() {
        return Err(format!("unclosed: {stack:?}"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(names)
}

#[test]
fn checker_rejects_bad_xml() {
    assert!(check_xml("<a><b></a></b>").is_err());
    assert!(check_xml("<a>").is_err());
    assert!(check_xml("<a x=1/>").is_err());
    assert!(check_xml("<a/><b/>").is_err());
    assert!(check_xml("<a x=\"1\"><b/></a>").is_ok());
}

#[test]
fn metadata_is_well_formed_and_complete() {
    let x = metadata_xml(&common::model());
    let names = check_xml(&x).unwrap_or_else(|e| panic!("{e}\n{x}"));
    assert_eq!(names[0], "edmx:Edmx");
    assert!(x.contains("<edmx:Edmx Version=\"1.0\""));
    assert!(x.contains("m:DataServiceVersion=\"3.0\""));
    assert!(x.contains("<Schema Namespace=\"WSVistaWebClient.ServiceContracts.OData\""));
    assert!(x.contains("<EntityType Name=\"Cinema\"><Key><PropertyRef Name=\"ID\" /></Key><Property Name=\"ID\" Type=\"Edm.String\" Nullable=\"false\" /><Property Name=\"CinemaNationalId\" Type=\"Edm.String\" Nullable=\"true\" />"));
    assert!(x.contains("<Property Name=\"Latitude\" Type=\"Edm.Decimal\" Nullable=\"true\" />"));
    assert!(x.contains("<Property Name=\"Showtime\" Type=\"Edm.DateTime\" Nullable=\"false\" />"));
    assert!(
        x.contains("<Property Name=\"SeatsAvailable\" Type=\"Edm.Int32\" Nullable=\"false\" />")
    );
    assert!(x.contains("<Property Name=\"AreaCategoryCodes\" Type=\"Collection(Edm.String)\" Nullable=\"false\" />"));
    assert!(x.contains("Type=\"Collection(WSVistaWebClient.ServiceContracts.OData.Translation)\""));
    assert!(x.contains(
        "<ComplexType Name=\"Translation\"><Property Name=\"LanguageTag\" Type=\"Edm.String\""
    ));
    assert!(x.contains("<NavigationProperty Name=\"Sessions\" Relationship=\"WSVistaWebClient.ServiceContracts.OData.ScheduledFilm_Sessions\" ToRole=\"Sessions\" FromRole=\"ScheduledFilm\" />"));
    assert!(x.contains("<Association Name=\"ScheduledFilm_Sessions\">"));
    assert!(x.contains(
        "<EntityContainer Name=\"DataServiceContext\" m:IsDefaultEntityContainer=\"true\">"
    ));
    assert!(x.contains("<EntitySet Name=\"Sessions\" EntityType=\"WSVistaWebClient.ServiceContracts.OData.Session\" />"));
    assert!(x.contains("<AssociationSet Name=\"ScheduledFilm_Sessions\""));
    assert!(x.contains("<FunctionImport Name=\"GetNowShowingScheduledFilms\" ReturnType=\"Collection(WSVistaWebClient.ServiceContracts.OData.ScheduledFilm)\" EntitySet=\"ScheduledFilms\" m:HttpMethod=\"GET\"><Parameter Name=\"cinemaId\" Type=\"Edm.String\" Mode=\"In\" /><Parameter Name=\"includeAdvanceSales\" Type=\"Edm.Boolean\" Mode=\"In\" /></FunctionImport>"));
    // Each entity type appears once; every association has two ends.
    assert_eq!(names.iter().filter(|n| *n == "EntityType").count(), 4);
    let assocs = names.iter().filter(|n| *n == "Association").count();
    assert_eq!(assocs, 6);
    assert_eq!(
        names.iter().filter(|n| *n == "NavigationProperty").count(),
        assocs
    );
}
