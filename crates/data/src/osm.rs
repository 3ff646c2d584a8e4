//! OpenStreetMap PBF import: named hotels, attractions, artworks, food places and grocery
//! shops become [`Place`]s.
//!
//! Places are nodes *and* ways (many hotels and museums are mapped as building outlines); a way
//! is located at the mean of its nodes. Regional extracts are clipped at their border, so a way
//! may reference nodes the file does not contain: those references are skipped and counted,
//! and a way with no located node at all is counted as unlocatable instead of imported.
//!
//! Memory stays proportional to the matching places, not to the extract: the import reads the
//! file with [`osmpbf::IndexedReader`], first the nodes (keeping only the matching ones), then
//! the matching ways, and finally only the coordinates of the nodes those ways reference
//! (decoding only the blocks whose id range can contain them).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use osmpbf::{Element, IndexedReader};
use tripwright_domain::{Place, PlaceCategory, PlaceId};

/// Why an extract could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum OsmError {
    /// The file could not be opened.
    #[error("cannot open OpenStreetMap extract {path}: {source}")]
    Open {
        /// The extract's path.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not a readable `.osm.pbf` (wrong format, truncated or corrupt).
    #[error(
        "cannot read OpenStreetMap extract {path}: {source} \
         (is it a valid .osm.pbf file? download it again if it is truncated)"
    )]
    Parse {
        /// The extract's path.
        path: PathBuf,
        /// The PBF decoder's error.
        source: osmpbf::Error,
    },
    /// The file is empty, typically an interrupted download (the decoder would read it as an
    /// extract without places).
    #[error("OpenStreetMap extract {path} is empty; download it again")]
    Empty {
        /// The extract's path.
        path: PathBuf,
    },
}

/// How many places of one category were found, by element type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryCount {
    /// Named nodes imported.
    pub node: usize,
    /// Named ways imported (located at the mean of their located nodes).
    pub way: usize,
    /// Named matching ways skipped because none of their nodes is in the extract.
    pub way_unlocatable: usize,
}

/// The result of [`import_pbf`].
#[derive(Debug, Clone, Default)]
pub struct OsmImport {
    /// The imported places: nodes first, then ways, each in file order.
    pub places: Vec<Place>,
    /// Counts per category; every category is present, with zeros when nothing matched.
    ///
    /// An element matching several category rules counts in each of them but is only one
    /// place (see the precedence in [`import_pbf`]), so these can add up to more than
    /// `places.len()`.
    pub counts: BTreeMap<PlaceCategory, CategoryCount>,
    /// Matching ways skipped because none of their nodes is in the extract.
    pub unlocatable: usize,
    /// Node references of matching ways that the extract does not contain (clipped borders).
    pub missing_node_refs: usize,
}

impl OsmImport {
    fn count(&mut self, category: PlaceCategory) -> &mut CategoryCount {
        self.counts.entry(category).or_default()
    }
}

/// The tags that decide whether and how an element becomes a place.
#[derive(Default)]
struct KeyTags<'a> {
    name: Option<&'a str>,
    tourism: Option<&'a str>,
    historic: Option<&'a str>,
    amenity: Option<&'a str>,
    shop: Option<&'a str>,
}

impl<'a> KeyTags<'a> {
    fn scan(tags: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut key_tags = Self::default();
        for (key, value) in tags {
            let slot = match key {
                "name" => &mut key_tags.name,
                "tourism" => &mut key_tags.tourism,
                "historic" => &mut key_tags.historic,
                "amenity" => &mut key_tags.amenity,
                "shop" => &mut key_tags.shop,
                _ => continue,
            };
            *slot = Some(value);
        }
        key_tags
    }

