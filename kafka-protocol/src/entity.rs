//! Newtypes for the things a field names (the schema's `entity=` attribute): a topic, a group,
//! a transactional id, a broker, a producer.
//!
//! On the wire they are plain strings and integers; in Rust they are distinct types, so a group
//! id cannot be passed where a topic name is expected, and a broker id is not confused with the
//! partition index or leader epoch next to it (all `int32`). Each converts from and to its
//! underlying type with `From`, compares with it directly, and string ones look up a
//! `HashMap` keyed by them with a `&str`.
//!
//! ```
//! use kafka_protocol::{BrokerId, TopicName};
//!
//! let topic = TopicName::from("orders");
//! assert_eq!(topic, "orders");
//! assert_eq!(topic.len(), 6); // derefs to `str`
//! let leader = BrokerId(2);
//! assert!(leader != BrokerId::NONE && leader == 2);
//! ```

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use crate::str_bytes::StrBytes;

macro_rules! string_entity {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
        pub struct $name(pub StrBytes);

        impl $name {
            /// A value pointing at static text; no allocation.
            pub const fn from_static(s: &'static str) -> $name {
                $name(StrBytes::from_static(s))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The string it wraps.
            pub fn into_inner(self) -> StrBytes {
                self.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                self.0.as_str()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        /// Hashes as the `str` it holds, as `Borrow<str>` requires.
        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }

        impl From<StrBytes> for $name {
            fn from(s: StrBytes) -> $name {
                $name(s)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s.into())
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> $name {
                $name(s.into())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.into())
            }
        }

        impl From<$name> for StrBytes {
            fn from(v: $name) -> StrBytes {
                v.0
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0.into()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == other.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self.as_str(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }
    };
}

macro_rules! integer_entity {
    ($(#[$doc:meta])* $name:ident($int:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $int);

        impl $name {
            /// The number.
            pub const fn get(self) -> $int {
                self.0
            }
        }

        impl From<$int> for $name {
            fn from(v: $int) -> $name {
                $name(v)
            }
        }

        impl From<$name> for $int {
            fn from(v: $name) -> $int {
                v.0
            }
        }

        impl PartialEq<$int> for $name {
            fn eq(&self, other: &$int) -> bool {
                self.0 == *other
            }
        }

        impl PartialOrd<$int> for $name {
            fn partial_cmp(&self, other: &$int) -> Option<std::cmp::Ordering> {
                self.0.partial_cmp(other)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

string_entity! {
    /// A topic's name (at most 249 characters of `[a-zA-Z0-9._-]` on a real broker).
    TopicName
}

string_entity! {
    /// A consumer group's (or share group's) id.
    GroupId
}

string_entity! {
    /// The id a transactional producer is known by across restarts (KIP-98).
    TransactionalId
}

integer_entity! {
    /// A broker's (or KRaft controller's) node id.
    BrokerId(i32)
}

integer_entity! {
    /// A producer id handed out by InitProducerId (KIP-98).
    ProducerId(i64)
}

impl BrokerId {
    /// `-1`: no broker, e.g. a partition without a leader or an unknown coordinator.
    pub const NONE: BrokerId = BrokerId(-1);
}

impl ProducerId {
    /// `-1`: no producer id (a non-idempotent producer's batches carry it).
    pub const NONE: ProducerId = ProducerId(-1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn string_entities_behave_as_their_text() {
        let mut by_topic = HashMap::new();
        by_topic.insert(TopicName::from("a"), 1);
        assert_eq!(by_topic.get("a"), Some(&1));
        assert_eq!(TopicName::from_static("a"), String::from("a"));
        assert_eq!(format!("{}", GroupId::from("g")), "g");
        assert_eq!(
            format!("{:?}", TransactionalId::from("t")),
            "TransactionalId(\"t\")"
        );
        assert_eq!(String::from(TopicName::from("x")), "x");
    }

    #[test]
    fn integer_entities_compare_with_their_number() {
        assert!(BrokerId(3) > 2 && BrokerId(3) == 3);
        assert_eq!(ProducerId::NONE.get(), -1);
        assert_eq!(i64::from(ProducerId(7)), 7);
        assert_eq!(
            format!("{:?} {}", BrokerId(1), BrokerId(1)),
            "BrokerId(1) 1"
        );
    }
}
