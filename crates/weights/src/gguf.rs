//! The GGUF container of llama.cpp (versions 2 and 3), read from bytes in memory.
//!
//! Layout (ggml's `docs/gguf.md`, little-endian): `GGUF`, u32 version, u64 tensor count, u64
//! key–value count; the key–value pairs (a string key, a u32 value type, the value); the tensor
//! infos (a string name, u32 dimension count, u64 per dimension with the fastest-varying first,
//! u32 ggml type, u64 offset into the data section); padding to `general.alignment` (32 when
//! absent); the tensor data. Strings are a u64 length and UTF-8 bytes.
//!
//! # Why not a crate
//! The crates that read GGUF (candle-core's `gguf_file`, `gguf-rs`, `ggus`) either bring a whole
//! tensor library into the wasm build or read through `std::io` and reserve whatever a header's
//! counts announce. This reader is ~300 lines, works on the bytes the page already holds (so
//! the tensors are never copied), and its rule is that **nothing is allocated from a count
//! before the bytes that count describes are known to be in the file**: a lying header is an
//! error in microseconds, not a 2 GB allocation. Arrays of keys the engine does not need are
//! skipped, not stored. The fuzz target `gguf` runs it on arbitrary bytes.

use std::collections::BTreeMap;

use quantlab_engine::kernels::ggml::BlockType;
use quantlab_engine::{QuantError, Result};

/// Limits that keep a hostile header from costing memory or time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Key–value pairs.
    pub max_kv: u64,
    /// Tensors.
    pub max_tensors: u64,
    /// Bytes of one string (a chat template is ~10 kB).
    pub max_string: u64,
    /// Elements of one array (vocabularies go to ~256 k).
    pub max_array: u64,
    /// Bytes of the whole header (metadata + tensor infos).
    pub max_header: u64,
    /// Dimensions of a tensor.
    pub max_dims: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_kv: 4096,
            max_tensors: 65_536,
            max_string: 1 << 20,
            max_array: 1 << 20,
            max_header: 64 << 20,
            max_dims: 4,
        }
    }
}

/// A metadata value. Arrays of strings and of integers are kept (the tokenizer's); other arrays
/// only by their element type and length.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Uint(u64),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Strings(Vec<String>),
    Ints(Vec<i64>),
    Floats(Vec<f64>),
    /// An array whose values were skipped: its element type name and length.
    Skipped(&'static str, u64),
}

impl Value {
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Uint(v) => Some(v),
            Value::Int(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(v) => Some(v),
            Value::Uint(v) => Some(v as f64),
            Value::Int(v) => Some(v as f64),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// One tensor's header: where its bytes are in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    /// Dimensions, fastest-varying first (ggml's `ne`): a matrix of `rows` rows of `cols`
    /// values is `[cols, rows]`.
    pub dims: Vec<u64>,
    /// The ggml type number as stored (it may be one the engine cannot read).
    pub ggml_type: u32,
    /// `None` for a type the engine does not read.
    pub ty: Option<BlockType>,
    /// Absolute position of the first byte in the file.
    pub start: usize,
    /// Bytes (0 when the type is unknown).
    pub bytes: usize,
}

impl TensorInfo {
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// A parsed GGUF header; the tensor data stays in the caller's bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Gguf {
    pub version: u32,
    pub metadata: BTreeMap<String, Value>,
    pub tensors: Vec<TensorInfo>,
    /// Where the data section starts.
    pub data_start: usize,
}

impl Gguf {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(key)
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// The ggml type names of the types this engine does not read (for messages).
fn ggml_type_name(id: u32) -> String {
    const NAMES: [&str; 40] = [
        "F32",
        "F16",
        "Q4_0",
        "Q4_1",
        "Q4_2",
        "Q4_3",
        "Q5_0",
        "Q5_1",
        "Q8_0",
        "Q8_1",
        "Q2_K",
        "Q3_K",
        "Q4_K",
        "Q5_K",
        "Q6_K",
        "Q8_K",
        "IQ2_XXS",
        "IQ2_XS",
        "IQ3_XXS",
        "IQ1_S",
        "IQ4_NL",
        "IQ3_S",
        "IQ2_S",
        "IQ4_XS",
        "I8",
        "I16",
        "I32",
        "I64",
        "F64",
        "IQ1_M",
        "BF16",
        "Q4_0_4_4",
        "Q4_0_4_8",
        "Q4_0_8_8",
        "TQ1_0",
        "TQ2_0",
        "IQ4_NL_4_4",
        "IQ4_NL_4_8",
        "IQ4_NL_8_8",
        "MXFP4",
    ];
    NAMES
        .get(id as usize)
        .map_or_else(|| format!("type {id}"), |n| (*n).to_string())
}

fn bad(reason: impl Into<String>) -> QuantError {
    QuantError::BadModel {
        part: "the .gguf file".into(),
        reason: reason.into(),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    lim: Limits,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        let n = usize::try_from(n).map_err(|_| bad(format!("{what} is impossibly long")))?;
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(bad(format!(
                "it is cut short: {what} needs {n} bytes at offset {} but the file has {}",
                self.pos,
                self.bytes.len()
            )));
        };
        if end as u64 > self.lim.max_header {
            return Err(bad(format!(
                "its header is larger than {} MB (at {what}); a model's metadata is a few MB",
                self.lim.max_header >> 20
            )));
        }
        let s = self.bytes.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.iter_mut().zip(s).for_each(|(d, &b)| *d = b);
        Ok(a)
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn string(&mut self, what: &str) -> Result<String> {
        let len = self.u64(what)?;
        if len > self.lim.max_string {
            return Err(bad(format!(
                "{what} claims {len} bytes (the limit is {})",
                self.lim.max_string
            )));
        }
        let raw = self.take(len, what)?;
        String::from_utf8(raw.to_vec()).map_err(|_| bad(format!("{what} is not UTF-8 text")))
    }

    /// Bytes of one scalar of value type `t` (None: string, array or unknown).
    fn scalar_size(t: u32) -> Option<u64> {
        match t {
            0 | 1 | 7 => Some(1),
            2 | 3 => Some(2),
            4..=6 => Some(4),
            10..=12 => Some(8),
            _ => None,
        }
    }

    fn scalar(&mut self, t: u32, what: &str) -> Result<Value> {
        Ok(match t {
            0 => Value::Uint(u64::from(self.u8(what)?)),
            1 => Value::Int(i64::from(self.u8(what)? as i8)),
            2 => Value::Uint(u64::from(u16::from_le_bytes(self.array(what)?))),
            3 => Value::Int(i64::from(i16::from_le_bytes(self.array(what)?))),
            4 => Value::Uint(u64::from(self.u32(what)?)),
            5 => Value::Int(i64::from(i32::from_le_bytes(self.array(what)?))),
            6 => Value::Float(f64::from(f32::from_le_bytes(self.array(what)?))),
            7 => match self.u8(what)? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(bad(format!("{what} is a boolean stored as {b}"))),
            },
            10 => Value::Uint(self.u64(what)?),
            11 => Value::Int(i64::from_le_bytes(self.array(what)?)),
            12 => Value::Float(f64::from_le_bytes(self.array(what)?)),
            8 => Value::Str(self.string(what)?),
            _ => return Err(bad(format!("{what} has the unknown value type {t}"))),
        })
    }

