//! HotelRecommenderAgent: ranks the hotels at the destination by the cosine similarity of
//! their description to the user's preferences (all-MiniLM-L6-v2 embeddings), after the
//! price and stars filters.
//!
//! OpenStreetMap hotels rarely carry a text, so a description is composed from their tags
//! (kind, stars, amenities, distance from the centre). Each description is embedded once and
//! cached in the store with a hash of its text; only new or changed descriptions are
//! embedded on a later request.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tripwright_config::HotelConfig;
use tripwright_domain::{Destination, Hotel, Place, PlaceCategory, PlaceId};
use tripwright_ml::embedding::{Embedder, cosine};
use tripwright_store::PlaceStore;

use crate::AgentError;
use crate::summary::Prices;
use crate::wishes::{Surroundings, class_of, fit, wishes_of};

/// What a confirmed wish adds to a hotel's score (similarities differ by a few hundredths).
const WISH_MATCH: f64 = 0.1;
/// What a contradicted wish takes away.
const WISH_CONFLICT: f64 = 0.3;

/// What the hotel search returns.
#[derive(Debug, Clone)]
pub struct HotelReport {
    /// Best match first, at most `top_n`.
    pub hotels: Vec<Hotel>,
    /// Hotels found in the search radius before filters.
    pub considered: usize,
    /// Hotels removed by the price and stars filters.
    pub filtered_out: usize,
}

/// The hotel recommender.
pub struct HotelAgent {
    embedder: Arc<Embedder>,
    store: Arc<dyn PlaceStore>,
    config: HotelConfig,
}

/// Filters from the request, prices in the plan's currency.
#[derive(Debug, Clone, Copy, Default)]
pub struct HotelFilters {
    /// Highest acceptable price per night.
    pub max_price: Option<f64>,
    /// Fewest acceptable stars (hotels without stars are kept only without this filter).
    pub min_stars: Option<u8>,
}

impl HotelAgent {
    /// A recommender over the store's hotels.
    pub fn new(embedder: Arc<Embedder>, store: Arc<dyn PlaceStore>, config: HotelConfig) -> Self {
        Self {
            embedder,
            store,
            config,
        }
    }

    /// Ranks the hotels near `dest` for `prefs`.
    #[tracing::instrument(skip_all, fields(destination = %dest.name))]
    pub async fn recommend(
        &self,
        dest: &Destination,
        prefs: &str,
        filters: HotelFilters,
        prices: &Prices,
    ) -> Result<HotelReport, AgentError> {
        let places = self
            .store
            .places_near(dest.point(), self.config.radius_km, &[PlaceCategory::Hotel])
            .await?;
        let considered = places.len();
        // What is around each lodging: bars for "quiet", a sight and cafés for its description.
        let around = self
            .store
            .places_near(
                dest.point(),
                self.config.radius_km + 0.5,
                &[PlaceCategory::Food, PlaceCategory::Attraction],
            )
            .await?;
        let wishes = wishes_of(prefs);
        let candidates: Vec<(Place, String, f64, bool, Surroundings)> = places
            .into_iter()
            .map(|p| {
                let (price, estimated) = prices.room_night(&p);
                let near = Surroundings::of(&p, &around);
                let text = describe_hotel(&p, dest, &near);
                (p, text, price, estimated, near)
            })
            .filter(|(p, _, price, _, _)| {
                filters.max_price.is_none_or(|m| *price <= m)
                    && filters
                        .min_stars
                        .is_none_or(|s| stars(p).is_some_and(|have| have >= s))
            })
            .collect();
        let filtered_out = considered - candidates.len();
        if candidates.is_empty() {
            return Ok(HotelReport {
                hotels: Vec::new(),
                considered,
                filtered_out,
            });
        }
        let vectors = self
            .description_vectors(
                candidates
                    .iter()
                    .map(|(p, t, _, _, _)| (p.id.clone(), t.clone()))
                    .collect(),
            )
            .await?;
        let embedder = Arc::clone(&self.embedder);
        // No wishes: a hotel in the centre, rather than whatever an empty text is nearest to.
        let prefs_text = if prefs.trim().is_empty() {
            "A comfortable hotel in the city centre.".to_owned()
        } else {
            prefs.to_owned()
        };
        let query = tokio::task::spawn_blocking(move || embedder.embed_one(&prefs_text))
            .await
            .map_err(|e| AgentError::Internal(e.to_string()))??;
        let mut hotels: Vec<Hotel> = candidates
            .into_iter()
            .zip(vectors)
            .map(|((p, description, price, estimated, near), v)| {
                let km = p.point().distance_km(&dest.point());
                let fit = fit(&wishes, &p, km, class_of(&p), &near);
                let similarity = f64::from(cosine(&query, &v));
                // A confirmed wish is worth more than the embedding's fine differences; a
                // contradicted one more still (a hostel for "quiet" should not come first).
                let score = similarity + WISH_MATCH * fit.matches.len() as f64
                    - WISH_CONFLICT * fit.conflicts.len() as f64;
                Hotel {
                    similarity,
                    distance_km: (km * 100.0).round() / 100.0,
                    stars: stars(&p),
                    amenities: amenities(&p),
                    kind: p.kind.clone(),
                    matches: fit.matches,
                    conflicts: fit.conflicts,
                    unknown: fit.unknown,
                    score: (score * 1000.0).round() / 1000.0,
                    id: p.id,
                    name: tripwright_domain::readable_name(&p.name),
                    description,
                    price_per_night: price,
                    price_estimated: estimated,
                    lat: p.lat,
                    lon: p.lon,
                }
            })
            .collect();
        hotels.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        hotels.truncate(self.config.top_n);
        Ok(HotelReport {
            hotels,
            considered,
            filtered_out,
        })
    }

