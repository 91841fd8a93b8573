//! Error responses from the schemas: for every request, the response a broker sends when the
//! whole request fails with one error code.
//!
//! The rules read the two schemas side by side:
//! * every `ErrorCode` field (and every `...ErrorCode` field) of the response gets the code,
//!   unless the schema gives it `error=V`;
//! * a response array is filled from the request array it answers, element by element: arrays
//!   correspond when their elements share a *key* field (a map key, a topic, group or
//!   transactional id, a partition index, a resource), and a request array of plain values
//!   (topic names, partition indexes, coordinator keys) fills the response element's key;
//! * key fields are copied from the request element; a field with `error=V` gets `V`; every
//!   other field keeps its default.
//!
//! Two request arrays answered by the same response array are both used when they exist at
//! disjoint versions (DeleteTopics names topics in `TopicNames` before v6 and in `Topics`
//! after); otherwise the best match alone.

use std::fmt::Write;

use crate::emit_types::{base_type, default_expr, is_option};
use crate::naming::snake;
use crate::schema::{Field, Message, Prim, Type, Versions};

/// Entities that identify an element rather than describe it.
const KEY_ENTITIES: &[&str] = &["topicName", "groupId", "transactionalId"];
/// Field names that identify an element.
const KEY_NAMES: &[&str] = &[
    "Name",
    "Topic",
    "TopicName",
    "TopicId",
    "PartitionIndex",
    "Partition",
    "Index",
    "GroupId",
    "Key",
    "ResourceType",
    "ResourceName",
    "TransactionalId",
];

fn is_key(f: &Field) -> bool {
    f.map_key
        || f.entity
            .as_deref()
            .is_some_and(|e| KEY_ENTITIES.contains(&e))
        || KEY_NAMES.contains(&f.name.as_str())
}

fn is_error_code(f: &Field) -> bool {
    matches!(f.ty, Type::Prim(Prim::ErrorCode))
}

/// Which alias class a key name belongs to, so that `Partition` answers `PartitionIndex`.
fn key_class(f: &Field) -> String {
    name_class(&f.name, f.entity.as_deref())
}

fn name_class(name: &str, entity: Option<&str>) -> String {
    match name {
        "PartitionIndex" | "Partition" | "Index" => "partition".into(),
        "Name" | "Topic" | "TopicName" if entity == Some("topicName") => "topic".into(),
        "Topic" | "TopicName" => "topic".into(),
        other => other.to_string(),
    }
}

/// The element type of an array field, if any.
fn element(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Array(t) => Some(t),
        _ => None,
    }
}

/// The fields of a structure type, whether defined inline or shared.
fn struct_fields<'a>(f: &'a Field, m: &'a Message) -> Option<&'a [Field]> {
    let name = match &f.ty {
        Type::Struct(n) => n,
        Type::Array(t) => match t.as_ref() {
            Type::Struct(n) => n,
            _ => return None,
        },
        Type::Prim(_) => return None,
    };
    if !f.fields.is_empty() {
        return Some(&f.fields);
    }
    m.structs
        .iter()
        .find(|s| &s.name == name)
        .map(|s| s.fields.as_slice())
}

fn struct_name(ty: &Type) -> Option<&str> {
    match ty {
        Type::Struct(n) => Some(n),
        Type::Array(t) => struct_name(t),
        Type::Prim(_) => None,
    }
}

/// How well request field `q` answers response array `r` (with element fields `r_fields`);
/// `None` when it does not.
fn match_score(r: &Field, r_fields: &[Field], q: &Field, req: &Message) -> Option<u32> {
    let q_elem = element(&q.ty)?;
    let keys: Vec<&Field> = r_fields.iter().filter(|f| is_key(f)).collect();
    match q_elem {
        Type::Struct(_) => {
            let q_fields = struct_fields(q, req)?;
            let shared = keys.iter().any(|k| {
                q_fields.iter().any(|qf| {
                    key_class(qf) == key_class(k) && base_type(&qf.ty) == base_type(&k.ty)
                })
            });
            shared.then_some(if q.name == r.name { 3 } else { 2 })
        }
        Type::Prim(p) => scalar_key(r_fields, q, *p).map(|_| 1),
        Type::Array(_) => None,
    }
}

