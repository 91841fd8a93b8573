//! The schema language: parsing `kafka-protocol/schema/*.kschema` into a model.
//!
//! The format is documented in `kafka-protocol/schema/README.md`. In short: one file per API,
//! `api NAME key=N`, then a `request` and a `response` block (or `header` blocks), each followed by
//! its fields one per line, nested by two-space indentation, and `struct` blocks for structures
//! shared by several fields of the message above them.

use std::fmt;

/// A version range such as `3+`, `0-8`, `5` or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versions {
    /// No version.
    None,
    /// `lo..=hi` inclusive; `hi == i16::MAX` for an open range.
    Range(i16, i16),
}

impl Versions {
    pub fn parse(s: &str) -> Result<Versions, String> {
        let s = s.trim();
        if s == "none" {
            return Ok(Versions::None);
        }
        let num = |t: &str| {
            t.parse::<i16>()
                .map_err(|_| format!("bad version range {s:?}"))
        };
        if let Some(lo) = s.strip_suffix('+') {
            return Ok(Versions::Range(num(lo)?, i16::MAX));
        }
        if let Some((lo, hi)) = s.split_once('-') {
            let (lo, hi) = (num(lo)?, num(hi)?);
            if lo > hi {
                return Err(format!("empty version range {s:?}"));
            }
            return Ok(Versions::Range(lo, hi));
        }
        let v = num(s)?;
        Ok(Versions::Range(v, v))
    }

    pub fn intersect(self, other: Versions) -> Versions {
        match (self, other) {
            (Versions::Range(a, b), Versions::Range(c, d)) if a.max(c) <= b.min(d) => {
                Versions::Range(a.max(c), b.min(d))
            }
            _ => Versions::None,
        }
    }

    /// A Rust boolean expression testing `version` against this range, given that `version` is
    /// already known to lie in `within` (the message's valid range), so redundant bounds vanish.
    pub fn rust_test(self, within: Versions) -> String {
        let (wlo, whi) = match within {
            Versions::Range(a, b) => (a, b),
            Versions::None => return "false".into(),
        };
        match self.intersect(within) {
            Versions::None => "false".into(),
            Versions::Range(lo, hi) => {
                let lo_needed = lo > wlo;
                let hi_needed = hi < whi;
                match (lo_needed, hi_needed) {
                    (false, false) => "true".into(),
                    (true, false) => format!("version >= {lo}"),
                    (false, true) => format!("version <= {hi}"),
                    (true, true) if lo == hi => format!("version == {lo}"),
                    (true, true) => format!("({lo}..={hi}).contains(&version)"),
                }
            }
        }
    }
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Versions::None => write!(f, "none"),
            Versions::Range(lo, i16::MAX) => write!(f, "{lo}+"),
            Versions::Range(lo, hi) if lo == hi => write!(f, "{lo}"),
            Versions::Range(lo, hi) => write!(f, "{lo}-{hi}"),
        }
    }
}

/// A primitive wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prim {
    Bool,
    Int8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Float64,
    Uuid,
    String,
    Bytes,
    Records,
    /// An `int16` holding a Kafka error code: every int16 field named `ErrorCode` or
    /// `...ErrorCode`. Same wire form; the Rust type is `ErrorCode`.
    ErrorCode,
    /// A string or integer naming an [`Entity`] (the `entity=` attribute). Same wire form as
    /// [`Entity::wire`]; the Rust type is the entity's newtype.
    Entity(Entity),
}

/// What a field's value names, for the entities that have a Rust newtype in
/// `kafka_protocol::entity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    TopicName,
    GroupId,
    TransactionalId,
    BrokerId,
    ProducerId,
}

impl Entity {
    /// The attribute value naming it, e.g. `topicName`.
    fn parse(s: &str) -> Option<Entity> {
        Some(match s {
            "topicName" => Entity::TopicName,
            "groupId" => Entity::GroupId,
            "transactionalId" => Entity::TransactionalId,
            "brokerId" => Entity::BrokerId,
            "producerId" => Entity::ProducerId,
            _ => return None,
        })
    }