    fn value(&mut self, t: u32, key: &str) -> Result<Value> {
        if t != 9 {
            return self.scalar(t, key);
        }
        let et = self.u32(key)?;
        let count = self.u64(key)?;
        if count > self.lim.max_array {
            return Err(bad(format!(
                "the array `{key}` claims {count} values (the limit is {})",
                self.lim.max_array
            )));
        }
        // Before reserving anything: the values must fit in what is left of the file.
        let min_each = Self::scalar_size(et).unwrap_or(8);
        let left = (self.bytes.len() - self.pos.min(self.bytes.len())) as u64;
        if count.saturating_mul(min_each) > left {
            return Err(bad(format!(
                "it is cut short: the array `{key}` claims {count} values, more than the rest \
                 of the file can hold"
            )));
        }
        let keep = key.starts_with("tokenizer.ggml.");
        match et {
            8 if keep => {
                let mut v = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    v.push(self.string(key)?);
                }
                Ok(Value::Strings(v))
            }
            8 => {
                for _ in 0..count {
                    let len = self.u64(key)?;
                    self.take(len, key)?;
                }
                Ok(Value::Skipped("string", count))
            }
            9 => Err(bad(format!(
                "the array `{key}` holds arrays (not used by GGUF models)"
            ))),
            t => {
                let size = Self::scalar_size(t)
                    .ok_or_else(|| bad(format!("the array `{key}` has the unknown type {t}")))?;
                if !keep {
                    self.take(count * size, key)?;
                    return Ok(Value::Skipped("number", count));
                }
                let mut ints = Vec::new();
                let mut floats = Vec::new();
                for _ in 0..count {
                    match self.scalar(t, key)? {
                        Value::Uint(u) => ints.push(i64::try_from(u).unwrap_or(i64::MAX)),
                        Value::Int(i) => ints.push(i),
                        Value::Bool(b) => ints.push(i64::from(b)),
                        Value::Float(f) => floats.push(f),
                        _ => {}
                    }
                }
                Ok(if floats.is_empty() {
                    Value::Ints(ints)
                } else {
                    Value::Floats(floats)
                })
            }
        }
    }
}

