//! A generic, field-by-field view of messages (cargo feature `inspect`).
//!
//! Every generated message implements [`Inspect`]: it turns a value into a [`Value`] tree that
//! holds exactly the fields that exist at the given version, under their Rust names. Tools that
//! must look at any message without knowing its type use it: the bundled broker's conformance
//! suite compares its answers with Apache Kafka's field by field, and a debugging dump can print
//! any response.
//!
//! ```
//! use kafka_protocol::inspect::{Inspect, Value};
//! use kafka_protocol::messages::FindCoordinatorRequest;
//!
//! let request = FindCoordinatorRequest::default().with_key("orders");
//! let Value::Struct(fields) = request.inspect(0) else { unreachable!() };
//! // Version 0 has only the key; key_type arrived in v1.
//! assert_eq!(fields, vec![("key", Value::Str("orders".into()))]);
//! ```

use bytes::Bytes;

use crate::codec::{RawTaggedField, Uuid};

/// A message field's value, stripped of its Rust type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A null string, bytes, array or struct.
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer type.
    Int(i64),
    /// A float64.
    Float(f64),
    /// A string.
    Str(String),
    /// Bytes (including record batches).
    Bytes(Bytes),
    /// A UUID (topic ids).
    Uuid(Uuid),
    /// An array.
    List(Vec<Value>),
    /// A structure: its fields in wire order.
    Struct(Vec<(&'static str, Value)>),
}

/// Turns a value into a [`Value`] tree, holding only what exists at `version`.
pub trait Inspect {
    /// The field-by-field view at `version`.
    fn inspect(&self, version: i16) -> Value;
}

macro_rules! int_inspect {
    ($($t:ty),*) => {$(
        impl Inspect for $t {
            fn inspect(&self, _version: i16) -> Value {
                Value::Int(i64::from(*self))
            }
        }
    )*};
}
int_inspect!(i8, i16, i32, i64, u16, u32);

/// Error codes show as the number on the wire, so views of two peers compare field by field.
impl Inspect for crate::ErrorCode {
    fn inspect(&self, _version: i16) -> Value {
        Value::Int(i64::from(self.code()))
    }
}

impl Inspect for bool {
    fn inspect(&self, _version: i16) -> Value {
        Value::Bool(*self)
    }
}

impl Inspect for f64 {
    fn inspect(&self, _version: i16) -> Value {
        Value::Float(*self)
    }
}

impl Inspect for String {
    fn inspect(&self, _version: i16) -> Value {
        Value::Str(self.clone())
    }
}

impl Inspect for crate::StrBytes {
    fn inspect(&self, _version: i16) -> Value {
        Value::Str(self.as_str().to_owned())
    }
}

macro_rules! inspect_string_entity {
    ($($t:ty),*) => {$(
        impl Inspect for $t {
            fn inspect(&self, _version: i16) -> Value {
                Value::Str(self.as_str().to_owned())
            }
        }
    )*};
}
inspect_string_entity!(crate::TopicName, crate::GroupId, crate::TransactionalId);

macro_rules! inspect_integer_entity {
    ($($t:ty),*) => {$(
        impl Inspect for $t {
            fn inspect(&self, _version: i16) -> Value {
                Value::Int(i64::from(self.get()))
            }
        }
    )*};
}
inspect_integer_entity!(crate::BrokerId, crate::ProducerId);

impl Inspect for Bytes {
    fn inspect(&self, _version: i16) -> Value {
        Value::Bytes(self.clone())
    }
}

impl Inspect for Uuid {
    fn inspect(&self, _version: i16) -> Value {
        Value::Uuid(*self)
    }
}

impl<T: Inspect> Inspect for Option<T> {
    fn inspect(&self, version: i16) -> Value {
        match self {
            Some(v) => v.inspect(version),
            None => Value::Null,
        }
    }
}

impl<T: Inspect> Inspect for Vec<T> {
    fn inspect(&self, version: i16) -> Value {
        Value::List(self.iter().map(|v| v.inspect(version)).collect())
    }
}

/// Unknown tagged fields, as `{tag, data}` structures.
pub fn unknown_tagged(fields: &[RawTaggedField]) -> Value {
    Value::List(
        fields
            .iter()
            .map(|f| {
                Value::Struct(vec![
                    ("tag", Value::Int(i64::from(f.tag))),
                    ("data", Value::Bytes(f.data.clone())),
                ])
            })
            .collect(),
    )
}