    /// The Rust newtype.
    pub fn rust(self) -> &'static str {
        match self {
            Entity::TopicName => "TopicName",
            Entity::GroupId => "GroupId",
            Entity::TransactionalId => "TransactionalId",
            Entity::BrokerId => "BrokerId",
            Entity::ProducerId => "ProducerId",
        }
    }

    /// The wire type the newtype wraps.
    pub fn wire(self) -> Prim {
        match self {
            Entity::TopicName | Entity::GroupId | Entity::TransactionalId => Prim::String,
            Entity::BrokerId => Prim::Int32,
            Entity::ProducerId => Prim::Int64,
        }
    }

    /// Every entity, for import lists.
    pub const ALL: [Entity; 5] = [
        Entity::TopicName,
        Entity::GroupId,
        Entity::TransactionalId,
        Entity::BrokerId,
        Entity::ProducerId,
    ];
}

impl Prim {
    fn parse(s: &str) -> Option<Prim> {
        Some(match s {
            "bool" => Prim::Bool,
            "int8" => Prim::Int8,
            "int16" => Prim::Int16,
            "uint16" => Prim::Uint16,
            "int32" => Prim::Int32,
            "uint32" => Prim::Uint32,
            "int64" => Prim::Int64,
            "float64" => Prim::Float64,
            "uuid" => Prim::Uuid,
            "string" => Prim::String,
            "bytes" => Prim::Bytes,
            "records" => Prim::Records,
            _ => return None,
        })
    }
}

/// A field's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Prim(Prim),
    Struct(String),
    Array(Box<Type>),
}

impl Type {
    fn parse(s: &str) -> Type {
        if let Some(inner) = s.strip_prefix("[]") {
            return Type::Array(Box::new(Type::parse(inner)));
        }
        match Prim::parse(s) {
            Some(p) => Type::Prim(p),
            None => Type::Struct(s.to_string()),
        }
    }

    /// The type with its primitive (or its arrays' primitive) replaced by `e`'s newtype, if
    /// that primitive is the one `e` wraps.
    fn with_entity(self, e: Entity) -> Option<Type> {
        match self {
            Type::Prim(p) if p == e.wire() => Some(Type::Prim(Prim::Entity(e))),
            Type::Array(t) => t.with_entity(e).map(|t| Type::Array(Box::new(t))),
            _ => None,
        }
    }

    /// The type with entity newtypes replaced by what they wrap: what goes on the wire.
    pub fn wire(&self) -> Type {
        match self {
            Type::Prim(Prim::Entity(e)) => Type::Prim(e.wire()),
            Type::Array(t) => Type::Array(Box::new(t.wire())),
            other => other.clone(),
        }
    }
}

/// One field of a structure.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    pub versions: Versions,
    pub nullable: Versions,
    pub default: Option<String>,
    pub tag: Option<u32>,
    pub tagged: Versions,
    pub ignorable: bool,
    pub map_key: bool,
    pub entity: Option<String>,
    /// `flexible=none` on a field: it keeps its classic encoding even in flexible versions
    /// (the request header's client id, which brokers must parse before they know the version).
    pub flexible_override: Option<Versions>,
    /// `error=V`: the value the field takes in an error response, where it differs from the
    /// default (a Produce response's base offset is -1 when the produce failed).
    pub error_value: Option<String>,
    /// The one-line description from `fields.kdoc` (set after parsing).
    pub description: String,
    /// Fields of the structure this field defines inline (empty if it names a shared struct).
    pub fields: Vec<Field>,
}

/// A structure shared by several fields (`struct` block).
#[derive(Debug, Clone)]
pub struct StructDef {
    pub name: String,
    pub versions: Versions,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response,
    Header,
    /// A versioned structure carried inside another message's bytes (`data`), such as the
    /// consumer protocol's subscription and assignment; it has no API key.
    Data,
}

/// A request, a response or a header.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: Kind,
    pub name: String,
    pub versions: Versions,
    pub flexible: Versions,
    pub latest_unstable: bool,
    pub fields: Vec<Field>,
    pub structs: Vec<StructDef>,
}

/// One schema file.
#[derive(Debug, Clone)]
pub struct SchemaFile {
    /// `api NAME key=N`, absent for the headers file.
    pub api: Option<(String, i16)>,
    pub messages: Vec<Message>,
}

