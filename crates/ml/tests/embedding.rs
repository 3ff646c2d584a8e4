//! all-MiniLM-L6-v2 embeddings checked against vectors from an independent implementation
//! (`fixtures/minilm_ref_embeddings.json`), plus the properties callers rely on: batching does
//! not change results, vectors are unit length, similar sentences score higher.

use std::sync::LazyLock;
use std::time::Instant;

use tripwright_ml::embedding::{EmbedError, Embedder, cosine};
use tripwright_testkit::assets::{asset, assets_dir, repo_root};

/// Loaded once: the model is shared by every test, as it is shared by the application.
static EMBEDDER: LazyLock<Embedder> = LazyLock::new(|| {
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        asset(&format!("models/all-MiniLM-L6-v2/{file}"));
    }
    Embedder::load(&assets_dir().join("models/all-MiniLM-L6-v2")).expect("load all-MiniLM-L6-v2")
});

struct Reference {
    sentences: Vec<String>,
    embeddings: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    let path = repo_root().join("fixtures/minilm_ref_embeddings.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
    let sentences: Vec<String> =
        serde_json::from_value(json["sentences"].clone()).expect("sentences: [string]");
    let embeddings: Vec<Vec<f32>> =
        serde_json::from_value(json["embeddings"].clone()).expect("embeddings: [[number]]");
    assert_eq!(sentences.len(), embeddings.len(), "fixture is inconsistent");
    assert!(
        sentences.len() >= 3,
        "fixture needs at least three sentences"
    );
    Reference {
        sentences,
        embeddings,
    }
}

fn as_strs(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

/// A text well over the 256-token limit, to exercise truncation.
fn long_text() -> String {
    "The old harbour hotel has wooden floors, tall windows and a sauna on the roof. ".repeat(30)
}

#[test]
fn matches_reference_embeddings() {
    let reference = reference();
    let embedder = &*EMBEDDER;
    assert_eq!(embedder.dim(), 384);
    assert_eq!(embedder.model_id(), "all-MiniLM-L6-v2");

    let vectors = embedder.embed(&as_strs(&reference.sentences)).unwrap();
    assert_eq!(vectors.len(), reference.sentences.len());
    let scores: Vec<f32> = vectors
        .iter()
        .zip(&reference.embeddings)
        .map(|(got, want)| {
            assert_eq!(got.len(), want.len());
            cosine(got, want)
        })
        .collect();
    let (worst, worst_score) = scores
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    println!(
        "worst cosine to reference: {worst_score:.9} for {:?}",
        reference.sentences[worst]
    );
    for (sentence, score) in reference.sentences.iter().zip(&scores) {
        assert!(score >= &0.9999, "{sentence:?}: cosine {score} < 0.9999");
    }
}

#[test]
fn batch_equals_one_by_one() {
    let mut texts = reference().sentences;
    texts.push(String::new());
    texts.push(long_text());
    texts.push("Sauna.".to_owned());
    let texts = as_strs(&texts);

    let batched = EMBEDDER.embed(&texts).unwrap();
    assert_eq!(batched.len(), texts.len());
    for (text, in_batch) in texts.iter().zip(&batched) {
        let alone = EMBEDDER.embed_one(text).unwrap();
        let score = cosine(in_batch, &alone);
        assert!(score >= 0.99999, "{text:?}: batch vs alone cosine {score}");
    }
}

#[test]
fn results_keep_input_order_across_batches() {
    // More tokens than one internal batch holds (2,048), in an order unrelated to length.
    let texts: Vec<String> = (0..300)
        .map(|i| format!("Hotel number {i} {}", "with a garden ".repeat((i * 7) % 11)))
        .collect();
    let texts = as_strs(&texts);
    let vectors = EMBEDDER.embed(&texts).unwrap();
    for i in [0, 13, 141, 299] {
        let alone = EMBEDDER.embed_one(texts[i]).unwrap();
        assert!(
            cosine(&vectors[i], &alone) >= 0.99999,
            "text {i} out of place"
        );
    }
}

#[test]
fn vectors_have_unit_norm() {
    let mut texts = reference().sentences;
    texts.push(String::new());
    texts.push(long_text());
    for vector in EMBEDDER.embed(&as_strs(&texts)).unwrap() {
        assert_eq!(vector.len(), EMBEDDER.dim());
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
}

#[test]
fn similarity_matches_published_values() {
    let reference = reference();
    let v = EMBEDDER.embed(&as_strs(&reference.sentences[..3])).unwrap();
    let (ab, ac, bc) = (
        cosine(&v[0], &v[1]),
        cosine(&v[0], &v[2]),
        cosine(&v[1], &v[2]),
    );
    println!("similarities: {ab:.4} {ac:.4} {bc:.4}");
    assert!(ab > ac && ab > bc, "related sentences must score highest");
    for (got, published) in [(ab, 0.6660), (ac, 0.1046), (bc, 0.1411)] {
        assert!(
            (got - published).abs() < 5e-4,
            "{got} vs published {published}"
        );
    }
}

#[test]
fn long_texts_are_truncated_at_256_tokens() {
    let long = long_text();
    let longer = format!("{long} Breakfast is served until noon.");
    let v = EMBEDDER.embed(&[&long, &longer]).unwrap();
    assert!(
        cosine(&v[0], &v[1]) >= 0.99999,
        "tokens past 256 must be ignored"
    );
    let short = EMBEDDER
        .embed_one("The old harbour hotel has wooden floors.")
        .unwrap();
    assert!(
        cosine(&v[0], &short) < 0.99,
        "a long text must not equal a short one"
    );
}

#[test]
fn empty_input_gives_empty_output() {
    assert!(EMBEDDER.embed(&[]).unwrap().is_empty());
}

#[test]
fn missing_model_dir_names_the_path() {
    let dir = std::env::temp_dir().join("tripwright-no-such-model-dir");
    let err = Embedder::load(&dir).unwrap_err();
    assert!(matches!(err, EmbedError::MissingFile { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&dir.display().to_string()), "{message}");
    assert!(message.contains("fetch_assets.sh"), "{message}");
}

#[test]
fn cosine_handles_degenerate_vectors() {
    assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    assert!((cosine(&[3.0, 4.0], &[6.0, 8.0]) - 1.0).abs() < 1e-6);
}

#[test]
fn embedder_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Embedder>();

    let texts = reference().sentences;
    let texts = as_strs(&texts);
    let expected = EMBEDDER.embed(&texts).unwrap();
    let results: Vec<Vec<Vec<f32>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| EMBEDDER.embed(&texts).unwrap()))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for vectors in results {
        for (got, want) in vectors.iter().zip(&expected) {
            assert!(cosine(got, want) >= 0.99999);
        }
    }
}

/// Throughput over 1,000 hotel descriptions of 20–40 words. Run in release mode:
/// `cargo test --release -p tripwright-ml --test embedding -- --ignored --nocapture`
#[test]
#[ignore = "benchmark: run in release mode with --ignored"]
fn throughput_hotel_descriptions() {
    const STYLES: [&str; 6] = [
        "cozy",
        "modern",
        "historic",
        "family-run",
        "boutique",
        "budget",
    ];
    const PLACES: [&str; 5] = [
        "near the harbour",
        "in the old town",
        "by the central railway station",
        "on a quiet island",
        "next to the design district",
    ];
    const EXTRAS: [&str; 7] = [
        "Breakfast with local rye bread and berries is included.",
        "Guests can relax in the wood-heated sauna after a long day of sightseeing.",
        "The rooftop bar looks over the sea and serves cocktails until midnight.",
        "Rooms are small but bright, with Nordic furniture and blackout curtains.",
        "Bicycles can be borrowed for free at the reception.",
        "Pets are welcome and there is a park across the street.",
        "The tram stop outside takes you to the market square in five minutes.",
    ];
    let texts: Vec<String> = (0..1000)
        .map(|i| {
            let extras: Vec<&str> = (0..1 + i % 3).map(|k| EXTRAS[(i + 3 * k) % 7]).collect();
            format!(
                "A {} hotel {} with {} rooms. {}",
                STYLES[i % 6],
                PLACES[(i / 6) % 5],
                20 + i % 180,
                extras.join(" ")
            )
        })
        .collect();
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    let texts = as_strs(&texts);

    let embedder = &*EMBEDDER;
    embedder.embed(&texts[..32]).unwrap(); // warm up caches and thread pools
    let start = Instant::now();
    let vectors = embedder.embed(&texts).unwrap();
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(vectors.len(), texts.len());
    println!(
        "{} texts ({:.1} words on average) in {seconds:.2} s: {:.0} texts/s",
        texts.len(),
        words as f64 / texts.len() as f64,
        texts.len() as f64 / seconds
    );
}
