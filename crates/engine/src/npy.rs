//! Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0, as specified in
//! `numpy/lib/format.py`), without ever panicking or allocating more than the limits allow.
//!
//! Layout: the magic `\x93NUMPY`, two version bytes, the header length (u16 LE for 1.0, u32
//! LE for 2.0/3.0), the header (latin-1 for 1.x/2.x, UTF-8 for 3.0): a Python dict literal
//! such as `{'descr': '<f4', 'fortran_order': False, 'shape': (126, 384), }` padded with spaces
//! and a newline, then the raw data.
//!
//! Supported: 1-D and 2-D arrays of float32, float64, float16, int8, uint8, int16, int32,
//! int64, little- or big-endian (`<`, `>`; `|` for one-byte types; `=` is read as
//! little-endian), C or Fortran order. Everything is converted to f32 in C (row-major) order:
//! f64 values beyond f32's range become ±Inf (and are then caught as non-finite by the
//! engine), and integers above 2^24 in magnitude are rounded to the nearest f32.
//!
//! The header is parsed by a small, strict parser for the Python literals NumPy writes (no
//! `eval`): exactly the keys `descr`, `fortran_order`, `shape`; strings in single or double
//! quotes; `True`/`False`; non-negative integers (an old trailing `L` is accepted); tuples;
//! trailing commas. Shapes are multiplied with overflow checks and compared with
//! [`NpyLimits`] before anything is allocated.
//!
//! Why not `npyz` (0.8, tried on the hostile-upload cases): it panics on a header shape of
//! (2^32, 2^32) (its element count overflows), echoes a 4 kB header back in its error, and
//! reads f32 only from `<f4`, so the dtype conversions below would stay anyway.

use super::error::{QuantError, Result};

/// Caps applied before any allocation. The browser passes smaller ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpyLimits {
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
    /// Largest accepted number of elements.
    pub max_elements: usize,
    /// Largest accepted header, in bytes (NumPy itself refuses headers over 10,000 bytes
    /// by default).
    pub max_header_len: usize,
}

impl Default for NpyLimits {
    /// 256 MiB, 2^24 elements, 64 KiB header.
    fn default() -> Self {
        NpyLimits {
            max_bytes: 1 << 28,
            max_elements: 1 << 24,
            max_header_len: 1 << 16,
        }
    }
}

/// The element types that can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpyDtype {
    F16,
    F32,
    F64,
    I8,
    U8,
    I16,
    I32,
    I64,
}

impl NpyDtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            NpyDtype::I8 | NpyDtype::U8 => 1,
            NpyDtype::F16 | NpyDtype::I16 => 2,
            NpyDtype::F32 | NpyDtype::I32 => 4,
            NpyDtype::F64 | NpyDtype::I64 => 8,
        }
    }

    /// NumPy's name ("float32", "int8", ...).
    pub fn name(self) -> &'static str {
        match self {
            NpyDtype::F16 => "float16",
            NpyDtype::F32 => "float32",
            NpyDtype::F64 => "float64",
            NpyDtype::I8 => "int8",
            NpyDtype::U8 => "uint8",
            NpyDtype::I16 => "int16",
            NpyDtype::I32 => "int32",
            NpyDtype::I64 => "int64",
        }
    }
}

/// A loaded array: data converted to f32, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// 1 or 2 dimensions.
    pub shape: Vec<usize>,
    /// The element type stored in the file.
    pub dtype: NpyDtype,
    /// The `descr` string of the file, e.g. "<f4".
    pub descr: String,
    /// Whether the file stored the data in Fortran (column-major) order.
    pub fortran_order: bool,
    /// Whether the file was big-endian.
    pub big_endian: bool,
    /// Format version (major, minor).
    pub version: (u8, u8),
    /// The values, converted to f32, in C (row-major) order.
    pub data: Vec<f32>,
}

impl NpyArray {
    /// (rows, columns), a 1-D array counting as one row.
    pub fn rows_cols(&self) -> (usize, usize) {
        match self.shape.as_slice() {
            [n] => (1, *n),
            [r, c] => (*r, *c),
            _ => (0, 0),
        }
    }

