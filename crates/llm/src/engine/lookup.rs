//! Prompt-lookup drafting: speculative decoding without a draft model.
//!
//! Itinerary prose quotes the place names and phrases it was given. When the last few tokens
//! of a sequence also occur earlier in its prompt or output, the tokens that followed them
//! there are a cheap guess at what comes next. The scheduler feeds the guess to the main model
//! in the same batch as the real token and keeps the longest prefix that the model itself
//! samples, so the output is exactly what plain decoding would give; only the number of
//! decode calls shrinks.

use llama_cpp_2::token::LlamaToken;

/// Settings for prompt-lookup drafting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeculativeConfig {
    /// Shortest match of recent tokens worth drafting from (shorter matches guess badly).
    pub ngram_min: usize,
    /// Longest match tried first.
    pub ngram_max: usize,
    /// Most tokens proposed per step. The default, 2, keeps a lone sequence's verification
    /// batch at 3 rows or fewer: measured on the Qwen GGUF, llama.cpp's CPU kernels give
    /// bit-identical logits for 1 to 3 rows, while from 4 rows they take a 4-column GEMM whose
    /// logits differ by up to 0.57. That flipped a near-tie (a top-2 gap of 0.098) and changed
    /// the greedy text. With 2 drafts speculation still gained 1.32× on the itinerary prompt.
    pub draft_max: usize,
}

impl Default for SpeculativeConfig {
    fn default() -> Self {
        Self {
            ngram_min: 2,
            ngram_max: 4,
            draft_max: 2,
        }
    }
}

impl SpeculativeConfig {
    /// Proposes up to `limit` tokens to follow `tokens`: the continuation of the most recent
    /// earlier occurrence of its last n tokens, trying the longest n first. Empty when nothing
    /// matches.
    pub(super) fn draft(&self, tokens: &[LlamaToken], limit: usize) -> Vec<LlamaToken> {
        let limit = limit.min(self.draft_max);
        if limit == 0 {
            return Vec::new();
        }
        for n in (self.ngram_min.max(1)..=self.ngram_max).rev() {
            let Some(tail_start) = tokens.len().checked_sub(n) else {
                continue;
            };
            let tail = &tokens[tail_start..];
            // Occurrences ending before the tail itself, most recent first.
            let found = (0..tail_start).rev().find(|&i| &tokens[i..i + n] == tail);
            if let Some(i) = found {
                let from = i + n;
                return tokens[from..(from + limit).min(tokens.len())].to_vec();
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().map(|&i| LlamaToken::new(i)).collect()
    }

    #[test]
    fn drafts_what_followed_the_last_occurrence_of_the_tail() {
        let config = SpeculativeConfig {
            ngram_min: 2,
            ngram_max: 3,
            draft_max: 3,
        };
        // "… 7 8 9 10 11 … 7 8" → propose "9 10 11".
        let tokens = toks(&[1, 7, 8, 9, 10, 11, 12, 2, 7, 8]);
        assert_eq!(config.draft(&tokens, 8), toks(&[9, 10, 11]));
        assert_eq!(config.draft(&tokens, 2), toks(&[9, 10]));
    }

    #[test]
    fn the_longest_match_wins_and_short_matches_are_ignored() {
        let config = SpeculativeConfig {
            ngram_min: 2,
            ngram_max: 3,
            draft_max: 2,
        };
        // "5 8" occurs last at 3..5 (→ 40), but "4 5 8" only at 0..3 (→ 30).
        let tokens = toks(&[4, 5, 8, 30, 5, 8, 40, 4, 5, 8]);
        assert_eq!(config.draft(&tokens, 8), toks(&[30, 5]));
        // A single repeated token is below ngram_min.
        assert!(config.draft(&toks(&[1, 2, 3, 1]), 8).is_empty());
    }
}
