//! Emits one Rust struct per schema structure: the type, `Default`, builder setters, and the
//! version-aware `encode_body` / `body_len` / `decode_body` that the message traits call.
//!
//! Every version test is written relative to the versions in which the structure can occur
//! (`Ctx::within`), and constant tests are folded away ([`crate::cond`]), so the generated code
//! holds no `if true` and no branch that cannot be taken. Parameters a body does not use are
//! named `_version` / `_mode`, which keeps the code free of blanket lint allowances.

use std::fmt::Write;

use crate::cond::{and, complement_test, param};
use crate::emit_types::*;
use crate::schema::{Field, Prim, Type, Versions};

/// What every structure of one message shares.
pub struct Ctx {
    /// The versions in which this structure can occur: tests can assume `version` lies in them.
    pub within: Versions,
    /// The message's flexible versions.
    pub flexible: Versions,
}

impl Ctx {
    /// The test for a flexible version, relative to `within`: `"true"`, `"false"` or a
    /// comparison.
    fn flex_test(&self) -> String {
        self.flexible.rust_test(self.within)
    }

    /// What generated code writes for "this version is flexible": a constant when it is one,
    /// else the local `flexible`.
    fn flexible_expr(&self) -> String {
        match self.flex_test().as_str() {
            c @ ("true" | "false") => c.to_string(),
            _ => "flexible".into(),
        }
    }

    /// The versions inside the tagged-field section (flexible ones).
    fn tagged_within(&self) -> Versions {
        self.within.intersect(self.flexible)
    }
}

/// Names generated decode code uses for its own locals; a field may not be called so.
const RESERVED: &[&str] = &["buf", "version", "flexible", "tag", "unknown_tagged_fields"];

fn compact_expr(ctx: &Ctx, f: &Field) -> String {
    match f.flexible_override {
        Some(Versions::None) => "false".into(),
        _ => ctx.flexible_expr(),
    }
}

fn is_tagged(f: &Field) -> bool {
    f.tag.is_some()
}

/// Versions at which the field is written inline (not in the tagged section).
fn inline_versions(f: &Field) -> Versions {
    if is_tagged(f) {
        Versions::None
    } else {
        f.versions
    }
}

/// Versions at which a tagged field has a slot: flexible ones where the field exists and is
/// tagged.
fn tag_slot(ctx: &Ctx, f: &Field) -> Versions {
    ctx.flexible.intersect(f.tagged).intersect(f.versions)
}

fn doc_for(f: &Field) -> String {
    let mut s = format!("`{}`: versions {}", f.name, f.versions);
    if f.nullable != Versions::None {
        let _ = write!(s, ", nullable in {}", f.nullable);
    }
    if let Some(tag) = f.tag {
        let _ = write!(s, ", tagged field {tag} in {}", f.tagged);
    }
    if let Some(d) = &f.default {
        let _ = write!(s, ", default `{}`", if d.is_empty() { "\"\"" } else { d });
    }
    if f.ignorable {
        s.push_str(", ignorable");
    }
    if f.map_key {
        s.push_str(", map key");
    }
    if let Some(e) = &f.entity {
        let _ = write!(s, ", entity: {e}");
    }
    s.push('.');
    s
}

/// Expression: whether `e` (a field's value) differs from the field's default.
fn differs(f: &Field, e: &str) -> Result<String, String> {
    let d = default_expr(f)?;
    Ok(match d.as_str() {
        "false" => e.to_string(),
        "true" => format!("!{e}"),
        "None" => format!("{e}.is_some()"),
        "StrBytes::new()" | "Bytes::new()" => format!("!{e}.is_empty()"),
        d if d.starts_with("Vec::<") => format!("!{e}.is_empty()"),
        d => format!("{e} != {d}"),
    })
}

/// Whether the default is the one `#[derive(Default)]` gives the field's type.
fn is_type_default(d: &str) -> bool {
    matches!(
        d,
        "false"
            | "0"
            | "0.0"
            | "Uuid::ZERO"
            | "StrBytes::new()"
            | "Bytes::new()"
            | "None"
            | "ErrorCode::None"
    ) || d.ends_with("::default()")
        || d.starts_with("Vec::<")
}