    /// Vectors for `(id, text)` pairs in order: cached ones from the store when the text hash
    /// matches, the rest embedded now (off the async threads) and saved.
    async fn description_vectors(
        &self,
        items: Vec<(PlaceId, String)>,
    ) -> Result<Vec<Vec<f32>>, AgentError> {
        let model = self.embedder.model_id().to_owned();
        let ids: Vec<PlaceId> = items.iter().map(|(id, _)| id.clone()).collect();
        let cached = self.store.embeddings(&model, &ids).await?;
        let hashes: Vec<u64> = items.iter().map(|(_, t)| text_hash(t)).collect();
        let missing: Vec<usize> = (0..items.len())
            .filter(|&i| cached.get(&items[i].0).is_none_or(|(h, _)| *h != hashes[i]))
            .collect();
        let mut fresh = Vec::new();
        if !missing.is_empty() {
            let embedder = Arc::clone(&self.embedder);
            let texts: Vec<String> = missing.iter().map(|&i| items[i].1.clone()).collect();
            let vectors = tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                embedder.embed(&refs)
            })
            .await
            .map_err(|e| AgentError::Internal(e.to_string()))??;
            fresh = missing
                .iter()
                .zip(vectors)
                .map(|(&i, v)| (items[i].0.clone(), hashes[i], v))
                .collect();
            self.store.save_embeddings(&model, &fresh).await?;
        }
        let mut fresh_by_id: std::collections::HashMap<PlaceId, Vec<f32>> =
            fresh.into_iter().map(|(id, _, v)| (id, v)).collect();
        let mut cached = cached;
        Ok(items
            .iter()
            .map(|(id, _)| {
                fresh_by_id
                    .remove(id)
                    .or_else(|| cached.remove(id).map(|(_, v)| v))
                    .unwrap_or_default()
            })
            .collect())
    }
}

/// A stable 64-bit hash of a description (the first 8 bytes of its SHA-256).
pub fn text_hash(text: &str) -> u64 {
    let digest = Sha256::digest(text.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(b)
}

/// Stars from the `stars` tag ("4", "4S", "3.5" → 3); `None` when absent or not 1..=5.
pub fn stars(p: &Place) -> Option<u8> {
    let raw = p.tag("stars")?;
    let digits: String = raw.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|s| (1..=5).contains(s))
}

/// Amenity tags and the words they become in a description.
const AMENITIES: &[(&str, &[&str], &str)] = &[
    ("sauna", &["yes"], "a sauna"),
    ("leisure", &["sauna"], "a sauna"),
    (
        "swimming_pool",
        &["yes", "indoor", "outdoor"],
        "a swimming pool",
    ),
    ("spa", &["yes"], "a spa"),
    ("fitness_centre", &["yes"], "a gym"),
    ("internet_access", &["wlan", "yes", "wifi"], "wifi"),
    ("breakfast", &["yes", "included"], "breakfast"),
    ("restaurant", &["yes"], "a restaurant"),
    ("bar", &["yes"], "a bar"),
    ("parking", &["yes"], "parking"),
    ("pets", &["yes"], "pets allowed"),
    ("wheelchair", &["yes"], "step-free access"),
    ("air_conditioning", &["yes"], "air conditioning"),
];

