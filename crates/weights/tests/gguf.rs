//! The GGUF reader and the Llama loader on hostile files: truncations, lying headers, sizes
//! that disagree with shapes, foreign architectures and tensor types, 2 GB of metadata, NaN in
//! a block scale, byte flips. Each must be one clear message (never a panic, never a large
//! allocation); a tiny well-formed model written here must load and run.
//!
//! The files are written by a small GGUF writer below (independent of the reader), so these
//! tests need no download, and they run natively and on wasm32 (Node), where a lying header
//! must not reach the allocator either.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use quantlab_engine::kernels::ggml::BlockType;
use quantlab_engine::model::lm;
use quantlab_engine::model::Float;
use quantlab_engine::QuantError;
use quantlab_weights::gguf::{parse, Limits, Value};
use quantlab_weights::llm::load_gguf;

/// A metadata value for the writer.
enum V {
    U32(u32),
    F32(f32),
    Bool(bool),
    Str(String),
    Strs(Vec<String>),
    I32s(Vec<i32>),
    F32s(Vec<f32>),
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A GGUF v3 file: the key–value pairs, then the tensors (name, dims fastest-first, ggml type,
/// raw bytes), data aligned to 32.
fn write_gguf(kvs: &[(&str, V)], tensors: &[(String, Vec<u64>, u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    out.extend_from_slice(&(kvs.len() as u64).to_le_bytes());
    for (k, v) in kvs {
        put_str(&mut out, k);
        match v {
            V::U32(x) => {
                out.extend_from_slice(&4u32.to_le_bytes());
                out.extend_from_slice(&x.to_le_bytes());
            }
            V::F32(x) => {
                out.extend_from_slice(&6u32.to_le_bytes());
                out.extend_from_slice(&x.to_le_bytes());
            }
            V::Bool(b) => {
                out.extend_from_slice(&7u32.to_le_bytes());
                out.push(u8::from(*b));
            }
            V::Str(s) => {
                out.extend_from_slice(&8u32.to_le_bytes());
                put_str(&mut out, s);
            }
            V::Strs(v) => {
                out.extend_from_slice(&9u32.to_le_bytes());
                out.extend_from_slice(&8u32.to_le_bytes());
                out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                for s in v {
                    put_str(&mut out, s);
                }
            }
            V::I32s(v) => {
                out.extend_from_slice(&9u32.to_le_bytes());
                out.extend_from_slice(&5u32.to_le_bytes());
                out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                for x in v {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
            V::F32s(v) => {
                out.extend_from_slice(&9u32.to_le_bytes());
                out.extend_from_slice(&6u32.to_le_bytes());
                out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                for x in v {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
    }
    let mut offset = 0u64;
    let mut offsets = Vec::new();
    for (name, dims, ty, data) in tensors {
        put_str(&mut out, name);
        out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        for d in dims {
            out.extend_from_slice(&d.to_le_bytes());
        }
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        offsets.push(offset);
        offset += (data.len() as u64).div_ceil(32) * 32;
    }
    while !out.len().is_multiple_of(32) {
        out.push(0);
    }
    for (_, _, _, data) in tensors {
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(32) {
            out.push(0);
        }
    }
    out
}

/// GPT-2's byte → character table, written out independently of the engine's.
fn byte_chars() -> Vec<char> {
    let printable: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut chars = vec!['\0'; 256];
    for &b in &printable {
        chars[b as usize] = char::from_u32(b).unwrap();
    }
    let mut n = 0;
    for b in 0..256u32 {
        if !printable.contains(&b) {
            chars[b as usize] = char::from_u32(256 + n).unwrap();
            n += 1;
        }
    }
    chars
}

/// A small deterministic generator (xorshift) for weights.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() % 20_001) as f32 / 10_000.0 - 1.0
    }
}

fn f16_bits(x: f32) -> u16 {
    // Values used here are small normal numbers; truncation is enough for a writer.
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
    if x == 0.0 || exp <= 0 {
        return sign;
    }
    sign | ((exp as u16) << 10) | ((b >> 13) & 0x3ff) as u16
}

/// `rows` × `cols` random weights stored as `ty`.
fn matrix(rng: &mut Rng, ty: BlockType, rows: usize, cols: usize, scale: f32) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rows {
        match ty {
            BlockType::F32 => {
                for _ in 0..cols {
                    out.extend_from_slice(&(rng.unit() * scale).to_le_bytes());
                }
            }
            BlockType::F16 => {
                for _ in 0..cols {
                    out.extend_from_slice(&f16_bits(rng.unit() * scale).to_le_bytes());
                }
            }
            BlockType::BF16 => {
                for _ in 0..cols {
                    out.extend_from_slice(
                        &(((rng.unit() * scale).to_bits() >> 16) as u16).to_le_bytes(),
                    );
                }
            }
            BlockType::Q8_0 => {
                for _ in 0..cols / 32 {
                    out.extend_from_slice(&f16_bits(scale / 127.0).to_le_bytes());
                    for _ in 0..32 {
                        out.push((rng.next() % 255) as u8 ^ 0x80);
                    }
                }
            }
            BlockType::Q4_0 | BlockType::Q4_1 => {
                for _ in 0..cols / 32 {
                    out.extend_from_slice(&f16_bits(scale / 8.0).to_le_bytes());
                    if ty == BlockType::Q4_1 {
                        out.extend_from_slice(&f16_bits(-scale).to_le_bytes());
                    }
                    for _ in 0..16 {
                        out.push(rng.next() as u8);
                    }
                }
            }
        }
    }
    out
}

const H: usize = 64;
const LAYERS: usize = 2;
const FFN: usize = 96;

/// The metadata and tensors of a tiny Llama (2 layers, hidden 64, 2 heads of 32 sharing one
/// key/value head, FFN 96) whose vocabulary is the 256 byte characters plus a few merges.
fn tiny(linear: BlockType, embd: BlockType) -> (Vec<(&'static str, V)>, Tensors) {
    sized(linear, embd, H, LAYERS, FFN, 2)
}

type Tensors = Vec<(String, Vec<u64>, u32, Vec<u8>)>;

/// The same family of tiny models at any size (`heads` query heads of hidden/heads sharing
/// one key/value head).
fn sized(
    linear: BlockType,
    embd: BlockType,
    h: usize,
    layers: usize,
    ffn: usize,
    heads: usize,
) -> (Vec<(&'static str, V)>, Tensors) {
    let hd = h / heads;
    let chars = byte_chars();
    let mut tokens: Vec<String> = vec!["<|endoftext|>".into()];
    tokens.extend(chars.iter().map(|c| c.to_string()));
    let merges = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a"];
    for m in merges {
        tokens.push(m.replace(' ', ""));
    }
    while !tokens.len().is_multiple_of(32) {
        tokens.push(format!("<unused{}>", tokens.len()));
    }
    let vocab = tokens.len();
    let mut types = vec![1i32; vocab];
    types[0] = 3;
    let kvs = vec![
        ("general.architecture", V::Str("llama".into())),
        ("general.name", V::Str("tiny".into())),
        ("llama.block_count", V::U32(layers as u32)),
        ("llama.context_length", V::U32(256)),
        ("llama.embedding_length", V::U32(h as u32)),
        ("llama.feed_forward_length", V::U32(ffn as u32)),
        ("llama.attention.head_count", V::U32(heads as u32)),
        ("llama.attention.head_count_kv", V::U32(1)),
        ("llama.rope.freq_base", V::F32(10000.0)),
        ("llama.attention.layer_norm_rms_epsilon", V::F32(1e-5)),
        ("tokenizer.ggml.model", V::Str("gpt2".into())),
        ("tokenizer.ggml.pre", V::Str("smollm".into())),
        ("tokenizer.ggml.tokens", V::Strs(tokens)),
        (
            "tokenizer.ggml.merges",
            V::Strs(merges.iter().map(|s| s.to_string()).collect()),
        ),
        ("tokenizer.ggml.token_type", V::I32s(types)),
        ("tokenizer.ggml.eos_token_id", V::U32(0)),
        ("tokenizer.ggml.add_bos_token", V::Bool(false)),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut t = Vec::new();
    let mut add =
        |name: String, rows: usize, cols: usize, ty: BlockType, scale: f32, rng: &mut Rng| {
            let dims = if rows == 1 {
                vec![cols as u64]
            } else {
                vec![cols as u64, rows as u64]
            };
            let data = matrix(rng, ty, rows, cols, scale);
            t.push((name, dims, ty.ggml_id(), data));
        };
    add("token_embd.weight".into(), vocab, h, embd, 1.0, &mut rng);
    for l in 0..layers {
        let n = |s: &str| format!("blk.{l}.{s}.weight");
        add(n("attn_norm"), 1, h, BlockType::F32, 1.0, &mut rng);
        add(n("attn_q"), h, h, linear, 0.2, &mut rng);
        add(n("attn_k"), hd, h, linear, 0.2, &mut rng);
        add(n("attn_v"), hd, h, linear, 0.2, &mut rng);
        add(n("attn_output"), h, h, linear, 0.2, &mut rng);
        add(n("ffn_norm"), 1, h, BlockType::F32, 1.0, &mut rng);
        add(n("ffn_gate"), ffn, h, linear, 0.2, &mut rng);
        add(n("ffn_up"), ffn, h, linear, 0.2, &mut rng);
        add(n("ffn_down"), h, ffn, linear, 0.2, &mut rng);
    }
    add(
        "output_norm.weight".into(),
        1,
        h,
        BlockType::F32,
        1.0,
        &mut rng,
    );
    (kvs, t)
}

fn tiny_file(linear: BlockType, embd: BlockType) -> Vec<u8> {
    let (kvs, t) = tiny(linear, embd);
    write_gguf(&kvs, &t)
}

fn message(r: Result<impl std::fmt::Debug, QuantError>) -> String {
    let e = r.expect_err("must be refused");
    let m = e.to_string();
    assert!(!m.is_empty() && !m.contains('\n'), "one line: {m}");
    m
}

#[test]
fn a_tiny_model_of_every_type_loads_and_runs() {
    for linear in BlockType::ALL {
        for embd in [BlockType::Q8_0, BlockType::F16, BlockType::F32] {
            let f =
                load_gguf(tiny_file(linear, embd)).unwrap_or_else(|e| panic!("{linear:?}: {e}"));
            assert_eq!(f.stop, vec![0]);
            let ids = f.tokenizer.encode("the cat sat in the hat").ids;
            assert!(ids.len() > 4, "{ids:?}");
            assert_eq!(f.tokenizer.decode(&ids), "the cat sat in the hat");
            let h = lm::final_hidden(&f.model, &ids, &mut Float).unwrap();
            let (fp, reference) = lm::score_reference(&f.model, &ids, &h).unwrap();
            let s = lm::score(&f.model, &ids, &h, Some(&reference)).unwrap();
            assert_eq!((s.ppl, &s.argmax), (fp.ppl, &fp.argmax));
            assert!(s.ppl.is_finite() && s.ppl > 1.0, "{linear:?} {}", s.ppl);
            assert_eq!(
                s.kl,
                Some(0.0),
                "a model equal to the reference is 0 exactly"
            );
            assert_eq!(s.top1, Some(1.0));
        }
    }
}

#[test]
fn the_header_is_read_as_written() {
    let bytes = tiny_file(BlockType::Q4_1, BlockType::Q8_0);
    let g = parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(g.version, 3);
    assert_eq!(
        g.get("general.architecture"),
        Some(&Value::Str("llama".into()))
    );
    assert_eq!(g.get("llama.block_count").and_then(Value::as_u64), Some(2));
    assert_eq!(g.tensors.len(), 1 + 9 * LAYERS + 1);
    let q = g.tensor("blk.1.attn_q.weight").unwrap();
    assert_eq!(q.dims, vec![H as u64, H as u64]);
    assert_eq!(q.ty, Some(BlockType::Q4_1));
    assert_eq!(q.bytes, H * H / 32 * 20);
}

#[test]
fn every_truncation_is_a_message() {
    let bytes = tiny_file(BlockType::Q4_1, BlockType::Q8_0);
    // Every length up to the end of the header, then a sample of the data section.
    let header_end = parse(&bytes, &Limits::default()).unwrap().data_start;
    let cuts = (0..header_end).chain((header_end..bytes.len()).step_by(97));
    for n in cuts {
        let m = message(load_gguf(bytes[..n].to_vec()));
        assert!(
            m.contains("cut short") || m.contains("not a GGUF") || m.contains("is missing"),
            "{n}: {m}"
        );
    }
}

/// Position of the u64 right after the 4-byte magic and version: the tensor count.
const TENSOR_COUNT: usize = 8;
const KV_COUNT: usize = 16;

#[test]
fn lying_counts_are_refused_before_allocating() {
    let bytes = tiny_file(BlockType::Q4_1, BlockType::Q8_0);
    for (at, value) in [
        (TENSOR_COUNT, u64::MAX),
        (TENSOR_COUNT, 1 << 40),
        (TENSOR_COUNT, 60_000),
        (KV_COUNT, u64::MAX),
        (KV_COUNT, 4000),
    ] {
        let mut b = bytes.clone();
        b[at..at + 8].copy_from_slice(&value.to_le_bytes());
        message(load_gguf(b));
    }
    // The first key's length, then a string value's, claimed to be huge.
    let mut b = bytes.clone();
    b[24..32].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let m = message(load_gguf(b));
    assert!(m.contains("claims") || m.contains("cut short"), "{m}");
}

#[test]
fn two_gigabytes_of_metadata_are_refused() {
    // A vocabulary of 1,000 strings that each claim 2 MB, and one of 500,000 × 4 kB.
    for (count, each) in [(1000u64, 2u64 << 20), (500_000, 4096)] {
        let mut out = b"GGUF".to_vec();
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&1u64.to_le_bytes());
        put_str(&mut out, "tokenizer.ggml.tokens");
        out.extend_from_slice(&9u32.to_le_bytes());
        out.extend_from_slice(&8u32.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&each.to_le_bytes());
        out.extend(std::iter::repeat_n(b'a', 4096));
        let m = message(parse(&out, &Limits::default()));
        assert!(
            m.contains("claims") || m.contains("cut short") || m.contains("larger than"),
            "{m}"
        );
    }
}

#[test]
fn a_tensor_whose_size_disagrees_with_its_shape() {
    let (kvs, mut t) = tiny(BlockType::Q4_1, BlockType::Q8_0);
    // The last tensor claims 1000 × its rows: its bytes are not in the file.
    let last = t.last_mut().unwrap();
    last.1 = vec![64, 1000];
    let m = message(load_gguf(write_gguf(&kvs, &t)));
    assert!(m.contains("cut short") && m.contains("output_norm"), "{m}");
    // A Q4_1 matrix whose rows are not whole blocks.
    let (kvs, mut t) = tiny(BlockType::Q4_1, BlockType::Q8_0);
    let q = t.iter_mut().find(|x| x.0 == "blk.0.attn_q.weight").unwrap();
    q.1 = vec![48, 80];
    let m = message(load_gguf(write_gguf(&kvs, &t)));
    assert!(m.contains("whole blocks"), "{m}");
    // A matrix of the right size but the wrong shape for the model.
    let (kvs, mut t) = tiny(BlockType::Q4_1, BlockType::Q8_0);
    let q = t.iter_mut().find(|x| x.0 == "blk.0.attn_k.weight").unwrap();
    q.1 = vec![32, 64];
    let m = message(load_gguf(write_gguf(&kvs, &t)));
    assert!(m.contains("attn_k") && m.contains("needs"), "{m}");
}

#[test]
fn foreign_files_are_named() {
    let (mut kvs, t) = tiny(BlockType::Q4_1, BlockType::Q8_0);
    kvs[0].1 = V::Str("qwen2".into());
    let m = message(load_gguf(write_gguf(&kvs, &t)));
    assert!(m.contains("qwen2") && m.contains("Llama"), "{m}");

    let (mut kvs, t) = tiny(BlockType::Q4_1, BlockType::Q8_0);
    let i = kvs
        .iter()
        .position(|k| k.0 == "tokenizer.ggml.model")
        .unwrap();
    kvs[i].1 = V::Str("bert".into());
    let m = message(load_gguf(write_gguf(&kvs, &t)));
    assert!(m.contains("tokenizer") && m.contains("bert"), "{m}");

    // A Q4_K tensor (type 12).
    let (kvs, mut t) = tiny(BlockType::Q4_1, BlockType::Q8_0);
    let q = t
        .iter_mut()
        .find(|x| x.0 == "blk.1.ffn_down.weight")
        .unwrap();
    q.2 = 12;
    let m = message(load_gguf(write_gguf(&kvs, &t)));
    assert!(m.contains("Q4_K") && m.contains("blk.1.ffn_down"), "{m}");

    let m = message(load_gguf(b"PK\x03\x04 not a model at all".to_vec()));
    assert!(m.contains("not a GGUF"), "{m}");
    let mut v1 = tiny_file(BlockType::Q4_1, BlockType::Q8_0);
    v1[4] = 1;
    assert!(message(load_gguf(v1)).contains("version 1"));
}

#[test]
fn a_nan_block_scale_is_refused_at_load() {
    let (kvs, mut t) = tiny(BlockType::Q4_1, BlockType::Q8_0);
    let q = t.iter_mut().find(|x| x.0 == "blk.0.ffn_up.weight").unwrap();
    q.3[0..2].copy_from_slice(&0x7e00u16.to_le_bytes()); // f16 NaN as the first block's d
    let m = message(load_gguf(write_gguf(&kvs, &t)));
    assert!(m.contains("NaN") && m.contains("ffn_up"), "{m}");
}

#[test]
fn byte_flips_never_panic() {
    let bytes = tiny_file(BlockType::Q4_0, BlockType::Q8_0);
    let header_end = parse(&bytes, &Limits::default()).unwrap().data_start;
    let mut rng = Rng(12345);
    for _ in 0..3000 {
        let mut b = bytes.clone();
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() as usize) % header_end;
            b[at] = rng.next() as u8;
        }
        if let Ok(f) = load_gguf(b) {
            // Whatever loads must run or say why not.
            let ids = f.tokenizer.encode("a test").ids;
            if ids.len() >= 2 {
                let _ = lm::final_hidden(&f.model, &ids, &mut Float)
                    .and_then(|h| lm::score(&f.model, &ids, &h, None));
            }
        }
    }
}

#[test]
fn hostile_text_gives_a_result_or_a_message() {
    let f = load_gguf(tiny_file(BlockType::Q4_1, BlockType::Q8_0)).unwrap();
    let tok = &f.tokenizer;
    assert!(tok.encode("").ids.is_empty());
    let long: String = "ab, 12 ".repeat(1500);
    assert_eq!(long.len(), 10_500);
    let ids = tok.encode(&long).ids;
    assert_eq!(tok.decode(&ids), long);
    // Control bytes, a NUL, lone combining marks and private-use characters: byte tokens.
    let odd = "\u{0}\u{7}\u{7f}\u{301}\u{e000}\u{10ffff}";
    let ids = tok.encode(odd).ids;
    assert_eq!(tok.decode(&ids), odd);
    let h = lm::final_hidden(&f.model, &ids, &mut Float).unwrap();
    assert!(lm::score(&f.model, &ids, &h, None).unwrap().ppl.is_finite());
    // Too long for the model's 256 positions: a message, not a panic.
    let many = vec![5u32; 300];
    assert!(message(lm::final_hidden(&f.model, &many, &mut Float)).contains("context"));
    assert!(message(lm::final_hidden(&f.model, &[], &mut Float)).contains("empty"));
    let beyond = vec![5u32, 100_000];
    assert!(message(lm::final_hidden(&f.model, &beyond, &mut Float)).contains("token id"));
}

/// Writes the seed corpus of the `gguf` fuzz target (fuzz/corpus/gguf): small valid models of
/// every tensor type. `cargo test -p quantlab-weights --test gguf -- --ignored write_fuzz_seeds`
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/gguf");
    std::fs::create_dir_all(dir).unwrap();
    for (i, linear) in BlockType::ALL.into_iter().enumerate() {
        let embd = [BlockType::Q4_0, BlockType::Q8_0, BlockType::F16][i % 3];
        let (kvs, t) = sized(linear, embd, 32, 1, 32, 1);
        let bytes = write_gguf(&kvs, &t);
        assert!(load_gguf(bytes.clone()).is_ok());
        assert!(bytes.len() < 64 * 1024, "{}", bytes.len());
        std::fs::write(format!("{dir}/tiny-{}.gguf", linear.name()), bytes).unwrap();
    }
}

/// The tiny model with a SentencePiece vocabulary in Llama's layout (`<unk>`, `<s>`, `</s>`,
/// 256 byte tokens, pieces with scores), as TinyLlama's file has it.
fn tiny_spm(switches: Option<bool>, scores: bool) -> Vec<u8> {
    let (mut kvs, mut t) = tiny(BlockType::Q4_1, BlockType::Q8_0);
    let mut tokens: Vec<String> = vec!["<unk>".into(), "<s>".into(), "</s>".into()];
    tokens.extend((0..=255u8).map(|b| format!("<0x{b:02X}>")));
    let pieces = [
        "\u{2581}",
        "t",
        "h",
        "e",
        "a",
        "c",
        "\u{2581}t",
        "he",
        "\u{2581}the",
        "\u{2581}c",
        "at",
        "\u{2581}cat",
    ];
    tokens.extend(pieces.iter().map(|p| p.to_string()));
    let mut types = vec![2, 3, 3];
    types.extend([6; 256]);
    types.extend([1; 12]);
    let mut score: Vec<f32> = vec![0.0; 259];
    score.extend((0..12).map(|k| -(k as f32)));
    while !tokens.len().is_multiple_of(32) {
        tokens.push(format!("<unused{}>", tokens.len()));
        types.push(5);
        score.push(-100.0);
    }
    let vocab = tokens.len();
    kvs.retain(|k| !k.0.starts_with("tokenizer."));
    kvs.extend([
        ("tokenizer.ggml.model", V::Str("llama".into())),
        ("tokenizer.ggml.tokens", V::Strs(tokens)),
        ("tokenizer.ggml.token_type", V::I32s(types)),
        ("tokenizer.ggml.bos_token_id", V::U32(1)),
        ("tokenizer.ggml.eos_token_id", V::U32(2)),
        ("tokenizer.ggml.unknown_token_id", V::U32(0)),
    ]);
    if scores {
        kvs.push(("tokenizer.ggml.scores", V::F32s(score)));
    }
    if let Some(on) = switches {
        kvs.push(("tokenizer.ggml.add_space_prefix", V::Bool(on)));
        kvs.push(("tokenizer.ggml.add_bos_token", V::Bool(on)));
    }
    // The embedding gets one row per token of the new vocabulary.
    let embd = t.iter_mut().find(|x| x.0 == "token_embd.weight").unwrap();
    let h = embd.1[0] as usize;
    let mut rng = Rng(7);
    embd.1 = vec![h as u64, vocab as u64];
    embd.3 = matrix(&mut rng, BlockType::Q8_0, vocab, h, 1.0);
    write_gguf(&kvs, &t)
}

#[test]
fn a_sentencepiece_model_loads_tokenizes_and_runs() {
    let f = load_gguf(tiny_spm(None, true)).unwrap();
    assert!(matches!(
        f.tokenizer,
        quantlab_engine::model::vocab::LmTokenizer::Spm(_)
    ));
    // llama.cpp's defaults: <s> first, a space in front, ' ' as ▁; "x" takes the byte fallback.
    let e = f.tokenizer.encode("the cat x");
    assert_eq!(
        e.tokens,
        ["<s>", "\u{2581}the", "\u{2581}cat", "\u{2581}", "<0x78>"],
        "{:?}",
        e.ids
    );
    assert_eq!(f.tokenizer.decode(&e.ids), " the cat x");
    assert_eq!(f.tokenizer.decode(&e.ids[1..]), "the cat x");
    assert_eq!(f.tokenizer.continuation(&e.ids[2..]), " cat x");
    assert_eq!(f.stop, vec![2]);
    let h = lm::final_hidden(&f.model, &e.ids, &mut Float).unwrap();
    assert!(lm::score(&f.model, &e.ids, &h, None)
        .unwrap()
        .ppl
        .is_finite());
    // Both switches off.
    let f = load_gguf(tiny_spm(Some(false), true)).unwrap();
    let e = f.tokenizer.encode("the cat");
    assert_eq!(e.tokens, ["t", "he", "\u{2581}cat"]);
    // A SentencePiece vocabulary without scores cannot be merged: refused by name.
    let m = message(load_gguf(tiny_spm(None, false)));
    assert!(m.contains("tokenizer.ggml.scores"), "{m}");
}