    /// A 2-D view of the data (1-D arrays as one row).
    pub fn view2(&self) -> Result<ndarray::ArrayView2<'_, f32>> {
        let (r, c) = self.rows_cols();
        ndarray::ArrayView2::from_shape((r, c), &self.data).map_err(|_| QuantError::ShapeMismatch {
            expected: format!("{:?}", self.shape),
            got: format!("{} values", self.data.len()),
        })
    }
}

const MAGIC: &[u8; 6] = b"\x93NUMPY";
const MAX_DEPTH: usize = 8;

/// Reads a `.npy` file from memory (see the module docs for what is accepted).
pub fn read_npy(bytes: &[u8], limits: &NpyLimits) -> Result<NpyArray> {
    if bytes.len() > limits.max_bytes {
        return Err(QuantError::TooLarge {
            what: ".npy file (bytes)",
            got: bytes.len() as u128,
            limit: limits.max_bytes as u128,
        });
    }
    let magic_part = bytes.get(..MAGIC.len().min(bytes.len())).unwrap_or(&[]);
    if !MAGIC.starts_with(magic_part) {
        return Err(QuantError::NpyBadMagic);
    }
    let (major, minor) = match (bytes.get(6), bytes.get(7)) {
        (Some(&a), Some(&b)) => (a, b),
        _ => {
            return Err(QuantError::NpyTruncated {
                what: "preamble",
                expected: 10,
                got: bytes.len(),
            })
        }
    };
    let (len_bytes, start) = match (major, minor) {
        (1, 0) => (2usize, 10usize),
        (2, 0) | (3, 0) => (4, 12),
        _ => return Err(QuantError::NpyUnsupportedVersion { major, minor }),
    };
    let len_field = bytes
        .get(8..8 + len_bytes)
        .ok_or(QuantError::NpyTruncated {
            what: "preamble",
            expected: start as u128,
            got: bytes.len(),
        })?;
    let header_len = len_field
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    if header_len > limits.max_header_len {
        return Err(QuantError::TooLarge {
            what: ".npy header (bytes)",
            got: header_len as u128,
            limit: limits.max_header_len as u128,
        });
    }
    // Checked: on wasm32 usize is 32 bits and a v2.0 header length can be close to 2^32.
    let data_start = start.checked_add(header_len).ok_or(QuantError::TooLarge {
        what: ".npy header (bytes)",
        got: header_len as u128,
        limit: limits.max_header_len as u128,
    })?;
    let header_bytes = bytes
        .get(start..data_start)
        .ok_or(QuantError::NpyTruncated {
            what: "header",
            expected: data_start as u128,
            got: bytes.len(),
        })?;
    let header: String = if major == 3 {
        std::str::from_utf8(header_bytes)
            .map_err(|_| QuantError::NpyBadHeader {
                reason: "the header is not valid UTF-8".into(),
            })?
            .to_owned()
    } else {
        header_bytes.iter().map(|&b| char::from(b)).collect()
    };
    let h = parse_header(&header)?;
    let count = h
        .shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or(QuantError::TooLarge {
            what: ".npy shape (elements)",
            got: h
                .shape
                .iter()
                .fold(1u128, |a, &d| a.saturating_mul(d as u128)),
            limit: limits.max_elements as u128,
        })?;
    if count > limits.max_elements {
        return Err(QuantError::TooLarge {
            what: ".npy shape (elements)",
            got: count as u128,
            limit: limits.max_elements as u128,
        });
    }
    let item = h.dtype.size();
    let byte_len = count.checked_mul(item).ok_or(QuantError::TooLarge {
        what: ".npy data (bytes)",
        got: (count as u128) * (item as u128),
        limit: limits.max_bytes as u128,
    })?;
    let data_bytes = bytes.get(data_start..).unwrap_or(&[]);
    if data_bytes.len() < byte_len {
        return Err(QuantError::NpyTruncated {
            what: "data",
            expected: byte_len as u128,
            got: data_bytes.len(),
        });
    }
    if data_bytes.len() > byte_len {
        return Err(QuantError::NpyTrailingBytes {
            expected: byte_len as u128,
            got: data_bytes.len(),
        });
    }
    let mut data = Vec::with_capacity(count);
    data.extend(
        data_bytes
            .chunks_exact(item)
            .map(|c| convert(c, h.dtype, h.big_endian)),
    );
    if h.fortran_order {
        if let [r, c] = h.shape[..] {
            let f = ndarray::Array2::from_shape_vec(ndarray::ShapeBuilder::f((r, c)), data)
                .map_err(|_| QuantError::ShapeMismatch {
                    expected: format!("({r}, {c})"),
                    got: "other".into(),
                })?;
            data = f.iter().copied().collect();
        }
    }
    Ok(NpyArray {
        shape: h.shape,
        dtype: h.dtype,
        descr: h.descr,
        fortran_order: h.fortran_order,
        big_endian: h.big_endian,
        version: (major, minor),
        data,
    })
}