fn attrs(tokens: &[&str]) -> Result<Vec<(String, Option<String>)>, String> {
    Ok(tokens
        .iter()
        .map(|t| match t.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (t.to_string(), None),
        })
        .collect())
}

fn get<'a>(a: &'a [(String, Option<String>)], key: &str) -> Option<&'a str> {
    a.iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_deref())
}

fn parse_field(tokens: &[&str]) -> Result<Field, String> {
    let [name, ty, vers, rest @ ..] = tokens else {
        return Err("a field needs a name, a type and versions".into());
    };
    let versions = Versions::parse(
        vers.strip_prefix('v')
            .ok_or_else(|| format!("versions must start with v: {vers}"))?,
    )?;
    let a = attrs(rest)?;
    for (k, _) in &a {
        if ![
            "nullable",
            "default",
            "tag",
            "tagged",
            "ignorable",
            "mapkey",
            "entity",
            "flexible",
            "error",
        ]
        .contains(&k.as_str())
        {
            return Err(format!("unknown attribute {k}"));
        }
    }
    let opt_versions = |k: &str| -> Result<Versions, String> {
        get(&a, k)
            .map(Versions::parse)
            .transpose()
            .map(|v| v.unwrap_or(Versions::None))
    };
    let default = get(&a, "default").map(|d| {
        if d == "\"\"" {
            String::new()
        } else {
            d.to_string()
        }
    });
    let mut ty = Type::parse(ty);
    if ty == Type::Prim(Prim::Int16) && name.ends_with("ErrorCode") {
        ty = Type::Prim(Prim::ErrorCode);
    }
    if let Some(e) = get(&a, "entity").and_then(Entity::parse) {
        ty = ty
            .with_entity(e)
            .ok_or_else(|| format!("{name}: entity={} needs a {:?} value", e.rust(), e.wire()))?;
    }
    Ok(Field {
        name: name.to_string(),
        ty,
        versions,
        nullable: opt_versions("nullable")?,
        default,
        tag: get(&a, "tag")
            .map(|t| t.parse().map_err(|_| format!("bad tag {t}")))
            .transpose()?,
        tagged: opt_versions("tagged")?,
        ignorable: a.iter().any(|(k, _)| k == "ignorable"),
        map_key: a.iter().any(|(k, _)| k == "mapkey"),
        entity: get(&a, "entity").map(str::to_string),
        flexible_override: get(&a, "flexible").map(Versions::parse).transpose()?,
        error_value: get(&a, "error").map(|d| {
            if d == "\"\"" {
                String::new()
            } else {
                d.to_string()
            }
        }),
        fields: Vec::new(),
        description: String::new(),
    })
}

/// Where the next indented field goes.
enum Container {
    Message(usize),
    Struct(usize, usize),
}