/// The condition under which strict encoding rejects the field's value at a version without a
/// slot for it, or `None` when the field is ignorable (Kafka then drops it silently).
fn strict_check(f: &Field) -> Result<Option<String>, String> {
    if f.ignorable {
        return Ok(None);
    }
    let n = field_name(f);
    Ok(Some(format!(
        "mode == EncodeMode::Strict && {}",
        differs(f, &format!("self.{n}"))?
    )))
}

fn reject(path: &str) -> String {
    format!("return Err(EncodeError::FieldNotSupported {{ field: {path:?}, version }});")
}

/// Statements that write a field's value (nullable-aware) into `buf`.
fn write_field(ctx: &Ctx, f: &Field, a: &Place, c: &str, path: &str) -> String {
    if !is_option(f) {
        return write_value(&f.ty, a, c, path, 0);
    }
    let nullable_now = f.nullable.rust_test(ctx.within);
    let presence = match (matches!(f.ty, Type::Struct(_)), nullable_now.as_str()) {
        (false, _) | (true, "false") => String::new(),
        (true, "true") => "buf.put_i8(1);\n".into(),
        (true, t) => format!("if {t} {{ buf.put_i8(1); }}\n"),
    };
    let null = write_null(&f.ty, c, path);
    let refuse = format!("return Err(EncodeError::NullNotAllowed {{ field: {path:?}, version }})");
    let none_arms = match nullable_now.as_str() {
        "true" => format!("None => {{\n{null}\n}}"),
        "false" => format!("None => {refuse},"),
        t => format!("None if {t} => {{\n{null}\n}}\nNone => {refuse},"),
    };
    format!(
        "match &{} {{\nSome(v) => {{\n{presence}{}\n}}\n{none_arms}\n}}",
        a.path(),
        write_value(&f.ty, &Place::binding("v"), c, path, 0),
    )
}

/// Expression: the encoded size of a field's value (nullable-aware).
fn field_len(ctx: &Ctx, f: &Field, a: &Place, c: &str) -> String {
    if !is_option(f) {
        return value_len(&f.ty, a, c, 0);
    }
    let nullable_now = f.nullable.rust_test(ctx.within);
    let presence = match (matches!(f.ty, Type::Struct(_)), nullable_now.as_str()) {
        (false, _) | (true, "false") => String::new(),
        (true, "true") => " + 1".into(),
        (true, t) => format!(" + usize::from({t})"),
    };
    format!(
        "match &{} {{ Some(v) => {}{presence}, None => {} }}",
        a.path(),
        value_len(&f.ty, &Place::binding("v"), c, 0),
        null_len(&f.ty, c)
    )
}

/// Expression: decode a field's value (nullable-aware).
fn read_field(ctx: &Ctx, f: &Field, c: &str, path: &str) -> String {
    if !is_option(f) {
        return read_value(&f.ty, c, path, 0);
    }
    match f.nullable.rust_test(ctx.within).as_str() {
        "true" => read_nullable(&f.ty, c, path),
        "false" => format!("Some({})", read_value(&f.ty, c, path, 0)),
        t => format!(
            "if {t} {{\n{}\n}} else {{\nSome({})\n}}",
            read_nullable(&f.ty, c, path),
            read_value(&f.ty, c, path, 0)
        ),
    }
}

/// `if cond { body }`, or the body alone when the condition always holds, or nothing.
fn guarded(cond: &str, body: &str) -> String {
    match cond {
        "false" => String::new(),
        "true" => format!("{}\n", body.trim_end()),
        c => format!("if {c} {{\n{body}\n}}\n"),
    }
}

/// Prepends `let flexible = ...;` when the body uses it.
fn with_flexible(ctx: &Ctx, body: String) -> String {
    if crate::cond::uses_ident(&body, "flexible") {
        format!("let flexible = {};\n{body}", ctx.flex_test())
    } else {
        body
    }
}