fn arr<const N: usize>(c: &[u8], big: bool) -> [u8; N] {
    let mut a = [0u8; N];
    for (d, s) in a.iter_mut().zip(c) {
        *d = *s;
    }
    if big {
        a.reverse();
    }
    a
}

#[inline]
fn convert(c: &[u8], dtype: NpyDtype, big: bool) -> f32 {
    match dtype {
        NpyDtype::F32 => f32::from_le_bytes(arr::<4>(c, big)),
        NpyDtype::F64 => f64::from_le_bytes(arr::<8>(c, big)) as f32,
        NpyDtype::F16 => f16_to_f32(u16::from_le_bytes(arr::<2>(c, big))),
        NpyDtype::I8 => f32::from(i8::from_le_bytes(arr::<1>(c, big))),
        NpyDtype::U8 => f32::from(arr::<1>(c, big)[0]),
        NpyDtype::I16 => f32::from(i16::from_le_bytes(arr::<2>(c, big))),
        NpyDtype::I32 => i32::from_le_bytes(arr::<4>(c, big)) as f32,
        NpyDtype::I64 => i64::from_le_bytes(arr::<8>(c, big)) as f32,
    }
}

/// IEEE 754 binary16 → f32 (exact; subnormals, ±Inf and NaN included).
pub fn f16_to_f32(h: u16) -> f32 {
    let negative = h & 0x8000 != 0;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let sign = if negative { 1u32 << 31 } else { 0 };
    match exp {
        0 => {
            // Subnormal (or zero): mant · 2^−24, exact in f32.
            let v = mant as f32 * (1.0 / 16_777_216.0);
            if negative {
                -v
            } else {
                v
            }
        }
        31 => f32::from_bits(sign | 0x7f80_0000 | (mant << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (mant << 13)),
    }
}

/// Writes a little-endian float32, C-order `.npy` (version 1.0), byte-identical to
/// `np.save` of the same array (NumPy ≥ 1.24 header with growth padding, 64-byte alignment).
/// `shape` must have 1 or 2 dimensions whose product is `data.len()`.
pub fn write_npy_f32(shape: &[usize], data: &[f32]) -> Result<Vec<u8>> {
    if shape.is_empty() || shape.len() > 2 {
        return Err(QuantError::NpyUnsupportedDims { ndim: shape.len() });
    }
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if count != Some(data.len()) {
        return Err(QuantError::ShapeMismatch {
            expected: format!("{shape:?}"),
            got: format!("{} values", data.len()),
        });
    }
    let shape_repr = match shape {
        [n] => format!("({n},)"),
        [r, c] => format!("({r}, {c})"),
        _ => String::new(),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_repr}, }}");
    // NumPy leaves room to grow the first axis in place: 21 digits minus the current ones.
    let first = shape.first().map(|d| d.to_string().len()).unwrap_or(0);
    header.push_str(&" ".repeat(21usize.saturating_sub(first)));
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    header.push_str(&" ".repeat(pad));
    header.push('\n');
    let hlen = u16::try_from(header.len()).map_err(|_| QuantError::NpyBadHeader {
        reason: "the header would be too long for version 1.0".into(),
    })?;
    let mut out = Vec::with_capacity(10 + header.len() + 4 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&hlen.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Header parsing

struct Header {
    descr: String,
    dtype: NpyDtype,
    big_endian: bool,
    fortran_order: bool,
    shape: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Bool(bool),
    Int(u64),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    None,
}

fn bad(reason: impl Into<String>) -> QuantError {
    QuantError::NpyBadHeader {
        reason: reason.into(),
    }
}

fn parse_header(text: &str) -> Result<Header> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.ws();
    if p.peek() != Some(b'{') {
        return Err(bad("it must be a Python dictionary starting with '{'"));
    }
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(bad("unexpected text after the dictionary"));
    }
    let Value::Dict(items) = v else {
        return Err(bad("it must be a Python dictionary"));
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (k, v) in items {
        let Value::Str(k) = k else {
            return Err(bad("dictionary keys must be strings"));
        };
        let slot = match k.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(bad(format!("unexpected key '{shown}'")));
            }
        };
        if slot.is_some() {
            return Err(bad(format!("the key '{k}' appears twice")));
        }
        *slot = Some(v);
    }
    let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
        return Err(bad(
            "the keys 'descr', 'fortran_order' and 'shape' are all required",
        ));
    };
    let Value::Bool(fortran_order) = fortran else {
        return Err(bad("'fortran_order' must be True or False"));
    };
    let Value::Tuple(dims) = shape else {
        return Err(bad("'shape' must be a tuple of integers"));
    };
    let mut shape = Vec::with_capacity(dims.len().min(8));
    for d in &dims {
        let Value::Int(n) = d else {
            return Err(bad("'shape' must contain only non-negative integers"));
        };
        shape.push(usize::try_from(*n).map_err(|_| QuantError::TooLarge {
            what: ".npy shape (elements)",
            got: u128::from(*n),
            limit: usize::MAX as u128,
        })?);
    }
    let descr = match descr {
        Value::Str(s) => s,
        Value::List(_) => {
            return Err(QuantError::NpyUnsupportedDtype {
                descr: "a structured dtype (list of fields)".into(),
            })
        }
        _ => return Err(bad("'descr' must be a string such as '<f4'")),
    };
    let (dtype, big_endian) = parse_descr(&descr)?;
    if shape.is_empty() || shape.len() > 2 {
        return Err(QuantError::NpyUnsupportedDims { ndim: shape.len() });
    }
    Ok(Header {
        descr,
        dtype,
        big_endian,
        fortran_order,
        shape,
    })
}

