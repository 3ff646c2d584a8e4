//! Identifiers as types: a plan id cannot be passed where a list id is expected, and a
//! function's signature says which id it wants. Each is a string on the wire and in the store
//! (`#[serde(transparent)]`), so the JSON shapes are unchanged.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id of this text (not checked: ids come from the store, URLs or the data).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, consumed.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Lets maps keyed by the id be looked up with a `&str`.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

macro_rules! random_id {
    ($name:ident) => {
        impl $name {
            /// A new random id (UUID v4).
            pub fn random() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }
        }
    };
}

id_type!(
    /// A saved plan (a UUID).
    PlanId
);
id_type!(
    /// A trip list (a UUID).
    ListId
);
id_type!(
    /// One item of a trip list (a UUID).
    ItemId
);
id_type!(
    /// Who owns plans and lists: the opaque id of a browser (a UUID in its signed cookie).
    OwnerId
);
id_type!(
    /// A place of the map data: `osm:node/123`, `osm:way/456`.
    PlaceId
);

random_id!(PlanId);
random_id!(ListId);
random_id!(ItemId);
random_id!(OwnerId);

impl PlaceId {
    /// The id of OpenStreetMap element `kind` (`node`, `way`, `relation`) number `id`.
    pub fn osm(kind: &str, id: impl fmt::Display) -> Self {
        Self(format!("osm:{kind}/{id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn ids_are_plain_strings_on_the_wire_and_look_up_by_str() {
        let id = PlaceId::osm("node", 42);
        assert_eq!(id.as_str(), "osm:node/42");
        assert_eq!(serde_json::to_string(&id).expect("json"), "\"osm:node/42\"");
        let back: PlaceId = serde_json::from_str("\"osm:node/42\"").expect("parse");
        assert_eq!(back, id);
        let map = HashMap::from([(id.clone(), 1)]);
        assert_eq!(map.get("osm:node/42"), Some(&1));
        assert_eq!(id, "osm:node/42");
        let a = PlanId::random();
        assert_ne!(a, PlanId::random());
        assert_eq!(a.as_str().len(), 36);
        assert_eq!(a.to_string(), a.as_str());
    }
}