/// Emits the struct `name` with `fields`.
pub fn emit_struct(
    out: &mut String,
    ctx: &Ctx,
    name: &str,
    doc: &str,
    fields: &[Field],
) -> Result<(), String> {
    for f in fields {
        if RESERVED.contains(&field_name(f).as_str()) {
            return Err(format!(
                "{name}.{}: the name is used by generated code",
                f.name
            ));
        }
    }
    // The tagged fields that have a slot in some version this structure occurs in, by tag.
    let mut tagged: Vec<&Field> = fields
        .iter()
        .filter(|f| is_tagged(f) && tag_slot(ctx, f).intersect(ctx.within) != Versions::None)
        .collect();
    tagged.sort_by_key(|f| f.tag);

    // --- the type -------------------------------------------------------------------------
    let mut defaults = Vec::new();
    for f in fields {
        defaults.push(default_expr(f)?);
    }
    let derive_default = defaults.iter().all(|d| is_type_default(d));
    writeln!(out, "/// {doc}").unwrap();
    if derive_default {
        writeln!(out, "#[derive(Debug, Clone, PartialEq, Default)]").unwrap();
    } else {
        writeln!(out, "#[derive(Debug, Clone, PartialEq)]").unwrap();
    }
    writeln!(out, "pub struct {name} {{").unwrap();
    for f in fields {
        writeln!(
            out,
            "    /// {}\n    ///\n    /// {}",
            f.description,
            doc_for(f)
        )
        .unwrap();
        writeln!(out, "    pub {}: {},", field_name(f), field_type(f)).unwrap();
    }
    writeln!(out, "    /// Tagged fields (KIP-482) this schema does not know, kept so re-encoding is lossless.").unwrap();
    writeln!(out, "    pub unknown_tagged_fields: Vec<RawTaggedField>,").unwrap();
    writeln!(out, "}}\n").unwrap();

    // --- Default (only where some default is not the type's) --------------------------------
    if !derive_default {
        writeln!(out, "impl Default for {name} {{").unwrap();
        writeln!(out, "    fn default() -> Self {{").unwrap();
        writeln!(out, "        Self {{").unwrap();
        for (f, d) in fields.iter().zip(&defaults) {
            writeln!(out, "            {}: {d},", field_name(f)).unwrap();
        }
        writeln!(out, "            unknown_tagged_fields: Vec::new(),").unwrap();
        writeln!(out, "        }}\n    }}\n}}\n").unwrap();
    }

    writeln!(out, "impl {name} {{").unwrap();
    // --- builder setters -------------------------------------------------------------------
    for f in fields {
        let n = field_name(f);
        writeln!(out, "    /// Sets `{n}` ({}).", f.name).unwrap();
        // A string or an entity takes anything that converts into it (`"orders"`, a `String`,
        // a `StrBytes`), so callers need no `.into()`. Integers keep their exact type: with
        // `impl Into<i16>` a bare literal would default to `i32` and not compile.
        let (param, assign) = match &f.ty {
            Type::Prim(Prim::String | Prim::Entity(_)) if !is_option(f) => {
                (format!("impl Into<{}>", field_type(f)), "value.into()")
            }
            _ => (field_type(f), "value"),
        };
        writeln!(
            out,
            "    pub fn with_{}(mut self, value: {param}) -> Self {{",
            n.trim_end_matches('_'),
        )
        .unwrap();
        writeln!(out, "        self.{n} = {assign};\n        self\n    }}\n").unwrap();
    }

    emit_encode(out, ctx, name, fields, &tagged)?;
    emit_len(out, ctx, fields, &tagged)?;
    emit_decode(out, ctx, name, fields, &tagged)?;
    emit_random(out, ctx, fields)?;
    writeln!(out, "}}\n").unwrap();

    emit_inspect(out, ctx, name, fields);
    Ok(())
}

