//! Scratch probe (to be deleted).
use llama_cpp_2::context::params::{KvCacheType, LlamaContextParams};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use std::num::NonZeroU32;
use std::time::Instant;

fn main() {
    let model_name = std::env::args().nth(1).unwrap();
    let plain = std::env::args().nth(2).is_some_and(|s| s == "plain");
    let mut backend = LlamaBackend::init().unwrap();
    backend.void_logs();
    let path = format!(
        "{}/../../assets/models/{model_name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut params = std::pin::pin!(LlamaModelParams::default());
    if plain {
        params.as_mut().add_cpu_buft_override(c".");
    }
    let model = LlamaModel::load_from_file(&backend, path, &params).unwrap();
    let vocab = model.vocab();
    let text =
        "The quick brown fox jumps over the lazy dog near the Helsinki cathedral. ".repeat(40);
    let toks = vocab.tokenize(text.as_bytes(), true, true);
    let toks = &toks[..256];
    let p = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(2048))
        .with_n_batch(256)
        .with_n_ubatch(256)
        .with_n_seq_max(1)
        .with_n_threads(2)
        .with_n_threads_batch(2)
        .with_kv_unified(false)
        .with_flash_attention_policy(1)
        .with_type_k(KvCacheType::Q8_0)
        .with_type_v(KvCacheType::Q8_0);
    let mut ctx = model.new_context(&backend, p).unwrap();
    let mut batch = LlamaBatch::new(256, 1);
    for rep in 0..2 {
        ctx.clear_kv_cache();
        batch.clear();
        batch.add_sequence(toks, 0, false).unwrap();
        let t = Instant::now();
        ctx.decode(&mut batch).unwrap();
        let pf = 256.0 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        for i in 0..64 {
            batch.clear();
            batch.add(toks[i], 256 + i as i32, &[0], true).unwrap();
            ctx.decode(&mut batch).unwrap();
        }
        let dc = 64.0 / t.elapsed().as_secs_f64();
        println!(
            "{model_name} plain={plain} rep {rep}: prefill {pf:.0} tok/s, decode {dc:.1} tok/s"
        );
    }
}
