//! How each schema type maps onto Rust: its type, default value, and the code that encodes,
//! sizes, decodes and (for tests) randomly fills a value of it.
//!
//! Every function here returns Rust source text. `a` is always an expression of type `&T` for the
//! value at hand, `c` the expression saying whether the compact (flexible) encoding applies, and
//! `p` the field path used in error messages.

use crate::naming::snake;
use crate::schema::{Field, Prim, Type};

/// The Rust type of a non-null value of `ty`.
pub fn base_type(ty: &Type) -> String {
    match ty {
        Type::Prim(p) => match p {
            Prim::Bool => "bool",
            Prim::Int8 => "i8",
            Prim::Int16 => "i16",
            Prim::Uint16 => "u16",
            Prim::Int32 => "i32",
            Prim::Uint32 => "u32",
            Prim::Int64 => "i64",
            Prim::Float64 => "f64",
            Prim::Uuid => "Uuid",
            Prim::String => "StrBytes",
            Prim::Bytes | Prim::Records => "Bytes",
            Prim::ErrorCode => "ErrorCode",
            Prim::Entity(e) => e.rust(),
        }
        .to_string(),
        Type::Struct(n) => n.clone(),
        Type::Array(t) => format!("Vec<{}>", base_type(t)),
    }
}

/// Whether the field's Rust type is an `Option` (it is nullable at some version).
pub fn is_option(f: &Field) -> bool {
    f.nullable != crate::schema::Versions::None
}

/// The Rust type of a field.
pub fn field_type(f: &Field) -> String {
    if is_option(f) {
        format!("Option<{}>", base_type(&f.ty))
    } else {
        base_type(&f.ty)
    }
}

fn int_literal(ty: Prim, raw: &str) -> Result<String, String> {
    let v: i128 = if let Some(h) = raw.strip_prefix("0x") {
        i128::from_str_radix(h, 16).map_err(|_| format!("bad default {raw}"))?
    } else {
        raw.parse().map_err(|_| format!("bad default {raw}"))?
    };
    let (suffix, min, max) = match ty {
        Prim::Int8 => ("i8", i8::MIN as i128, i8::MAX as i128),
        Prim::Int16 => ("i16", i16::MIN as i128, i16::MAX as i128),
        Prim::Uint16 => ("u16", 0, u16::MAX as i128),
        Prim::Int32 => ("i32", i32::MIN as i128, i32::MAX as i128),
        Prim::Uint32 => ("u32", 0, u32::MAX as i128),
        Prim::Int64 => ("i64", i64::MIN as i128, i64::MAX as i128),
        _ => return Err(format!("not an integer type for default {raw}")),
    };
    if v < min || v > max {
        return Err(format!("default {raw} out of range"));
    }
    Ok(if v == min && v < 0 {
        format!("{suffix}::MIN")
    } else if v == max && v > 0xffff {
        format!("{suffix}::MAX")
    } else {
        format!("{v}")
    })
}

/// The Rust expression for a field's default value.
pub fn default_expr(f: &Field) -> Result<String, String> {
    let d = f.default.as_deref();
    if d == Some("null") {
        if !is_option(f) {
            return Err(format!("{}: default null on a non-nullable field", f.name));
        }
        return Ok("None".into());
    }
    let inner = match &f.ty {
        Type::Prim(p) => match p {
            Prim::Bool => match d {
                None | Some("false") => "false".into(),
                Some("true") => "true".into(),
                Some(o) => return Err(format!("bad bool default {o}")),
            },
            Prim::Float64 => format!(
                "{:?}",
                d.unwrap_or("0").parse::<f64>().map_err(|e| e.to_string())?
            ),
            Prim::Uuid => "Uuid::ZERO".into(),
            Prim::String => match d {
                None | Some("") => "StrBytes::new()".into(),
                Some(s) => format!("StrBytes::from_static({s:?})"),
            },
            Prim::Entity(e) => match (e.wire(), d) {
                (Prim::String, None | Some("")) | (_, None | Some("0")) => {
                    format!("{}::default()", e.rust())
                }
                (Prim::String, Some(s)) => format!("{}::from_static({s:?})", e.rust()),
                (_, Some("-1")) => format!("{}::NONE", e.rust()),
                (w, Some(n)) => format!("{}({})", e.rust(), int_literal(w, n)?),
            },
            Prim::Bytes | Prim::Records => "Bytes::new()".into(),
            Prim::ErrorCode => match d.unwrap_or("0") {
                "0" => "ErrorCode::None".into(),
                other => format!("ErrorCode::from_code({})", int_literal(Prim::Int16, other)?),
            },
            p => int_literal(*p, d.unwrap_or("0"))?,
        },
        Type::Struct(n) => format!("{n}::default()"),
        Type::Array(t) => format!("Vec::<{}>::new()", base_type(t)),
    };
    if is_option(f) {
        // Records default to null, as in the Java client; other nullable fields to an empty value.
        if matches!(f.ty, Type::Prim(Prim::Records)) && d.is_none() {
            return Ok("None".into());
        }
        Ok(format!("Some({inner})"))
    } else {
        Ok(inner)
    }
}

