//! Sentence embeddings with all-MiniLM-L6-v2 (BERT, 6 layers, 384 dimensions) run on the CPU
//! with candle.
//!
//! The pipeline is the one sentence-transformers uses for this model: WordPiece tokens (at most
//! 256, special tokens included) → BERT → mean over the tokens the attention mask keeps →
//! L2 normalisation. Vectors are unit length, so a dot product is the cosine similarity.
//!
//! Texts are encoded in batches of similar length: sorting by token count first means a batch
//! is padded only to its own longest text, which keeps the wasted work on padding small while
//! still giving the matrix kernels large enough operands to run fast.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

/// The longest input the model saw in training (`max_seq_length` of sentence-transformers);
/// longer texts are cut, as the reference implementation does.
const MAX_TOKENS: usize = 256;

/// Padded tokens per forward pass (rows × the batch's longest text). Bounding tokens rather
/// than texts keeps memory flat when texts are long (attention grows with length squared) while
/// short texts still form batches large enough for the matrix kernels. Measured on 2 cores over
/// 1,000 texts of 20–40 words: 1,024 cost 20 % more CPU than 2,048; 4,096 and 8,192 saved
/// nothing more and used more memory.
const BATCH_TOKENS: usize = 2048;

/// Why an embedder could not be loaded or could not embed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A model file is absent.
    #[error(
        "model file {path} not found: run scripts/fetch_assets.sh or point the model directory at all-MiniLM-L6-v2"
    )]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
    },
    /// A model file exists but could not be read.
    #[error("cannot read model file {path}: {source}")]
    Read {
        /// The file being read.
        path: PathBuf,
        /// What the OS reported.
        source: std::io::Error,
    },
    /// `config.json` is not a BERT configuration.
    #[error("invalid BERT configuration {path}: {source}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// Where parsing failed.
        source: serde_json::Error,
    },
    /// `tokenizer.json` could not be loaded or configured.
    #[error("invalid tokenizer {path}: {source}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// What the tokenizers library reported.
        source: tokenizers::Error,
    },
    /// `model.safetensors` does not hold the weights the configuration describes.
    #[error("cannot load model weights {path}: {source}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What candle reported.
        source: candle_core::Error,
    },
    /// Tokenising the input texts failed.
    #[error("cannot tokenize input text: {0}")]
    Tokenize(tokenizers::Error),
    /// The forward pass failed (a tensor operation error; not expected with a valid model).
    #[error("embedding computation failed: {0}")]
    Compute(#[from] candle_core::Error),
}

/// A loaded sentence embedding model.
///
/// Loading costs a few hundred milliseconds, so load once and share it: it is `Send + Sync`
/// and `embed` takes `&self`, so an `Arc<Embedder>` can serve many threads (each call is
/// CPU-bound: call it from `spawn_blocking` in async code).
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    dim: usize,
    model_id: String,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model_id", &self.model_id)
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `model_dir`.
    ///
    /// The model id is the directory's name (e.g. `all-MiniLM-L6-v2`), so that stored vectors
    /// can record which model made them.
    pub fn load(model_dir: &Path) -> Result<Self, EmbedError> {
        let config_path = model_dir.join("config.json");
        let config: Config =
            serde_json::from_slice(&read(&config_path)?).map_err(|source| EmbedError::Config {
                path: config_path.clone(),
                source,
            })?;

        let tokenizer_path = model_dir.join("tokenizer.json");
        let tokenizer = load_tokenizer(&tokenizer_path)?;

        // Read into memory rather than mmap: mapping a file needs `unsafe`, and the 90 MB
        // buffer is dropped once the tensors are built.
        let weights_path = model_dir.join("model.safetensors");
        let weights = read(&weights_path)?;
        let model = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .and_then(|vb| BertModel::load(vb, &config))
            .map_err(|source| EmbedError::Weights {
                path: weights_path,
                source,
            })?;

        let model_id = model_dir.file_name().map_or_else(
            || model_dir.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        Ok(Self {
            model,
            tokenizer,
            dim: config.hidden_size,
            model_id,
        })
    }

    /// Embeds `texts`, returning one unit-length vector of `dim()` floats per text, in input
    /// order. The result for a text does not depend on which other texts share the call.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(EmbedError::Tokenize)?;

        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());

        let mut vectors = vec![Vec::new(); texts.len()];
        let mut rest = &order[..];
        while !rest.is_empty() {
            // Sorted ascending, so the last text taken is the batch's longest.
            let rows = (1..=rest.len())
                .take_while(|&n| n * encodings[rest[n - 1]].get_ids().len() <= BATCH_TOKENS)
                .last()
                .unwrap_or(1);
            let (batch, tail) = rest.split_at(rows);
            rest = tail;
            let ids: Vec<&[u32]> = batch.iter().map(|&i| encodings[i].get_ids()).collect();
            for (&i, vector) in batch.iter().zip(self.embed_batch(&ids)?) {
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }

    /// Embeds a single text; see [`Embedder::embed`].
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(self.embed(&[text])?.pop().unwrap_or_default())
    }

    /// The length of every vector (384 for all-MiniLM-L6-v2).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Names the model, so vectors from different models are never compared.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Runs one padded batch: BERT, masked mean pooling, L2 normalisation.
    fn embed_batch(&self, token_ids: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let rows = token_ids.len();
        let width = token_ids.iter().map(|ids| ids.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for row in token_ids {
            ids.extend_from_slice(row);
            ids.resize(ids.len() + width - row.len(), 0);
            mask.extend((0..width).map(|j| u32::from(j < row.len())));
        }
        let device = &self.model.device;
        let ids = Tensor::from_vec(ids, (rows, width), device)?;
        let mask = Tensor::from_vec(mask, (rows, width), device)?;
        let type_ids = ids.zeros_like()?;

        let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let mean = summed.broadcast_div(&mask.sum(1)?)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        Ok(mean.broadcast_div(&norm)?.to_vec2()?)
    }
}

/// Cosine similarity of two vectors; 0 when either is all zeros or the lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut aa, mut bb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    let denom = (aa * bb).sqrt();
    if denom == 0.0 { 0.0 } else { dot / denom }
}

/// Reads a model file, telling a missing file (fetch the assets) from an unreadable one.
fn read(path: &Path) -> Result<Vec<u8>, EmbedError> {
    std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => EmbedError::MissingFile {
            path: path.to_owned(),
        },
        _ => EmbedError::Read {
            path: path.to_owned(),
            source,
        },
    })
}

/// Loads the tokenizer with per-batch padding off (the shipped file pads every text to 128,
/// which would waste work and is done per batch here instead) and truncation at
/// [`MAX_TOKENS`] (the shipped file cuts at 128, shorter than the model's limit).
fn load_tokenizer(path: &Path) -> Result<Tokenizer, EmbedError> {
    if !path.exists() {
        return Err(EmbedError::MissingFile {
            path: path.to_owned(),
        });
    }
    let invalid = |source| EmbedError::Tokenizer {
        path: path.to_owned(),
        source,
    };
    let mut tokenizer = Tokenizer::from_file(path).map_err(invalid)?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..TruncationParams::default()
        }))
        .map_err(invalid)?;
    Ok(tokenizer)
}