fn parse_descr(d: &str) -> Result<(NpyDtype, bool)> {
    let unsupported = || QuantError::NpyUnsupportedDtype {
        descr: d.chars().take(40).collect(),
    };
    let mut chars = d.chars();
    let order = chars.next().ok_or_else(unsupported)?;
    let code: String = chars.collect();
    let dtype = match code.as_str() {
        "f2" => NpyDtype::F16,
        "f4" => NpyDtype::F32,
        "f8" => NpyDtype::F64,
        "i1" => NpyDtype::I8,
        "u1" => NpyDtype::U8,
        "i2" => NpyDtype::I16,
        "i4" => NpyDtype::I32,
        "i8" => NpyDtype::I64,
        _ => return Err(unsupported()),
    };
    let big = match order {
        '<' | '=' => false,
        '>' => true,
        '|' if dtype.size() == 1 => false,
        _ => return Err(unsupported()),
    };
    Ok((dtype, big))
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(bad(format!(
                "expected '{}' at byte {}",
                char::from(c),
                self.i
            )))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(bad("the header is nested too deeply"));
        }
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Value::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    self.expect(b':')?;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    if !self.sep(b'}')? {
                        return Ok(Value::Dict(items));
                    }
                }
            }
            Some(open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.i += 1;
                let mut items = Vec::new();
                let mut comma = false;
                loop {
                    self.ws();
                    if self.peek() == Some(close) {
                        self.i += 1;
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    if self.sep(close)? {
                        comma = true;
                    } else {
                        break;
                    }
                }
                Ok(match (open, comma, items.len()) {
                    // `(x)` without a comma is just x in Python.
                    (b'(', false, 1) => items.pop().unwrap_or(Value::None),
                    (b'(', _, _) => Value::Tuple(items),
                    _ => Value::List(items),
                })
            }
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let start = self.i;
                loop {
                    match self.peek() {
                        None => return Err(bad("a string is not closed")),
                        Some(b'\\') => {
                            return Err(bad("escape sequences are not supported in the header"))
                        }
                        Some(c) if c == q => break,
                        Some(_) => self.i += 1,
                    }
                }
                let s = self.s.get(start..self.i).unwrap_or(&[]);
                self.i += 1;
                Ok(Value::Str(String::from_utf8_lossy(s).into_owned()))
            }
            Some(b'0'..=b'9') => {
                let mut n: u64 = 0;
                while let Some(c @ b'0'..=b'9') = self.peek() {
                    n = n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(c - b'0')))
                        .ok_or_else(|| bad("a number in the header is too large"))?;
                    self.i += 1;
                }
                if matches!(self.peek(), Some(b'L' | b'l')) {
                    self.i += 1;
                }
                Ok(Value::Int(n))
            }
            Some(b'-') => Err(bad("negative numbers are not allowed in the header")),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
                    self.i += 1;
                }
                match self.s.get(start..self.i).unwrap_or(&[]) {
                    b"True" => Ok(Value::Bool(true)),
                    b"False" => Ok(Value::Bool(false)),
                    b"None" => Ok(Value::None),
                    _ => Err(bad(format!("unknown name at byte {start}"))),
                }
            }
            Some(_) => Err(bad(format!("unexpected character at byte {}", self.i))),
            None => Err(bad("the header ends too early")),
        }
    }

    /// After an item: a comma (→ true, the collection may go on) or the closing bracket
    /// (consumed, → false).
    fn sep(&mut self, close: u8) -> Result<bool> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(false)
            }
            _ => Err(bad(format!(
                "expected ',' or '{}' at byte {}",
                char::from(close),
                self.i
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parser() {
        let h =
            parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (126, 384), }    \n")
                .unwrap();
        assert_eq!(
            (h.dtype, h.big_endian, h.fortran_order, h.shape.clone()),
            (NpyDtype::F32, false, false, vec![126, 384])
        );
        let h = parse_header("{\"shape\":(5L,),\"fortran_order\":True,\"descr\":\">f8\"}").unwrap();
        assert_eq!(
            (h.dtype, h.big_endian, h.fortran_order, h.shape),
            (NpyDtype::F64, true, true, vec![5])
        );
        assert!(matches!(
            parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,3,4), }"),
            Err(QuantError::NpyUnsupportedDims { ndim: 3 })
        ));
        assert!(matches!(
            parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"),
            Err(QuantError::NpyUnsupportedDims { ndim: 0 })
        ));
        assert!(matches!(
            parse_header("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }"),
            Err(QuantError::NpyUnsupportedDtype { .. })
        ));
        assert!(matches!(
            parse_header("{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }"),
            Err(QuantError::NpyUnsupportedDtype { .. })
        ));
        assert!(matches!(
            parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }"),
            Err(QuantError::NpyBadHeader { .. })
        ));
        assert!(matches!(
            parse_header(
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
            ),
            Err(QuantError::NpyBadHeader { .. })
        ));
        assert!(matches!(
            parse_header("{'descr': '<f4', 'shape': (2,), }"),
            Err(QuantError::NpyBadHeader { .. })
        ));
        assert!(matches!(
            parse_header(&"(".repeat(10_000)),
            Err(QuantError::NpyBadHeader { .. })
        ));
        assert!(matches!(
            parse_header(&format!("{{'shape': {}", "(".repeat(10_000))),
            Err(QuantError::NpyBadHeader { .. })
        ));
        assert!(matches!(
            parse_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"),
            Err(QuantError::NpyUnsupportedDtype { .. })
        ));
        assert!(parse_header(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }"
        )
        .is_err_and(|e| matches!(e, QuantError::NpyBadHeader { .. })));
    }

    #[test]
    fn f16() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn roundtrip() {
        let d: Vec<f32> = (0..6).map(|i| i as f32 * 0.5 - 1.0).collect();
        let b = write_npy_f32(&[2, 3], &d).unwrap();
        assert_eq!(b.len() % 64, 24);
        let a = read_npy(&b, &NpyLimits::default()).unwrap();
        assert_eq!((a.shape.clone(), a.data.clone()), (vec![2, 3], d));
        assert!(write_npy_f32(&[4, 2], &[0.0; 6])
            .is_err_and(|e| matches!(e, QuantError::ShapeMismatch { .. })));
    }
}