fn emit_encode(
    out: &mut String,
    ctx: &Ctx,
    name: &str,
    fields: &[Field],
    tagged: &[&Field],
) -> Result<(), String> {
    let mut b = String::new();
    for f in fields {
        let n = field_name(f);
        let path = format!("{name}.{n}");
        let check = strict_check(f)?;
        if is_tagged(f) {
            // Tagged fields are written in the tagged section below; here we only reject a
            // non-default value at a version that has no slot for it.
            if let Some(check) = check {
                let missing = complement_test(tag_slot(ctx, f), ctx.within);
                b.push_str(&guarded(&and(&missing, &check), &reject(&path)));
            }
            continue;
        }
        let w = write_field(
            ctx,
            f,
            &Place::field(format!("self.{n}")),
            &compact_expr(ctx, f),
            &path,
        );
        match (inline_versions(f).rust_test(ctx.within).as_str(), check) {
            ("true", _) => writeln!(b, "{w}").unwrap(),
            ("false", Some(check)) => b.push_str(&guarded(&check, &reject(&path))),
            ("false", None) => {}
            (t, Some(check)) => writeln!(
                b,
                "if {t} {{\n{w}\n}} else if {check} {{ {} }}",
                reject(&path)
            )
            .unwrap(),
            (t, None) => writeln!(b, "if {t} {{\n{w}\n}}").unwrap(),
        }
    }

    let mut sec = String::new();
    let tw = ctx.tagged_within();
    if tagged.is_empty() {
        writeln!(
            sec,
            "put_uvarint(buf, self.unknown_tagged_fields.len() as u32);"
        )
        .unwrap();
        writeln!(
            sec,
            "for u in &self.unknown_tagged_fields {{ put_raw_tagged(buf, u); }}"
        )
        .unwrap();
    } else {
        writeln!(sec, "let mut count = self.unknown_tagged_fields.len();").unwrap();
        for f in tagged {
            let n = field_name(f);
            let cond = and(
                &tag_slot(ctx, f).rust_test(tw),
                &differs(f, &format!("self.{n}"))?,
            );
            sec.push_str(&guarded(&cond, "count += 1;"));
        }
        writeln!(sec, "put_uvarint(buf, count as u32);").unwrap();
        let peek = tagged.iter().any(|f| f.tag.unwrap_or_default() > 0);
        if peek {
            writeln!(
                sec,
                "let mut unknown = self.unknown_tagged_fields.iter().peekable();"
            )
            .unwrap();
        } else {
            writeln!(sec, "let unknown = self.unknown_tagged_fields.iter();").unwrap();
        }
        for f in tagged {
            let n = field_name(f);
            let tag = f.tag.unwrap_or_default();
            let path = format!("{name}.{n}");
            let place = Place::field(format!("self.{n}"));
            let mut body = String::new();
            if tag > 0 {
                writeln!(body, "while let Some(u) = unknown.next_if(|u| u.tag < {tag}) {{ put_raw_tagged(buf, u); }}").unwrap();
            }
            writeln!(body, "let size = {};", field_len(ctx, f, &place, "true")).unwrap();
            writeln!(body, "put_tagged_header(buf, {tag}, size);").unwrap();
            writeln!(body, "{}", write_field(ctx, f, &place, "true", &path)).unwrap();
            let cond = and(
                &tag_slot(ctx, f).rust_test(tw),
                &differs(f, &format!("self.{n}"))?,
            );
            sec.push_str(&guarded(&cond, &body));
        }
        writeln!(sec, "for u in unknown {{ put_raw_tagged(buf, u); }}").unwrap();
    }
    b.push_str(&guarded(&ctx.flexible_expr(), &sec));
    b.push_str("Ok(())\n");
    let b = with_flexible(ctx, b);
    writeln!(
        out,
        "    pub(crate) fn encode_body(&self, buf: &mut BytesMut, {}: i16, {}: EncodeMode) -> Result<(), EncodeError> {{\n{b}}}\n",
        param("version", &b),
        param("mode", &b)
    )
    .unwrap();
    Ok(())
}