fn fixed_size(ty: &Type) -> Option<usize> {
    match &ty.wire() {
        Type::Prim(Prim::Bool | Prim::Int8) => Some(1),
        Type::Prim(Prim::Int16 | Prim::Uint16 | Prim::ErrorCode) => Some(2),
        Type::Prim(Prim::Int32 | Prim::Uint32) => Some(4),
        Type::Prim(Prim::Int64 | Prim::Float64) => Some(8),
        Type::Prim(Prim::Uuid) => Some(16),
        _ => None,
    }
}

/// Where a value sits in generated code: a field of `self` (an expression of type `T`) or a
/// binding from a loop or a match (an expression of type `&T`). The two differ only in how a
/// `Copy` value and a reference are written, so the generated code never borrows or
/// dereferences needlessly.
#[derive(Debug, Clone)]
pub struct Place {
    expr: String,
    is_ref: bool,
}

impl Place {
    /// `self.name`, of type `T`.
    pub fn field(expr: impl Into<String>) -> Place {
        Place {
            expr: expr.into(),
            is_ref: false,
        }
    }

    /// A binding of type `&T`.
    pub fn binding(expr: impl Into<String>) -> Place {
        Place {
            expr: expr.into(),
            is_ref: true,
        }
    }

    /// The value of a `Copy` type.
    fn value(&self) -> String {
        if self.is_ref {
            format!("*{}", self.expr)
        } else {
            self.expr.clone()
        }
    }

    /// A reference to the value.
    fn reference(&self) -> String {
        if self.is_ref {
            self.expr.clone()
        } else {
            format!("&{}", self.expr)
        }
    }

    /// The expression, for method calls and slicing (which borrow by themselves).
    pub fn path(&self) -> &str {
        &self.expr
    }
}

/// Statements writing a non-null value.
pub fn write_value(ty: &Type, a: &Place, c: &str, p: &str, depth: usize) -> String {
    let e = a.path();
    match ty {
        Type::Prim(prim) => match prim {
            Prim::Bool => format!("buf.put_i8(i8::from({}));", a.value()),
            Prim::Int8 => format!("buf.put_i8({});", a.value()),
            Prim::Int16 => format!("buf.put_i16({});", a.value()),
            Prim::ErrorCode => format!("buf.put_i16({}.code());", a.path()),
            Prim::Uint16 => format!("buf.put_u16({});", a.value()),
            Prim::Int32 => format!("buf.put_i32({});", a.value()),
            Prim::Uint32 => format!("buf.put_u32({});", a.value()),
            Prim::Int64 => format!("buf.put_i64({});", a.value()),
            Prim::Float64 => format!("buf.put_f64({});", a.value()),
            Prim::Uuid => format!("put_uuid(buf, {});", a.reference()),
            Prim::String => format!("put_nullable_string(buf, {p:?}, Some({e}.as_str()), {c})?;"),
            Prim::Entity(en) => match en.wire() {
                Prim::String => {
                    format!("put_nullable_string(buf, {p:?}, Some({e}.as_str()), {c})?;")
                }
                Prim::Int32 => format!("buf.put_i32({e}.0);"),
                _ => format!("buf.put_i64({e}.0);"),
            },
            Prim::Bytes | Prim::Records => {
                format!("put_nullable_bytes(buf, {p:?}, Some(&{e}[..]), {c})?;")
            }
        },
        Type::Struct(_) => format!("{e}.encode_body(buf, version, mode)?;"),
        Type::Array(t) => {
            let v = format!("e{depth}");
            format!(
                "put_array_len(buf, {p:?}, Some({e}.len()), {c})?;\nfor {v} in {e}.iter() {{\n{}\n}}",
                write_value(t, &Place::binding(&v), c, p, depth + 1)
            )
        }
    }
}

/// Statement writing a null value.
pub fn write_null(ty: &Type, c: &str, p: &str) -> String {
    match &ty.wire() {
        Type::Prim(Prim::String) => format!("put_nullable_string(buf, {p:?}, None, {c})?;"),
        Type::Prim(Prim::Bytes | Prim::Records) => {
            format!("put_nullable_bytes(buf, {p:?}, None, {c})?;")
        }
        Type::Array(_) => format!("put_array_len(buf, {p:?}, None, {c})?;"),
        Type::Struct(_) => "buf.put_i8(-1);".into(),
        Type::Prim(_) => unreachable!("fixed-width primitives are never nullable"),
    }
}

/// Expression: encoded size of a non-null value.
pub fn value_len(ty: &Type, a: &Place, c: &str, depth: usize) -> String {
    if let Some(n) = fixed_size(ty) {
        return n.to_string();
    }
    let e = a.path();
    match &ty.wire() {
        Type::Prim(Prim::String) => format!("nullable_string_len(Some({e}.as_str()), {c})"),
        Type::Prim(_) => format!("nullable_bytes_len(Some(&{e}[..]), {c})"),
        Type::Struct(_) => format!("{e}.body_len(version)"),
        Type::Array(t) => {
            let v = format!("e{depth}");
            let elems = match fixed_size(t) {
                Some(n) => format!("{e}.len() * {n}"),
                None => format!(
                    "{e}.iter().map(|{v}| {}).sum::<usize>()",
                    value_len(t, &Place::binding(&v), c, depth + 1)
                ),
            };
            format!("array_len_len(Some({e}.len()), {c}) + {elems}")
        }
    }
}

