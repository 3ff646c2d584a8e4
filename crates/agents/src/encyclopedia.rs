//! Descriptions of stops from an encyclopedia: a stop whose OpenStreetMap data links a
//! Wikipedia article (`wikipedia=fi:Ateneumin taidemuseo`, `wikipedia:en=…`) gets the first
//! sentences of its English article, shown with a link and given to the model as a fact, so
//! that its note can say something true. The lookup itself (HTTP, cache, usage policy) is the
//! application's ([`Encyclopedia`] is implemented over its online client).

use async_trait::async_trait;
use tripwright_domain::{Description, Place};

/// Where stop descriptions come from.
#[async_trait]
pub trait Encyclopedia: Send + Sync {
    /// The English summary of the article `reference` names (`lang:Title`); `None` when there
    /// is none or it could not be had (the plan goes on without it).
    async fn describe(&self, reference: &str) -> Option<Description>;
}

/// The article a place's data links, English first (`wikipedia:en`, else `wikipedia`).
pub fn reference(place: &Place) -> Option<String> {
    if let Some(title) = place
        .tag("wikipedia:en")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Some(format!("en:{title}"));
    }
    place
        .tag("wikipedia")
        .map(str::trim)
        .filter(|r| {
            r.split_once(':')
                .is_some_and(|(l, t)| !l.is_empty() && !t.trim().is_empty())
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(tags: &[(&str, &str)]) -> Place {
        crate::wishes::tests::lodging("Ateneum", "museum", tags)
    }

    #[test]
    fn the_english_article_is_preferred_and_a_bad_reference_is_none() {
        assert_eq!(
            reference(&place(&[("wikipedia", "fi:Ateneumin taidemuseo")])).as_deref(),
            Some("fi:Ateneumin taidemuseo")
        );
        assert_eq!(
            reference(&place(&[
                ("wikipedia", "fi:Ateneumin taidemuseo"),
                ("wikipedia:en", "Ateneum")
            ]))
            .as_deref(),
            Some("en:Ateneum")
        );
        assert_eq!(reference(&place(&[("wikipedia", "Ateneum")])), None);
        assert_eq!(reference(&place(&[])), None);
    }
}