fn emit_len(
    out: &mut String,
    ctx: &Ctx,
    fields: &[Field],
    tagged: &[&Field],
) -> Result<(), String> {
    let mut b = String::new();
    let mut terms = Vec::new();
    let mut conditional = Vec::new();
    for f in fields.iter().filter(|f| !is_tagged(f)) {
        let fname = field_name(f);
        let l = field_len(
            ctx,
            f,
            &Place::field(format!("self.{fname}")),
            &compact_expr(ctx, f),
        );
        match inline_versions(f).rust_test(ctx.within).as_str() {
            "false" => {}
            "true" => terms.push(l),
            t => conditional.push(format!("if {t} {{ n += {l}; }}")),
        }
    }
    let mut sec = String::new();
    let tw = ctx.tagged_within();
    if tagged.is_empty() {
        writeln!(
            sec,
            "n += uvarint_len(self.unknown_tagged_fields.len() as u32);"
        )
        .unwrap();
    } else {
        writeln!(sec, "let mut count = self.unknown_tagged_fields.len();").unwrap();
        for f in tagged {
            let fname = field_name(f);
            let tag = f.tag.unwrap_or_default();
            let body = format!(
                "let size = {};\nn += tagged_header_len({tag}, size) + size;\ncount += 1;",
                field_len(ctx, f, &Place::field(format!("self.{fname}")), "true")
            );
            let cond = and(
                &tag_slot(ctx, f).rust_test(tw),
                &differs(f, &format!("self.{fname}"))?,
            );
            sec.push_str(&guarded(&cond, &body));
        }
        writeln!(sec, "n += uvarint_len(count as u32);").unwrap();
    }
    writeln!(
        sec,
        "n += self.unknown_tagged_fields.iter().map(raw_tagged_len).sum::<usize>();"
    )
    .unwrap();
    let sec = guarded(&ctx.flexible_expr(), &sec);
    let first = if terms.is_empty() {
        "0".to_string()
    } else {
        terms.join("\n + ")
    };
    if conditional.is_empty() && sec.is_empty() {
        writeln!(b, "{first}").unwrap();
    } else {
        writeln!(b, "let mut n = {first};").unwrap();
        for c in &conditional {
            writeln!(b, "{c}").unwrap();
        }
        b.push_str(&sec);
        b.push_str("n\n");
    }
    let b = with_flexible(ctx, b);
    writeln!(
        out,
        "    pub(crate) fn body_len(&self, {}: i16) -> usize {{\n{b}}}\n",
        param("version", &b)
    )
    .unwrap();
    Ok(())
}

fn emit_decode(
    out: &mut String,
    ctx: &Ctx,
    name: &str,
    fields: &[Field],
    tagged: &[&Field],
) -> Result<(), String> {
    let mut b = String::new();
    for f in fields {
        let n = field_name(f);
        let path = format!("{name}.{n}");
        if is_tagged(f) {
            let live = tagged.iter().any(|t| t.name == f.name);
            let m = if live && ctx.flexible_expr() != "false" {
                "mut "
            } else {
                ""
            };
            writeln!(b, "let {m}{n} = {};", default_expr(f)?).unwrap();
            continue;
        }
        let r = read_field(ctx, f, &compact_expr(ctx, f), &path);
        match inline_versions(f).rust_test(ctx.within).as_str() {
            "true" => writeln!(b, "let {n} = {r};").unwrap(),
            "false" => writeln!(b, "let {n} = {};", default_expr(f)?).unwrap(),
            t => writeln!(
                b,
                "let {n} = if {t} {{\n{r}\n}} else {{\n{}\n}};",
                default_expr(f)?
            )
            .unwrap(),
        }
    }
    let tagged_path = format!("{name}.tagged_fields");
    let mut sec = String::new();
    if tagged.is_empty() {
        writeln!(sec, "get_tagged_fields(buf, {tagged_path:?}, &mut unknown_tagged_fields, |_, _| Ok(false))?;").unwrap();
    } else {
        writeln!(
            sec,
            "get_tagged_fields(buf, {tagged_path:?}, &mut unknown_tagged_fields, |tag, buf| {{"
        )
        .unwrap();
        writeln!(sec, "match tag {{").unwrap();
        let tw = ctx.tagged_within();
        for f in tagged {
            let n = field_name(f);
            let path = format!("{name}.{n}");
            let guard = match tag_slot(ctx, f).rust_test(tw).as_str() {
                "true" => String::new(),
                t => format!(" if {t}"),
            };
            writeln!(
                sec,
                "{}{guard} => {{\n{n} = {};\nOk(true)\n}}",
                f.tag.unwrap_or_default(),
                read_field(ctx, f, "true", &path)
            )
            .unwrap();
        }
        writeln!(sec, "_ => Ok(false),\n}}\n}})?;").unwrap();
    }
    let sec = guarded(&ctx.flexible_expr(), &sec);
    if sec.is_empty() {
        writeln!(b, "let unknown_tagged_fields = Vec::new();").unwrap();
    } else {
        writeln!(b, "let mut unknown_tagged_fields = Vec::new();").unwrap();
        b.push_str(&sec);
    }
    let names: Vec<String> = fields.iter().map(field_name).collect();
    writeln!(
        b,
        "Ok(Self {{ {}{}unknown_tagged_fields }})",
        names.join(", "),
        if names.is_empty() { "" } else { ", " }
    )
    .unwrap();
    let b = with_flexible(ctx, b);
    writeln!(
        out,
        "    pub(crate) fn decode_body(buf: &mut Bytes, {}: i16) -> Result<Self, DecodeError> {{\n{b}}}",
        param("version", &b)
    )
    .unwrap();
    Ok(())
}

