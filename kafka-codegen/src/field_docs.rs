//! `schema/fields.kdoc`: the one-line description of every schema field.
//!
//! A line `Name: text` describes every field called `Name`; `Struct.Name: text` describes the
//! field `Name` of structure `Struct` only and wins over the general line. Most field names
//! keep one meaning across APIs (`ErrorCode`, `ThrottleTimeMs`, `PartitionIndex`), so stating it
//! once keeps the descriptions consistent; the structure-qualified lines cover names such as
//! `Name` that mean a topic in one place and a config key in another.
//!
//! Every field must end up with a description and every line must describe some field, so the
//! file cannot silently fall behind the schemas.

use std::collections::{BTreeMap, BTreeSet};

use crate::schema::{Field, SchemaFile, Type};

/// The parsed file: general lines by field name, specific lines by (structure, field name).
#[derive(Debug, Default)]
pub struct FieldDocs {
    general: BTreeMap<String, String>,
    specific: BTreeMap<(String, String), String>,
}

impl FieldDocs {
    pub fn parse(text: &str) -> Result<FieldDocs, String> {
        let mut docs = FieldDocs::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, doc) = line
                .split_once(": ")
                .ok_or_else(|| format!("line {}: expected `Name: description`", n + 1))?;
            let doc = doc.trim();
            if doc.is_empty() {
                return Err(format!("line {}: empty description for {key}", n + 1));
            }
            let dup = match key.split_once('.') {
                Some((s, f)) => docs
                    .specific
                    .insert((s.to_string(), f.to_string()), doc.to_string())
                    .is_some(),
                None => docs
                    .general
                    .insert(key.to_string(), doc.to_string())
                    .is_some(),
            };
            if dup {
                return Err(format!("line {}: {key} is described twice", n + 1));
            }
        }
        Ok(docs)
    }

    /// Sets `description` on every field of every message, failing on a field without one or
    /// on a line that no field uses.
    pub fn apply(&self, files: &mut [SchemaFile]) -> Result<(), String> {
        let mut used_general = BTreeSet::new();
        let mut used_specific = BTreeSet::new();
        let mut missing = Vec::new();
        for file in files.iter_mut() {
            for m in &mut file.messages {
                let name = m.name.clone();
                self.walk(
                    &name,
                    &mut m.fields,
                    &mut used_general,
                    &mut used_specific,
                    &mut missing,
                );
                for s in &mut m.structs {
                    let sname = s.name.clone();
                    self.walk(
                        &sname,
                        &mut s.fields,
                        &mut used_general,
                        &mut used_specific,
                        &mut missing,
                    );
                }
            }
        }
        if !missing.is_empty() {
            return Err(format!(
                "fields.kdoc: no description for {}",
                missing.join(", ")
            ));
        }
        let unused: Vec<String> = self
            .general
            .keys()
            .filter(|k| !used_general.contains(*k))
            .cloned()
            .chain(
                self.specific
                    .keys()
                    .filter(|k| !used_specific.contains(*k))
                    .map(|(s, f)| format!("{s}.{f}")),
            )
            .collect();
        if !unused.is_empty() {
            return Err(format!(
                "fields.kdoc: lines describing no field: {}",
                unused.join(", ")
            ));
        }
        Ok(())
    }

    fn walk(
        &self,
        parent: &str,
        fields: &mut [Field],
        used_general: &mut BTreeSet<String>,
        used_specific: &mut BTreeSet<(String, String)>,
        missing: &mut Vec<String>,
    ) {
        for f in fields {
            let key = (parent.to_string(), f.name.clone());
            if let Some(d) = self.specific.get(&key) {
                f.description = d.clone();
                used_specific.insert(key);
            } else if let Some(d) = self.general.get(&f.name) {
                f.description = d.clone();
                used_general.insert(f.name.clone());
            } else {
                missing.push(format!("{parent}.{}", f.name));
            }
            if !f.fields.is_empty() {
                let child = struct_name(&f.ty).unwrap_or(parent).to_string();
                self.walk(&child, &mut f.fields, used_general, used_specific, missing);
            }
        }
    }
}

/// The structure a field's type names, through arrays.
fn struct_name(ty: &Type) -> Option<&str> {
    match ty {
        Type::Struct(n) => Some(n),
        Type::Array(t) => struct_name(t),
        Type::Prim(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specific_lines_win_and_gaps_and_leftovers_are_errors() {
        let schema = "api Demo key=99\n\nrequest DemoRequest versions=0 flexible=none\n  Name string v0+\n  Items []Item v0+\n    Name string v0+\n";
        let mut files = vec![crate::schema::parse(schema).unwrap()];
        let docs =
            FieldDocs::parse("Name: A topic.\nItems: The items.\nItem.Name: An item.\n").unwrap();
        docs.apply(&mut files).unwrap();
        let m = &files[0].messages[0];
        assert_eq!(m.fields[0].description, "A topic.");
        assert_eq!(m.fields[1].fields[0].description, "An item.");

        let gap = FieldDocs::parse("Name: A topic.\n").unwrap();
        let err = gap.apply(&mut files.clone()).unwrap_err();
        assert!(err.contains("DemoRequest.Items"), "{err}");

        let extra = FieldDocs::parse("Name: A.\nItems: B.\nGone: C.\n").unwrap();
        let err = extra.apply(&mut files.clone()).unwrap_err();
        assert!(err.contains("Gone"), "{err}");

        assert!(FieldDocs::parse("Name: a\nName: b\n").is_err());
        assert!(FieldDocs::parse("no colon here\n").is_err());
    }
}