/// Parses the header of a GGUF file and checks every tensor's extent against the file.
pub fn parse(bytes: &[u8], lim: &Limits) -> Result<Gguf> {
    if bytes.get(..4) != Some(b"GGUF".as_slice()) {
        return Err(bad(
            "it is not a GGUF file (a .gguf file starts with the bytes GGUF)",
        ));
    }
    let mut r = Reader {
        bytes,
        pos: 4,
        lim: *lim,
    };
    let version = r.u32("the version")?;
    if !(2..=3).contains(&version) {
        return Err(bad(format!(
            "it is GGUF version {version}; versions 2 and 3 are read"
        )));
    }
    let n_tensors = r.u64("the tensor count")?;
    let n_kv = r.u64("the metadata count")?;
    if n_kv > lim.max_kv {
        return Err(bad(format!(
            "it claims {n_kv} metadata entries (the limit is {})",
            lim.max_kv
        )));
    }
    if n_tensors > lim.max_tensors {
        return Err(bad(format!(
            "it claims {n_tensors} tensors (the limit is {})",
            lim.max_tensors
        )));
    }
    let mut metadata = BTreeMap::new();
    for i in 0..n_kv {
        let key = r.string(&format!("metadata key {i}"))?;
        let t = r.u32(&key)?;
        let v = r.value(t, &key)?;
        metadata.insert(key, v);
    }
    // Each tensor info is at least 8 + 4 + 4 + 8 bytes: check before reserving.
    let left = (bytes.len() - r.pos.min(bytes.len())) as u64;
    if n_tensors.saturating_mul(24) > left {
        return Err(bad(format!(
            "it is cut short: it claims {n_tensors} tensors, more than the rest of the file can describe"
        )));
    }
    let mut infos = Vec::with_capacity(n_tensors as usize);
    for i in 0..n_tensors {
        let name = r.string(&format!("the name of tensor {i}"))?;
        let nd = r.u32(&name)?;
        if nd == 0 || nd > lim.max_dims {
            return Err(bad(format!(
                "tensor `{name}` has {nd} dimensions (1 to {} are read)",
                lim.max_dims
            )));
        }
        let mut dims = Vec::with_capacity(nd as usize);
        for _ in 0..nd {
            dims.push(r.u64(&name)?);
        }
        let ggml_type = r.u32(&name)?;
        let offset = r.u64(&name)?;
        infos.push((name, dims, ggml_type, offset));
    }
    let align = match metadata.get("general.alignment") {
        None => 32,
        Some(v) => match v.as_u64() {
            Some(a) if a > 0 && a <= 1 << 16 && a.is_power_of_two() => a,
            _ => {
                return Err(bad(
                    "its general.alignment is not a power of two up to 65536",
                ))
            }
        },
    } as usize;
    let data_start = r.pos.div_ceil(align).saturating_mul(align);
    let mut tensors = Vec::with_capacity(infos.len());
    for (name, dims, ggml_type, offset) in infos {
        let elements = dims
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .ok_or_else(|| bad(format!("tensor `{name}` has a size that overflows")))?;
        if offset % align as u64 != 0 {
            return Err(bad(format!(
                "tensor `{name}` starts at offset {offset}, not a multiple of the alignment {align}"
            )));
        }
        let ty = BlockType::from_ggml_id(ggml_type);
        let (start, len) =
            match ty {
                Some(t) => {
                    let row = dims.first().copied().unwrap_or(0);
                    if row % t.block_values() as u64 != 0 {
                        return Err(bad(format!(
                            "tensor `{name}` ({}) has rows of {row} values, not whole blocks of {}",
                            t.name(),
                            t.block_values()
                        )));
                    }
                    let len = usize::try_from(elements)
                        .ok()
                        .and_then(|e| t.bytes_for(e))
                        .ok_or_else(|| bad(format!("tensor `{name}` is impossibly large")))?;
                    let start = usize::try_from(offset)
                        .ok()
                        .and_then(|o| o.checked_add(data_start))
                        .ok_or_else(|| bad(format!("tensor `{name}` starts beyond any file")))?;
                    let end = start.checked_add(len).filter(|&e| e <= bytes.len());
                    if end.is_none() {
                        return Err(bad(format!(
                        "it is cut short: tensor `{name}` ({} × {}) needs bytes {start}..{} but \
                         the file has {}",
                        t.name(),
                        dims.iter().map(u64::to_string).collect::<Vec<_>>().join(" × "),
                        start as u128 + len as u128,
                        bytes.len()
                    )));
                    }
                    (start, len)
                }
                None => (0, 0),
            };
        tensors.push(TensorInfo {
            name,
            dims,
            ggml_type,
            ty,
            start,
            bytes: len,
        });
    }
    Ok(Gguf {
        version,
        metadata,
        tensors,
        data_start,
    })
}

/// The message for a tensor whose type the engine does not read.
pub fn unsupported_type(t: &TensorInfo) -> QuantError {
    bad(format!(
        "tensor `{}` is stored as {}; quantlab reads F32, F16, BF16, Q8_0, Q4_0 and Q4_1 \
         (convert the model with llama.cpp's llama-quantize to one of them)",
        t.name,
        ggml_type_name(t.ggml_type)
    ))
}