/// Parses one schema file.
pub fn parse(text: &str) -> Result<SchemaFile, String> {
    let mut file = SchemaFile {
        api: None,
        messages: Vec::new(),
    };
    let mut container: Option<Container> = None;
    // Path of field indices below the current container, one per indentation level.
    let mut stack: Vec<usize> = Vec::new();
    for (lineno, raw) in text.lines().enumerate() {
        let err = |e: String| format!("line {}: {e}", lineno + 1);
        let line = raw.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if indent == 0 {
            stack.clear();
            match tokens[0] {
                "api" => {
                    let name = tokens
                        .get(1)
                        .ok_or_else(|| err("api needs a name".into()))?;
                    let a = attrs(&tokens[2..]).map_err(err)?;
                    let key = get(&a, "key")
                        .and_then(|k| k.parse().ok())
                        .ok_or_else(|| err("api needs key=N".into()))?;
                    file.api = Some((name.to_string(), key));
                }
                kw @ ("request" | "response" | "header" | "data") => {
                    let name = tokens
                        .get(1)
                        .ok_or_else(|| err("message needs a name".into()))?;
                    let a = attrs(&tokens[2..]).map_err(err)?;
                    let versions = Versions::parse(
                        get(&a, "versions").ok_or_else(|| err("needs versions=".into()))?,
                    )
                    .map_err(err)?;
                    let flexible = Versions::parse(
                        get(&a, "flexible").ok_or_else(|| err("needs flexible=".into()))?,
                    )
                    .map_err(err)?;
                    file.messages.push(Message {
                        kind: match kw {
                            "request" => Kind::Request,
                            "response" => Kind::Response,
                            "data" => Kind::Data,
                            _ => Kind::Header,
                        },
                        name: name.to_string(),
                        versions,
                        flexible,
                        latest_unstable: a.iter().any(|(k, _)| k == "latest-unstable"),
                        fields: Vec::new(),
                        structs: Vec::new(),
                    });
                    container = Some(Container::Message(file.messages.len() - 1));
                }
                "struct" => {
                    let m =
                        file.messages.len().checked_sub(1).ok_or_else(|| {
                            err("struct must follow a request or response".into())
                        })?;
                    let name = tokens
                        .get(1)
                        .ok_or_else(|| err("struct needs a name".into()))?;
                    let v = tokens
                        .get(2)
                        .and_then(|v| v.strip_prefix('v'))
                        .unwrap_or("0+");
                    file.messages[m].structs.push(StructDef {
                        name: name.to_string(),
                        versions: Versions::parse(v).map_err(err)?,
                        fields: Vec::new(),
                    });
                    container = Some(Container::Struct(m, file.messages[m].structs.len() - 1));
                }
                other => return Err(err(format!("unknown keyword {other}"))),
            }
            continue;
        }
        if indent % 2 != 0 {
            return Err(err("indentation must be a multiple of two spaces".into()));
        }
        let level = indent / 2; // 1 = direct field of the container
        if level > stack.len() + 1 {
            return Err(err("field is indented too deep".into()));
        }
        stack.truncate(level - 1);
        let field = parse_field(&tokens).map_err(err)?;
        let top: &mut Vec<Field> = match container {
            Some(Container::Message(m)) => &mut file.messages[m].fields,
            Some(Container::Struct(m, s)) => &mut file.messages[m].structs[s].fields,
            None => return Err(err("field outside a message".into())),
        };
        let mut list = top;
        for &i in &stack {
            list = &mut list[i].fields;
        }
        list.push(field);
        stack.push(list.len() - 1);
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_test() {
        assert_eq!(Versions::parse("3+").unwrap(), Versions::Range(3, i16::MAX));
        assert_eq!(Versions::parse("0-8").unwrap(), Versions::Range(0, 8));
        assert_eq!(Versions::parse("none").unwrap(), Versions::None);
        assert!(Versions::parse("8-3").is_err());
        let within = Versions::Range(0, 13);
        assert_eq!(Versions::parse("0+").unwrap().rust_test(within), "true");
        assert_eq!(
            Versions::parse("3+").unwrap().rust_test(within),
            "version >= 3"
        );
        assert_eq!(
            Versions::parse("0-12").unwrap().rust_test(within),
            "version <= 12"
        );
        assert_eq!(
            Versions::parse("2-4").unwrap().rust_test(within),
            "(2..=4).contains(&version)"
        );
        assert_eq!(Versions::parse("20+").unwrap().rust_test(within), "false");
    }

    #[test]
    fn nested_fields_follow_indentation() {
        let f = parse(
            "api X key=7\nrequest XRequest versions=0-2 flexible=2+\n  A int32 v0+\n  B []Sub v1+\n    C string v1+ nullable=1+ default=null\n  D int8 v0+\n",
        )
        .unwrap();
        let m = &f.messages[0];
        assert_eq!(f.api, Some(("X".into(), 7)));
        assert_eq!(m.fields.len(), 3);
        assert_eq!(m.fields[1].fields[0].name, "C");
        assert_eq!(m.fields[1].fields[0].default.as_deref(), Some("null"));
        assert_eq!(m.fields[2].name, "D");
    }

    #[test]
    fn bad_input_is_reported_with_a_line() {
        let e = parse("request X versions=0 flexible=none\n   A int32 v0+\n").unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
        assert!(parse("request X versions=0 flexible=none\n  A int32 0+\n").is_err());
    }
}