/// The response element's key that a request array of plain values fills: one with the same
/// entity, else one whose name appears in the array's name (`PartitionIndex` in
/// `PartitionIndexes`, `Key` in `CoordinatorKeys`), else one of the class the array's name
/// is the plural of (`Partitions` fills `PartitionIndex`).
fn scalar_key<'a>(r_fields: &'a [Field], q: &Field, p: Prim) -> Option<&'a Field> {
    let same_type = |f: &&Field| f.ty == Type::Prim(p);
    r_fields
        .iter()
        .filter(same_type)
        .find(|f| q.entity.is_some() && f.entity == q.entity)
        .or_else(|| {
            r_fields
                .iter()
                .filter(same_type)
                .filter(|f| is_key(f))
                .find(|f| q.name.contains(f.name.as_str()))
        })
        .or_else(|| {
            let singular = q.name.strip_suffix('s')?;
            r_fields
                .iter()
                .filter(same_type)
                .filter(|f| is_key(f))
                .find(|f| key_class(f) == name_class(singular, None))
        })
}

/// The request fields that fill response array `r`, best first, with disjoint-version extras.
fn sources<'a>(
    r: &Field,
    r_fields: &[Field],
    q_fields: &'a [Field],
    req: &Message,
) -> Vec<&'a Field> {
    let mut scored: Vec<(u32, usize, &Field)> = q_fields
        .iter()
        .enumerate()
        .filter_map(|(i, q)| match_score(r, r_fields, q, req).map(|s| (s, i, q)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<&Field> = Vec::new();
    for (_, _, q) in scored {
        if chosen
            .iter()
            .all(|c| c.versions.intersect(q.versions) == Versions::None)
        {
            chosen.push(q);
        }
    }
    chosen
}

/// Whether values of `ty` are `Copy` in Rust (and so are copied, not cloned).
fn is_copy(ty: &Type) -> bool {
    matches!(ty.wire(), Type::Prim(p) if !matches!(p, Prim::String | Prim::Bytes | Prim::Records))
}

/// An expression converting request value `expr` (of `q`'s type) into `r`'s type.
fn adapt(expr: &str, q: &Field, r: &Field) -> Option<String> {
    if q.ty.wire() != r.ty.wire() {
        return None;
    }
    let mut value = if is_copy(&q.ty) {
        expr.to_string()
    } else {
        format!("{expr}.clone()")
    };
    if base_type(&q.ty) != base_type(&r.ty) {
        // One side names an entity the other leaves plain: same wire type, so convert.
        value = if is_option(q) {
            format!("{value}.map(Into::into)")
        } else {
            format!("{}::from({value})", base_type(&r.ty))
        };
    }
    Some(match (is_option(q), is_option(r)) {
        (false, false) | (true, true) => value,
        (false, true) => format!("Some({value})"),
        (true, false) => format!("{value}.unwrap_or_default()"),
    })
}

/// The value of `f` in an error response: `error=V`, else its default.
fn error_value(f: &Field) -> Result<String, String> {
    match &f.error_value {
        Some(v) => {
            let mut with_default = f.clone();
            with_default.default = Some(v.clone());
            default_expr(&with_default)
        }
        None => default_expr(f),
    }
}

/// Where the fields of the structure being built come from.
enum Source<'a> {
    /// A request structure bound to `expr`.
    Struct { expr: String, fields: &'a [Field] },
    /// A plain request value bound to `expr`, filling key field `key`.
    Scalar { expr: String, key: String },
}

/// A struct literal of response structure `name` with `fields`, filled from `source`.
fn build(
    name: &str,
    fields: &[Field],
    source: &Source<'_>,
    resp: &Message,
    req: &Message,
    depth: usize,
) -> Result<String, String> {
    let mut out = format!("{}::{name} {{ ", resp_path(resp));
    for f in fields {
        let n = snake(&f.name);
        let value = if is_error_code(f) && f.error_value.is_none() {
            Some("c".to_string())
        } else if f.error_value.is_some() {
            Some(error_value(f)?)
        } else if let Some(r_fields) = element(&f.ty).and_then(|_| struct_fields(f, resp)) {
            array(f, r_fields, source, resp, req, depth)?
        } else {
            match source {
                Source::Struct {
                    expr,
                    fields: q_fields,
                } if is_key(f) => q_fields
                    .iter()
                    .filter(|q| key_class(q) == key_class(f))
                    .find_map(|q| adapt(&format!("{expr}.{}", snake(&q.name)), q, f)),
                Source::Scalar { expr, key } if *key == f.name => {
                    let plain =
                        !is_copy(&f.ty) || matches!(f.ty, Type::Prim(Prim::Uuid)) || is_option(f);
                    Some(if is_option(f) {
                        format!("Some({expr}.clone())")
                    } else if plain {
                        format!("{expr}.clone()")
                    } else {
                        format!("*{expr}")
                    })
                }
                _ => None,
            }
        };
        if let Some(v) = value {
            write!(out, "{n}: {v}, ").map_err(|e| e.to_string())?;
        }
    }
    out.push_str("..Default::default() }");
    Ok(out)
}

/// The expression filling response array `f`, if a request array answers it.
fn array(
    f: &Field,
    r_fields: &[Field],
    source: &Source<'_>,
    resp: &Message,
    req: &Message,
    depth: usize,
) -> Result<Option<String>, String> {
    let Source::Struct {
        expr,
        fields: q_fields,
    } = source
    else {
        return Ok(None);
    };
    let Some(elem_name) = struct_name(&f.ty) else {
        return Ok(None);
    };
    let picks = sources(f, r_fields, q_fields, req);
    if picks.is_empty() {
        return Ok(None);
    }
    let var = format!("e{depth}");
    let mut parts = Vec::new();
    for q in picks {
        let iter = if is_option(q) {
            format!("{expr}.{}.iter().flatten()", snake(&q.name))
        } else {
            format!("{expr}.{}.iter()", snake(&q.name))
        };
        let inner = match element(&q.ty) {
            Some(Type::Struct(_)) => {
                let q_inner = struct_fields(q, req).unwrap_or_default();
                Source::Struct {
                    expr: var.clone(),
                    fields: q_inner,
                }
            }
            Some(Type::Prim(p)) => match scalar_key(r_fields, q, *p) {
                Some(key) => Source::Scalar {
                    expr: var.clone(),
                    key: key.name.clone(),
                },
                None => continue,
            },
            _ => continue,
        };
        let body = build(elem_name, r_fields, &inner, resp, req, depth + 1)?;
        parts.push(format!("{iter}.map(|{var}| {body})"));
    }
    let chained = parts
        .iter()
        .skip(1)
        .fold(parts[0].clone(), |acc, p| format!("{acc}.chain({p})"));
    let collected = format!(
        "{chained}.collect::<Vec<{}::{elem_name}>>()",
        resp_path(resp)
    );
    Ok(Some(if is_option(f) {
        format!("Some({collected})")
    } else {
        collected
    }))
}

/// The path of the response's module, from a request module.
fn resp_path(resp: &Message) -> String {
    format!("super::{}", snake(&resp.name))
}

/// The `error_response` method of request `req`, answered by `resp` in module `resp_module`.
pub fn error_response_impl(
    req: &Message,
    resp: &Message,
    resp_module: &str,
) -> Result<String, String> {
    let source = Source::Struct {
        expr: "self".into(),
        fields: &req.fields,
    };
    let body = build(&resp.name, &resp.fields, &source, resp, req, 0)?;
    let mut out = String::new();
    writeln!(out, "impl {} {{", req.name).map_err(|e| e.to_string())?;
    writeln!(
        out,
        "    /// The response to this request failing as a whole with `code`, as a broker sends it:\n    /// every error code field set to `code`, the request's topics, partitions, groups or\n    /// resources echoed, and every other field at its default (or its error value)."
    )
    .map_err(|e| e.to_string())?;
    writeln!(
        out,
        "    pub fn error_response(&self, code: crate::ErrorCode) -> super::{resp_module}::{} {{",
        resp.name
    )
    .map_err(|e| e.to_string())?;
    if body.contains(": c,") {
        writeln!(out, "        let c = code;").map_err(|e| e.to_string())?;
    } else {
        writeln!(out, "        let _ = code;").map_err(|e| e.to_string())?;
    }
    writeln!(out, "        {body}\n    }}\n}}\n").map_err(|e| e.to_string())?;
    Ok(out)
}
