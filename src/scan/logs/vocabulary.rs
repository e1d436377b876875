//! The shared log vocabulary, as one table: the fields every log format
//! fills from its own (`timestamp`, `host`, …) and the audit reads.
//!
//! `vocabulary!` below lists each field once, with the transform its
//! value gets when it is read from a field of its own name (or an
//! override); of the list it makes [`Field`] (whose discriminant is the
//! field's slot: the audit gives the vocabulary the first slots, in this
//! order), [`Field::ALL`] and [`VOCABULARY`], the names in slot order.
//! The order is the audit's: its `--findings` records and its fields
//! summary list the fields so. What each field means to a rule writer is
//! `rules::fields::KNOWN_FIELDS`, which a test keeps in step with this.

use super::Transform;

/// Makes [`Field`], [`Field::ALL`], [`Field::name`], [`Field::transform`]
/// and [`VOCABULARY`] from one list of `Variant = "name", Transform`.
macro_rules! vocabulary {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $transform:ident;)*) => {
        /// A field of the shared log vocabulary; its discriminant is its
        /// slot (see [`Field::slot`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Field {
            $($(#[$doc])* $variant,)*
        }

        impl Field {
            /// Every field, in slot order.
            pub const ALL: &'static [Field] = &[$(Field::$variant,)*];

            /// The field's name, as rules write it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Field::$variant => $name,)*
                }
            }

            /// The transform the field's value gets when it is read from a
            /// field of the field's own name or from an override
            /// (`--field host=properties.url` reads a URL's host).
            pub const fn transform(self) -> Transform {
                match self {
                    $(Field::$variant => Transform::$transform,)*
                }
            }
        }

        /// The vocabulary's names, in slot order.
        pub const VOCABULARY: &[&str] = &[$($name,)*];
    };
}

vocabulary! {
    /// When the request was made (read to UTC milliseconds by the audit).
    Timestamp = "timestamp", None;
    /// The host the request was for (lower-cased by the audit).
    Host = "host", Host;
    /// The request's path, without its query.
    Path = "path", Path;
    /// The request's method.
    Method = "method", None;
    /// The response's status.
    Status = "status", None;
    /// The client's address.
    ClientIp = "client_ip", Ip;
    /// The backend's address.
    TargetIp = "target_ip", Ip;
    /// The cloud that served the request: implied by the format, or from
    /// the published IP ranges of `target_ip`.
    Cloud = "cloud", None;
    /// The cloud region that served the request.
    Region = "region", None;
    /// What the record is (see `Kind`): read from the format's category
    /// field, if it has one, and replaced by the kind's name.
    Kind = "kind", None;
    /// The request's size in bytes.
    BytesIn = "bytes_in", None;
    /// The response's size in bytes.
    BytesOut = "bytes_out", None;
}

impl Field {
    /// The field's slot in every audit (the vocabulary's are the first).
    #[inline]
    pub const fn slot(self) -> usize {
        self as usize
    }

    /// The vocabulary field of this name, if it is one.
    pub fn named(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// The transform a vocabulary field gets when it is read from a column of
/// its own name or an override; any other name's value is kept as it is.
pub fn vocab_transform(name: &str) -> Transform {
    Field::named(name).map_or(Transform::None, Field::transform)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_at_its_own_slot_under_its_own_name() {
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(f.slot(), i);
            assert_eq!(VOCABULARY.get(i), Some(&f.name()));
            assert_eq!(Field::named(f.name()), Some(*f));
        }
        assert_eq!(vocab_transform("host"), Transform::Host);
        assert_eq!(vocab_transform("path"), Transform::Path);
        assert_eq!(vocab_transform("client_ip"), Transform::Ip);
        assert_eq!(vocab_transform("target_ip"), Transform::Ip);
        assert_eq!(vocab_transform("status"), Transform::None);
        assert_eq!(vocab_transform("properties.host"), Transform::None);
    }
}