/// What the data says a lodging has, in words: "sauna", "wifi", "step-free access".
pub fn amenities(p: &Place) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (key, values, words) in AMENITIES {
        let w = words.trim_start_matches("a ").to_owned();
        if p.tag(key).is_some_and(|v| values.contains(&v)) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// A description of a lodging composed from its data (and its own `description` tag): what
/// it is, where, what it has, what is around it. The name is shown beside it, so it is not
/// repeated.
pub fn describe_hotel(p: &Place, dest: &Destination, around: &Surroundings) -> String {
    let kind = p.kind.replace('_', " ");
    let mut s = match (stars(p), crate::wishes::class_of(p)) {
        (Some(n), _) => format!("A {n}-star {kind}"),
        (None, Some(c)) if c.level <= 2 => format!("A budget {kind}"),
        (None, Some(c)) if c.level >= 4 => format!("An upscale {kind}"),
        _ => format!("A {kind}"),
    };
    let km = p.point().distance_km(&dest.point());
    if km < 1.0 {
        s.push_str(&format!(" in the centre of {}", dest.name));
    } else {
        s.push_str(&format!(" {km:.1} km from the centre of {}", dest.name));
    }
    if let Some(street) = p.tag("addr:street") {
        s.push_str(&format!(", on {street}"));
    }
    if let Some(brand) = p.tag("brand").or_else(|| p.tag("operator")) {
        s.push_str(&format!(", run by {brand}"));
    }
    s.push('.');
    let mut features: Vec<&str> = Vec::new();
    for (key, values, words) in AMENITIES {
        if p.tag(key).is_some_and(|v| values.contains(&v)) && !features.contains(words) {
            features.push(words);
        }
    }
    if !features.is_empty() {
        s.push_str(&format!(" It has {}.", features.join(", ")));
    }
    if p.tag("wheelchair") == Some("no") {
        s.push_str(" Not step-free.");
    }
    if let Some(rooms) = p.tag("rooms") {
        s.push_str(&format!(" {rooms} rooms."));
    }
    if let Some(year) = p.tag("start_date").filter(|y| y.len() == 4) {
        s.push_str(&format!(" Open since {year}."));
    }
    if let Some(d) = p.tag("description").or_else(|| p.tag("description:en")) {
        s.push(' ');
        s.push_str(d.trim());
        if !d.trim().ends_with('.') {
            s.push('.');
        }
    }
    let near: Vec<String> = around
        .nearest_sight
        .iter()
        .map(|(name, m)| format!("{m} m from {name}"))
        .chain(around.nightlife_words())
        .collect();
    if !near.is_empty() {
        s.push(' ');
        s.push_str(&tripwright_domain::capitalised(&near.join("; ")));
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn hotel(tags: &[(&str, &str)]) -> Place {
        Place {
            id: "osm:node/1".into(),
            name: "Hotel Kämp".into(),
            category: PlaceCategory::Hotel,
            kind: "hotel".into(),
            lat: 60.1679,
            lon: 24.9475,
            opening_hours: None,
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn helsinki() -> Destination {
        Destination {
            name: "Helsinki".into(),
            country: "Finland".into(),
            country_code: "FI".into(),
            lat: 60.16952,
            lon: 24.93545,
            population: 558_457,
            timezone: "Europe/Helsinki".into(),
            currency: "EUR".into(),
            geoname_id: 658_225,
        }
    }

    #[test]
    fn description_from_tags() {
        let p = hotel(&[
            ("stars", "5"),
            ("sauna", "yes"),
            ("internet_access", "wlan"),
            ("addr:street", "Pohjoisesplanadi"),
        ]);
        let d = describe_hotel(&p, &helsinki(), &Surroundings::default());
        assert_eq!(
            d,
            "A 5-star hotel in the centre of Helsinki, on Pohjoisesplanadi. It has a sauna, wifi."
        );
        let around = Surroundings {
            bars_100: 0,
            bars_200: 2,
            cafes_200: 15,
            food_300: 30,
            nearest_sight: Some(("Ateneum".into(), 260)),
        };
        assert_eq!(
            describe_hotel(&hotel(&[]), &helsinki(), &around),
            "An upscale hotel in the centre of Helsinki. 260 m from Ateneum; 15 cafés and 2 bars or pubs \
             within 200 m."
        );
        assert_eq!(amenities(&p), ["sauna", "wifi"]);
    }

    #[test]
    fn stars_parsing() {
        assert_eq!(stars(&hotel(&[("stars", "4S")])), Some(4));
        assert_eq!(stars(&hotel(&[("stars", "3.5")])), Some(3));
        assert_eq!(stars(&hotel(&[("stars", "9")])), None);
        assert_eq!(stars(&hotel(&[])), None);
    }

    #[test]
    fn text_hash_is_stable() {
        // Pinned: the cache must hit across runs and builds.
        // SHA-256("abc") starts ba 78 16 bf 8f 01 cf ea.
        assert_eq!(text_hash("abc"), 0xeacf_018f_bf16_78ba);
        assert_ne!(text_hash("abc"), text_hash("abd"));
    }
}
