//! The GGUF reader and the Llama loader on arbitrary bytes: never a panic, never an allocation
//! a header merely claims, tensor extents inside the file, and whatever loads tokenizes, decodes
//! and runs a short forward (or says why not).
#![no_main]
use libfuzzer_sys::fuzz_target;
use quantlab_engine::model::{lm, Float};
use quantlab_weights::gguf::{parse, Limits};
use quantlab_weights::llm::load_gguf;

fuzz_target!(|data: &[u8]| {
    let small = Limits {
        max_kv: 64,
        max_tensors: 64,
        max_string: 4096,
        max_array: 4096,
        max_header: 1 << 16,
        max_dims: 4,
    };
    for lim in [small, Limits::default()] {
        if let Ok(g) = parse(data, &lim) {
            for t in &g.tensors {
                assert!(t.start + t.bytes <= data.len(), "{t:?}");
            }
        }
    }
    if let Ok(f) = load_gguf(data.to_vec()) {
        let ids = f.tokenizer.encode("fuzz 12, ab\n").ids;
        let _ = f.tokenizer.decode(&ids);
        if (2..=16).contains(&ids.len()) {
            if let Ok(h) = lm::final_hidden(&f.model, &ids, &mut Float) {
                if let Ok((_, r)) = lm::score_reference(&f.model, &ids, &h) {
                    let _ = lm::score(&f.model, &ids, &h, Some(&r));
                }
            }
        }
    }
});