/// Expression: encoded size of a null value.
pub fn null_len(ty: &Type, c: &str) -> String {
    match &ty.wire() {
        Type::Prim(Prim::String) => format!("nullable_string_len(None, {c})"),
        Type::Prim(_) => format!("nullable_bytes_len(None, {c})"),
        Type::Array(_) => format!("array_len_len(None, {c})"),
        Type::Struct(_) => "1".into(),
    }
}

/// Expression: decode a non-null value.
pub fn read_value(ty: &Type, c: &str, p: &str, depth: usize) -> String {
    match ty {
        Type::Prim(prim) => match prim {
            Prim::Bool => format!("get_bool(buf, {p:?})?"),
            Prim::Int8 => format!("get_i8(buf, {p:?})?"),
            Prim::Int16 => format!("get_i16(buf, {p:?})?"),
            Prim::ErrorCode => format!("ErrorCode::from_code(get_i16(buf, {p:?})?)"),
            Prim::Uint16 => format!("get_u16(buf, {p:?})?"),
            Prim::Int32 => format!("get_i32(buf, {p:?})?"),
            Prim::Uint32 => format!("get_u32(buf, {p:?})?"),
            Prim::Int64 => format!("get_i64(buf, {p:?})?"),
            Prim::Float64 => format!("get_f64(buf, {p:?})?"),
            Prim::Uuid => format!("get_uuid(buf, {p:?})?"),
            Prim::String => format!("get_string(buf, {p:?}, {c}, version)?"),
            Prim::Entity(e) => {
                let wire = read_value(&Type::Prim(e.wire()), c, p, depth);
                format!("{}({wire})", e.rust())
            }
            Prim::Bytes | Prim::Records => format!("get_bytes(buf, {p:?}, {c}, version)?"),
        },
        Type::Struct(n) => format!("{n}::decode_body(buf, version)?"),
        Type::Array(t) => {
            let n = format!("n{depth}");
            let v = format!("v{depth}");
            format!(
                "{{\nlet {n} = get_array_len_non_null(buf, {p:?}, {c}, version)?;\nlet mut {v} = Vec::with_capacity(initial_capacity({n}));\nfor _ in 0..{n} {{\n{v}.push({});\n}}\n{v}\n}}",
                read_value(t, c, p, depth + 1)
            )
        }
    }
}

/// Expression: decode a value that may be null at this version.
pub fn read_nullable(ty: &Type, c: &str, p: &str) -> String {
    match ty {
        Type::Prim(Prim::String) => format!("get_nullable_string(buf, {p:?}, {c})?"),
        Type::Prim(Prim::Entity(e)) => format!("{}.map({})", read_nullable(&Type::Prim(e.wire()), c, p), e.rust()),
        Type::Prim(Prim::Bytes | Prim::Records) => format!("get_nullable_bytes(buf, {p:?}, {c})?"),
        Type::Array(t) => format!(
            "match get_array_len(buf, {p:?}, {c})? {{\nNone => None,\nSome(n0) => {{\nlet mut v0 = Vec::with_capacity(initial_capacity(n0));\nfor _ in 0..n0 {{\nv0.push({});\n}}\nSome(v0)\n}}\n}}",
            read_value(t, c, p, 1)
        ),
        Type::Struct(n) => format!(
            "if get_i8(buf, {p:?})? < 0 {{ None }} else {{ Some({n}::decode_body(buf, version)?) }}"
        ),
        Type::Prim(_) => unreachable!("fixed-width primitives are never nullable"),
    }
}

/// Expression: a random non-null value (test builds only).
pub fn random_value(ty: &Type) -> String {
    match ty {
        Type::Prim(prim) => match prim {
            Prim::Bool => "rng.bool()".into(),
            Prim::Int8 => "rng.next_u64() as i8".into(),
            Prim::Int16 => "rng.next_u64() as i16".into(),
            Prim::ErrorCode => "ErrorCode::from_code(rng.next_u64() as i16)".into(),
            Prim::Uint16 => "rng.next_u64() as u16".into(),
            Prim::Int32 => "rng.next_u64() as i32".into(),
            Prim::Uint32 => "rng.next_u64() as u32".into(),
            Prim::Int64 => "rng.next_u64() as i64".into(),
            Prim::Float64 => "rng.f64()".into(),
            Prim::Uuid => "rng.uuid()".into(),
            Prim::String => "rng.string()".into(),
            Prim::Entity(e) => format!("{}({})", e.rust(), random_value(&Type::Prim(e.wire()))),
            Prim::Bytes | Prim::Records => "rng.bytes()".into(),
        },
        Type::Struct(n) => format!("{n}::random(rng, version)"),
        Type::Array(t) => format!("(0..rng.below(3)).map(|_| {}).collect()", random_value(t)),
    }
}

/// The Rust name of a field.
pub fn field_name(f: &Field) -> String {
    snake(&f.name)
}