/// Random values for the round-trip property tests: each field random at the versions that
/// carry it, else its default.
fn emit_random(out: &mut String, ctx: &Ctx, fields: &[Field]) -> Result<(), String> {
    let mut b = String::from("Self {\n");
    for f in fields {
        let n = field_name(f);
        let present = if is_tagged(f) {
            tag_slot(ctx, f).rust_test(ctx.within)
        } else {
            inline_versions(f).rust_test(ctx.within)
        };
        let v = random_value(&f.ty);
        let expr = if is_option(f) {
            let null = and(&f.nullable.rust_test(ctx.within), "rng.below(4) == 0");
            if null == "false" {
                format!("Some({v})")
            } else {
                format!("if {null} {{ None }} else {{ Some({v}) }}")
            }
        } else {
            v
        };
        let value = match present.as_str() {
            "true" => expr,
            "false" => default_expr(f)?,
            t => format!("if {t} {{ {expr} }} else {{ {} }}", default_expr(f)?),
        };
        writeln!(b, "{n}: {value},").unwrap();
    }
    let unknown = match and(&ctx.flexible_expr(), "rng.below(4) == 0").as_str() {
        "false" => "Vec::new()".to_string(),
        c => format!("if {c} {{ vec![rng.unknown_tagged_field()] }} else {{ Vec::new() }}"),
    };
    writeln!(b, "unknown_tagged_fields: {unknown},\n}}").unwrap();
    let b = with_flexible(ctx, b);
    writeln!(
        out,
        "\n    #[cfg(test)]\n    pub(crate) fn random({}: &mut crate::test_rng::TestRng, {}: i16) -> Self {{\n{b}}}",
        param("rng", &b),
        param("version", &b)
    )
    .unwrap();
    Ok(())
}

/// The `Inspect` impl (cargo feature `inspect`): the fields that exist at a version, by name.
fn emit_inspect(out: &mut String, ctx: &Ctx, name: &str, fields: &[Field]) {
    let mut leading = Vec::new();
    let mut rest = String::new();
    for f in fields {
        let n = field_name(f);
        let present = if is_tagged(f) {
            tag_slot(ctx, f).rust_test(ctx.within)
        } else {
            inline_versions(f).rust_test(ctx.within)
        };
        let entry = format!("({n:?}, crate::inspect::Inspect::inspect(&self.{n}, version))");
        if present == "true" && rest.is_empty() {
            leading.push(entry);
        } else {
            rest.push_str(&guarded(&present, &format!("fields.push({entry});")));
        }
    }
    let mut b = if leading.is_empty() {
        "let mut fields = Vec::new();\n".to_string()
    } else {
        format!("let mut fields = vec![{}];\n", leading.join(",\n"))
    };
    b.push_str(&rest);
    b.push_str("if !self.unknown_tagged_fields.is_empty() { fields.push((\"unknown_tagged_fields\", crate::inspect::unknown_tagged(&self.unknown_tagged_fields))); }\n");
    b.push_str("crate::inspect::Value::Struct(fields)\n");
    let b = with_flexible(ctx, b);
    writeln!(
        out,
        "#[cfg(feature = \"inspect\")]\nimpl crate::inspect::Inspect for {name} {{\n    fn inspect(&self, {}: i16) -> crate::inspect::Value {{\n{b}}}\n}}\n",
        param("version", &b)
    )
    .unwrap();
}
