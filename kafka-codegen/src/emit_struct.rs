//! Emits one Rust struct per schema structure: the type, `Default`, builder setters, and the
//! version-aware `encode_body` / `body_len` / `decode_body` that the message traits call.

use std::fmt::Write;

use crate::emit_types::*;
use crate::schema::{Field, Type, Versions};

/// What every structure of one message shares.
pub struct Ctx {
    /// The message's valid versions: tests can assume `version` lies in them.
    pub within: Versions,
    /// The message's flexible versions.
    pub flexible: Versions,
}

fn compact_expr(f: &Field) -> &'static str {
    match f.flexible_override {
        Some(Versions::None) => "false",
        _ => "flexible",
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

/// Statements that write a field's value (nullable-aware) into `buf`.
fn write_field(ctx: &Ctx, f: &Field, a: &str, c: &str, path: &str) -> String {
    if !is_option(f) {
        return write_value(&f.ty, a, c, path, 0);
    }
    let nullable_now = f.nullable.rust_test(ctx.within);
    let presence = if matches!(f.ty, Type::Struct(_)) {
        format!("if {nullable_now} {{ buf.put_i8(1); }}\n")
    } else {
        String::new()
    };
    format!(
        "match {a} {{\nSome(v) => {{\n{presence}{}\n}}\nNone if {nullable_now} => {{\n{}\n}}\nNone => return Err(EncodeError::NullNotAllowed {{ field: {path:?}, version }}),\n}}",
        write_value(&f.ty, "v", c, path, 0),
        write_null(&f.ty, c, path),
    )
}

/// Expression: the encoded size of a field's value (nullable-aware).
fn field_len(ctx: &Ctx, f: &Field, a: &str, c: &str) -> String {
    if !is_option(f) {
        return value_len(&f.ty, a, c, 0);
    }
    let nullable_now = f.nullable.rust_test(ctx.within);
    let presence = if matches!(f.ty, Type::Struct(_)) {
        format!(" + usize::from({nullable_now})")
    } else {
        String::new()
    };
    format!(
        "match {a} {{ Some(v) => {}{presence}, None => {} }}",
        value_len(&f.ty, "v", c, 0),
        null_len(&f.ty, c)
    )
}

/// Expression: decode a field's value (nullable-aware).
fn read_field(ctx: &Ctx, f: &Field, c: &str, path: &str) -> String {
    if !is_option(f) {
        return read_value(&f.ty, c, path, 0);
    }
    let nullable_now = f.nullable.rust_test(ctx.within);
    format!(
        "if {nullable_now} {{\n{}\n}} else {{\nSome({})\n}}",
        read_nullable(&f.ty, c, path),
        read_value(&f.ty, c, path, 0)
    )
}

/// Emits the struct `name` with `fields`.
pub fn emit_struct(
    out: &mut String,
    ctx: &Ctx,
    name: &str,
    doc: &str,
    fields: &[Field],
) -> Result<(), String> {
    let mut tagged: Vec<&Field> = fields.iter().filter(|f| is_tagged(f)).collect();
    tagged.sort_by_key(|f| f.tag);

    // --- the type -------------------------------------------------------------------------
    writeln!(out, "/// {doc}").unwrap();
    writeln!(out, "#[derive(Debug, Clone, PartialEq)]").unwrap();
    writeln!(out, "pub struct {name} {{").unwrap();
    for f in fields {
        writeln!(out, "    /// {}", doc_for(f)).unwrap();
        writeln!(out, "    pub {}: {},", field_name(f), field_type(f)).unwrap();
    }
    writeln!(out, "    /// Tagged fields (KIP-482) this schema does not know, kept so re-encoding is lossless.").unwrap();
    writeln!(out, "    pub unknown_tagged_fields: Vec<RawTaggedField>,").unwrap();
    writeln!(out, "}}\n").unwrap();

    // --- Default ---------------------------------------------------------------------------
    writeln!(out, "impl Default for {name} {{").unwrap();
    writeln!(out, "    fn default() -> Self {{").unwrap();
    writeln!(out, "        Self {{").unwrap();
    for f in fields {
        writeln!(out, "            {}: {},", field_name(f), default_expr(f)?).unwrap();
    }
    writeln!(out, "            unknown_tagged_fields: Vec::new(),").unwrap();
    writeln!(out, "        }}\n    }}\n}}\n").unwrap();

    writeln!(out, "impl {name} {{").unwrap();
    // --- builder setters -------------------------------------------------------------------
    for f in fields {
        let n = field_name(f);
        writeln!(out, "    /// Sets `{n}` ({}).", f.name).unwrap();
        writeln!(
            out,
            "    pub fn with_{}(mut self, value: {}) -> Self {{",
            n.trim_end_matches('_'),
            field_type(f)
        )
        .unwrap();
        writeln!(out, "        self.{n} = value;\n        self\n    }}\n").unwrap();
    }

    let flex_test = ctx.flexible.rust_test(ctx.within);

    // --- encode ----------------------------------------------------------------------------
    writeln!(out, "    pub(crate) fn encode_body(&self, buf: &mut BytesMut, version: i16, mode: EncodeMode) -> Result<(), EncodeError> {{").unwrap();
    writeln!(out, "        let flexible = {flex_test};").unwrap();
    for f in fields {
        let n = field_name(f);
        let path = format!("{name}.{n}");
        let present = inline_versions(f).rust_test(ctx.within);
        let absent_check = absent_check(f, &n, &path)?;
        if is_tagged(f) {
            // Tagged fields are written in the tagged section below; here we only reject a
            // non-default value at a version that has no slot for it.
            let tagged_now = f.tagged.intersect(f.versions).rust_test(ctx.within);
            if !absent_check.is_empty() {
                writeln!(
                    out,
                    "        if !(flexible && {tagged_now}) {{ {absent_check} }}"
                )
                .unwrap();
            }
            continue;
        }
        let w = write_field(ctx, f, &format!("&self.{n}"), compact_expr(f), &path);
        match present.as_str() {
            "true" => writeln!(out, "        {w}").unwrap(),
            "false" => writeln!(out, "        {absent_check}").unwrap(),
            t => {
                if absent_check.is_empty() {
                    writeln!(out, "        if {t} {{\n{w}\n}}").unwrap()
                } else {
                    writeln!(out, "        if {t} {{\n{w}\n}} else {{ {absent_check} }}").unwrap()
                }
            }
        }
    }
    writeln!(out, "        if flexible {{").unwrap();
    writeln!(out, "            #[allow(unused_mut)]\n            let mut count = self.unknown_tagged_fields.len();").unwrap();
    for f in &tagged {
        let n = field_name(f);
        let tagged_now = f.tagged.intersect(f.versions).rust_test(ctx.within);
        writeln!(
            out,
            "            if {tagged_now} && self.{n} != {} {{ count += 1; }}",
            default_expr(f)?
        )
        .unwrap();
    }
    writeln!(out, "            put_uvarint(buf, count as u32);").unwrap();
    writeln!(out, "            #[allow(unused_mut)]\n            let mut unknown = self.unknown_tagged_fields.iter().peekable();").unwrap();
    for f in &tagged {
        let n = field_name(f);
        let tag = f.tag.unwrap_or_default();
        let path = format!("{name}.{n}");
        let tagged_now = f.tagged.intersect(f.versions).rust_test(ctx.within);
        writeln!(
            out,
            "            if {tagged_now} && self.{n} != {} {{",
            default_expr(f)?
        )
        .unwrap();
        if tag > 0 {
            writeln!(out, "                while let Some(u) = unknown.next_if(|u| u.tag < {tag}) {{ put_raw_tagged(buf, u); }}").unwrap();
        }
        writeln!(
            out,
            "                let size = {};",
            field_len(ctx, f, &format!("&self.{n}"), "true")
        )
        .unwrap();
        writeln!(out, "                put_tagged_header(buf, {tag}, size);").unwrap();
        writeln!(
            out,
            "                {}",
            write_field(ctx, f, &format!("&self.{n}"), "true", &path)
        )
        .unwrap();
        writeln!(out, "            }}").unwrap();
    }
    writeln!(
        out,
        "            for u in unknown {{ put_raw_tagged(buf, u); }}"
    )
    .unwrap();
    writeln!(out, "        }}\n        Ok(())\n    }}\n").unwrap();

    // --- size ------------------------------------------------------------------------------
    writeln!(
        out,
        "    pub(crate) fn body_len(&self, version: i16) -> usize {{"
    )
    .unwrap();
    writeln!(out, "        let flexible = {flex_test};").unwrap();
    writeln!(out, "        let mut n = 0usize;").unwrap();
    for f in fields.iter().filter(|f| !is_tagged(f)) {
        let fname = field_name(f);
        let present = inline_versions(f).rust_test(ctx.within);
        let l = field_len(ctx, f, &format!("&self.{fname}"), compact_expr(f));
        match present.as_str() {
            "false" => {}
            "true" => writeln!(out, "        n += {l};").unwrap(),
            t => writeln!(out, "        if {t} {{ n += {l}; }}").unwrap(),
        }
    }
    writeln!(out, "        if flexible {{").unwrap();
    writeln!(out, "            #[allow(unused_mut)]\n            let mut count = self.unknown_tagged_fields.len();").unwrap();
    for f in &tagged {
        let fname = field_name(f);
        let tag = f.tag.unwrap_or_default();
        let tagged_now = f.tagged.intersect(f.versions).rust_test(ctx.within);
        writeln!(
            out,
            "            if {tagged_now} && self.{fname} != {} {{",
            default_expr(f)?
        )
        .unwrap();
        writeln!(
            out,
            "                let size = {};",
            field_len(ctx, f, &format!("&self.{fname}"), "true")
        )
        .unwrap();
        writeln!(out, "                n += tagged_header_len({tag}, size) + size;\n                count += 1;\n            }}").unwrap();
    }
    writeln!(
        out,
        "            n += self.unknown_tagged_fields.iter().map(raw_tagged_len).sum::<usize>();"
    )
    .unwrap();
    writeln!(out, "            n += uvarint_len(count as u32);").unwrap();
    writeln!(out, "        }}\n        n\n    }}\n").unwrap();

    // --- decode ----------------------------------------------------------------------------
    writeln!(out, "    pub(crate) fn decode_body(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {{").unwrap();
    writeln!(out, "        let flexible = {flex_test};").unwrap();
    for f in fields {
        let n = field_name(f);
        let path = format!("{name}.{n}");
        if is_tagged(f) {
            writeln!(
                out,
                "        #[allow(unused_mut)]\n        let mut {n} = {};",
                default_expr(f)?
            )
            .unwrap();
            continue;
        }
        let present = inline_versions(f).rust_test(ctx.within);
        let r = read_field(ctx, f, compact_expr(f), &path);
        match present.as_str() {
            "true" => writeln!(out, "        let {n} = {r};").unwrap(),
            "false" => writeln!(out, "        let {n} = {};", default_expr(f)?).unwrap(),
            t => writeln!(
                out,
                "        let {n} = if {t} {{\n{r}\n}} else {{\n{}\n}};",
                default_expr(f)?
            )
            .unwrap(),
        }
    }
    writeln!(out, "        let mut unknown_tagged_fields = Vec::new();").unwrap();
    writeln!(out, "        if flexible {{").unwrap();
    if tagged.is_empty() {
        writeln!(out, "            get_tagged_fields(buf, {:?}, &mut unknown_tagged_fields, |_, _| Ok(false))?;", format!("{name}.tagged_fields")).unwrap();
    } else {
        writeln!(
            out,
            "            get_tagged_fields(buf, {:?}, &mut unknown_tagged_fields, |tag, buf| {{",
            format!("{name}.tagged_fields")
        )
        .unwrap();
        writeln!(out, "                match tag {{").unwrap();
        for f in &tagged {
            let n = field_name(f);
            let path = format!("{name}.{n}");
            let tagged_now = f.tagged.intersect(f.versions).rust_test(ctx.within);
            let guard = if tagged_now == "true" {
                String::new()
            } else {
                format!(" if {tagged_now}")
            };
            writeln!(
                out,
                "                    {}{guard} => {{\n{n} = {};\nOk(true)\n}}",
                f.tag.unwrap_or_default(),
                read_field(ctx, f, "true", &path)
            )
            .unwrap();
        }
        writeln!(
            out,
            "                    _ => Ok(false),\n                }}\n            }})?;"
        )
        .unwrap();
    }
    writeln!(out, "        }}").unwrap();
    let names: Vec<String> = fields.iter().map(field_name).collect();
    writeln!(
        out,
        "        Ok(Self {{ {}{}unknown_tagged_fields }})",
        names.join(", "),
        if names.is_empty() { "" } else { ", " }
    )
    .unwrap();
    writeln!(out, "    }}").unwrap();

    // --- random values for the round-trip property tests -----------------------------------
    writeln!(
        out,
        "\n    #[cfg(test)]\n    #[allow(unused_variables, unused_mut)]"
    )
    .unwrap();
    writeln!(
        out,
        "    pub(crate) fn random(rng: &mut crate::test_rng::TestRng, version: i16) -> Self {{"
    )
    .unwrap();
    writeln!(out, "        let flexible = {flex_test};").unwrap();
    writeln!(out, "        let mut s = Self::default();").unwrap();
    for f in fields {
        let n = field_name(f);
        let present = if is_tagged(f) {
            format!(
                "flexible && {}",
                f.tagged.intersect(f.versions).rust_test(ctx.within)
            )
        } else {
            inline_versions(f).rust_test(ctx.within)
        };
        if present == "false" {
            continue;
        }
        let v = random_value(&f.ty);
        let expr = if is_option(f) {
            let nullable_now = f.nullable.rust_test(ctx.within);
            format!("if {nullable_now} && rng.below(4) == 0 {{ None }} else {{ Some({v}) }}")
        } else {
            v
        };
        writeln!(out, "        if {present} {{ s.{n} = {expr}; }}").unwrap();
    }
    writeln!(out, "        if flexible && rng.below(4) == 0 {{ s.unknown_tagged_fields.push(rng.unknown_tagged_field()); }}").unwrap();
    writeln!(out, "        s\n    }}").unwrap();
    writeln!(out, "}}\n").unwrap();

    emit_inspect(out, ctx, name, fields, &flex_test);
    Ok(())
}

/// The `Inspect` impl (cargo feature `inspect`): the fields that exist at a version, by name.
fn emit_inspect(out: &mut String, ctx: &Ctx, name: &str, fields: &[Field], flex_test: &str) {
    writeln!(
        out,
        "#[cfg(feature = \"inspect\")]\nimpl crate::inspect::Inspect for {name} {{"
    )
    .unwrap();
    writeln!(
        out,
        "    fn inspect(&self, version: i16) -> crate::inspect::Value {{"
    )
    .unwrap();
    if fields.iter().any(is_tagged) {
        writeln!(out, "        let flexible = {flex_test};").unwrap();
    }
    writeln!(out, "        let mut fields = Vec::new();").unwrap();
    for f in fields {
        let n = field_name(f);
        let present = if is_tagged(f) {
            let tagged_now = f.tagged.intersect(f.versions).rust_test(ctx.within);
            if tagged_now == "false" {
                continue;
            }
            format!("flexible && {tagged_now}")
        } else {
            inline_versions(f).rust_test(ctx.within)
        };
        let push =
            format!("fields.push(({n:?}, crate::inspect::Inspect::inspect(&self.{n}, version)));");
        match present.as_str() {
            "false" => {}
            "true" => writeln!(out, "        {push}").unwrap(),
            t => writeln!(out, "        if {t} {{ {push} }}").unwrap(),
        }
    }
    writeln!(out, "        if !self.unknown_tagged_fields.is_empty() {{ fields.push((\"unknown_tagged_fields\", crate::inspect::unknown_tagged(&self.unknown_tagged_fields))); }}").unwrap();
    writeln!(
        out,
        "        crate::inspect::Value::Struct(fields)\n    }}\n}}\n"
    )
    .unwrap();
}

/// The statement rejecting a non-default value of a field at a version that lacks it, or an empty
/// string when the field is ignorable (Kafka then drops it silently).
fn absent_check(f: &Field, n: &str, path: &str) -> Result<String, String> {
    if f.ignorable {
        return Ok(String::new());
    }
    Ok(format!(
        "if mode == EncodeMode::Strict && self.{n} != {} {{ return Err(EncodeError::FieldNotSupported {{ field: {path:?}, version }}); }}",
        default_expr(f)?
    ))
}