    /// Every rule a named element matches, as (category, kind), the primary one first (the
    /// order is explained on [`import_pbf`]); empty when the element is unnamed or matches no
    /// rule.
    fn rules(&self) -> Vec<(PlaceCategory, String)> {
        let mut rules = Vec::new();
        if self.name.is_none_or(|name| name.trim().is_empty()) {
            return rules;
        }
        let category = match self.tourism {
            Some("hotel" | "hostel" | "guest_house" | "apartment" | "motel") => {
                Some(PlaceCategory::Hotel)
            }
            Some("attraction" | "museum" | "viewpoint" | "gallery" | "zoo" | "theme_park") => {
                Some(PlaceCategory::Attraction)
            }
            Some("artwork") => Some(PlaceCategory::Artwork),
            _ => None,
        };
        if let (Some(category), Some(tourism)) = (category, self.tourism) {
            rules.push((category, tourism.to_owned()));
        }
        if let Some(historic) = self.historic
            && category != Some(PlaceCategory::Attraction)
        {
            rules.push((PlaceCategory::Attraction, format!("historic:{historic}")));
        }
        if let Some(amenity @ ("restaurant" | "cafe" | "fast_food" | "bar" | "pub")) = self.amenity
        {
            rules.push((PlaceCategory::Food, amenity.to_owned()));
        }
        if let Some(shop @ ("supermarket" | "convenience" | "grocery" | "greengrocer")) = self.shop
        {
            rules.push((PlaceCategory::Grocery, shop.to_owned()));
        }
        rules
    }
}

/// A matching element: its place (in the primary category) and every category it counts in.
struct Matched {
    place: Place,
    categories: Vec<PlaceCategory>,
}

impl Matched {
    /// The element's place, or `None` when it is unnamed or matches no rule. `("way", 456)`
    /// gets the id `osm:way/456`, formatted only for a match.
    ///
    /// `tags` is called twice: once to classify cheaply (most elements stop there), once to
    /// copy every tag of a matching element.
    fn new<'a, I>(
        (element, id): (&str, i64),
        (lat, lon): (f64, f64),
        tags: impl Fn() -> I,
    ) -> Option<Self>
    where
        I: Iterator<Item = (&'a str, &'a str)>,
    {
        let rules = KeyTags::scan(tags()).rules();
        let (category, kind) = rules.first().cloned()?;
        let tags: BTreeMap<String, String> = tags()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        let place = Place {
            id: PlaceId::osm(element, id),
            name: tags
                .get("name")
                .map(|n| tripwright_domain::readable_name(n))
                .unwrap_or_default(),
            category,
            kind,
            lat,
            lon,
            opening_hours: tags.get("opening_hours").cloned(),
            tags,
        };
        let categories = rules.into_iter().map(|(category, _)| category).collect();
        Some(Self { place, categories })
    }
}

/// The place an OpenStreetMap element is by the import's rules (see [`import_pbf`]), for
/// elements that come from elsewhere than an extract (the Overpass API): `("way", 456)` at
/// `(lat, lon)` with its tags; `None` when it is unnamed or matches no rule.
pub fn place_of(
    element: (&str, i64),
    point: (f64, f64),
    tags: &BTreeMap<String, String>,
) -> Option<Place> {
    Matched::new(element, point, || {
        tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    })
    .map(|m| m.place)
}

/// A matching way whose location is not known yet: a place at (0, 0) plus its node refs.
struct PendingWay {
    matched: Matched,
    refs: Vec<i64>,
}

/// Imports the named places of an `.osm.pbf` extract (relations are ignored).
///
/// Category rules (only elements with a `name` tag count):
/// - hotel: `tourism` = hotel, hostel, guest_house, apartment, motel;
/// - attraction: `tourism` = attraction, museum, viewpoint, gallery, zoo, theme_park, or any
///   `historic` (kind `historic:<value>`);
/// - artwork: `tourism=artwork`;
/// - food: `amenity` = restaurant, cafe, fast_food, bar, pub;
/// - grocery: `shop` = supermarket, convenience, grocery, greengrocer.
///
/// An element matching several rules is one place, in the first category of: hotel,
/// attraction by `tourism`, artwork, attraction by `historic`, food, grocery (the `tourism`
/// tag is the more specific, so a statue tagged `tourism=artwork` + `historic=memorial` is an
/// artwork); it still counts in every matching category of [`OsmImport::counts`], as the peer
/// parser's reference counts do.
///
/// Fails with a message naming the path when the file is missing or is not a valid PBF file;
/// references to nodes outside a clipped extract are skipped and counted, never an error.
pub fn import_pbf(path: &Path) -> Result<OsmImport, OsmError> {
    let parse_error = |source| OsmError::Parse {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(|source| OsmError::Open {
        path: path.to_owned(),
        source,
    })?;
    if file.metadata().is_ok_and(|meta| meta.len() == 0) {
        return Err(OsmError::Empty {
            path: path.to_owned(),
        });
    }
    let mut reader = IndexedReader::new(BufReader::new(file)).map_err(parse_error)?;

    let mut import = OsmImport {
        counts: PlaceCategory::ALL
            .into_iter()
            .map(|category| (category, CategoryCount::default()))
            .collect(),
        ..OsmImport::default()
    };

    reader
        .for_each_node(|element| {
            let matched = match element {
                Element::Node(node) => {
                    Matched::new(("node", node.id()), (node.lat(), node.lon()), || {
                        node.tags()
                    })
                }
                Element::DenseNode(node) => {
                    Matched::new(("node", node.id()), (node.lat(), node.lon()), || {
                        node.tags()
                    })
                }
                Element::Way(_) | Element::Relation(_) => None,
            };
            if let Some(Matched { place, categories }) = matched {
                for category in categories {
                    import.count(category).node += 1;
                }
                import.places.push(place);
            }
        })
        .map_err(parse_error)?;

    // Ways arrive first, then only the nodes they reference (each at most once).
    let mut pending = Vec::new();
    let mut coords: HashMap<i64, (f64, f64)> = HashMap::new();
    reader
        .read_ways_and_deps(
            |way| !KeyTags::scan(way.tags()).rules().is_empty(),
            |element| match element {
                Element::Way(way) => {
                    if let Some(matched) =
                        Matched::new(("way", way.id()), (0.0, 0.0), || way.tags())
                    {
                        let refs = way.refs().collect();
                        pending.push(PendingWay { matched, refs });
                    }
                }
                Element::Node(node) => {
                    coords.insert(node.id(), (node.lat(), node.lon()));
                }
                Element::DenseNode(node) => {
                    coords.insert(node.id(), (node.lat(), node.lon()));
                }
                Element::Relation(_) => {}
            },
        )
        .map_err(parse_error)?;

    for PendingWay { matched, refs } in pending {
        let Matched {
            mut place,
            categories,
        } = matched;
        let (located, missing) = locate(&refs, &coords);
        import.missing_node_refs += missing;
        for &category in &categories {
            let count = import.count(category);
            match located {
                Some(_) => count.way += 1,
                None => count.way_unlocatable += 1,
            }
        }
        match located {
            Some((lat, lon)) => {
                (place.lat, place.lon) = (lat, lon);
                import.places.push(place);
            }
            None => import.unlocatable += 1,
        }
    }
    tracing::debug!(
        path = %path.display(),
        places = import.places.len(),
        unlocatable = import.unlocatable,
        missing_node_refs = import.missing_node_refs,
        "imported OpenStreetMap extract"
    );
    Ok(import)
}

/// The mean position of a way's located nodes, and how many of its refs are missing.
///
/// A closed way repeats its first node at the end; that repeat is dropped so the first corner
/// of a building outline does not weigh twice.
fn locate(refs: &[i64], coords: &HashMap<i64, (f64, f64)>) -> (Option<(f64, f64)>, usize) {
    let refs = match refs {
        [first, rest @ .., last] if first == last && !rest.is_empty() => &refs[..refs.len() - 1],
        _ => refs,
    };
    let (mut lat, mut lon, mut located) = (0.0, 0.0, 0usize);
    for node in refs {
        if let Some((node_lat, node_lon)) = coords.get(node) {
            lat += node_lat;
            lon += node_lon;
            located += 1;
        }
    }
    let missing = refs.len() - located;
    let mean = (located > 0).then(|| (lat / located as f64, lon / located as f64));
    (mean, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_way_is_located_at_the_mean_of_its_located_nodes() {
        let coords = HashMap::from([(1, (60.0, 24.0)), (2, (60.2, 24.2)), (3, (60.4, 24.0))]);
        // Closed ring 1-2-3-1 with a node (9) outside the extract.
        let (mean, missing) = locate(&[1, 2, 9, 3, 1], &coords);
        let (lat, lon) = mean.expect("three located nodes");
        assert!((lat - 60.2).abs() < 1e-12 && (lon - (24.0 + 24.2 + 24.0) / 3.0).abs() < 1e-12);
        assert_eq!(missing, 1);
        // A way wholly outside the clipped extract cannot be located.
        assert_eq!(locate(&[7, 8, 9], &coords), (None, 3));
        assert_eq!(locate(&[], &coords), (None, 0));
    }
}
