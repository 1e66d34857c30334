//! How text travels in a link: percent-encoding as `URLSearchParams` reads and writes it, and
//! how many bytes a text takes there (the controls' text limits count those). A leaf: the URL
//! codec and the controls both use it.

/// `application/x-www-form-urlencoded` decoding as `URLSearchParams` does it (`+` is a space,
/// a malformed escape such as `%ZZ` stays as written), by the `percent-encoding` crate; `None`
/// where the bytes are not UTF-8, which the page reports instead of showing U+FFFD.
pub fn percent_decode(s: &str) -> Option<String> {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// Everything but `A-Z a-z 0-9 - _ . ~ , :` is escaped: commas and colons stay readable in
/// ranges such as `range=-1.5,2` and `rot=random:7`.
const URL_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b',')
    .remove(b':');

/// Bytes of `c` in a link: 1 for what stays as written (and a space, written `+`), 3 per
/// UTF-8 byte otherwise.
pub fn encoded_char_len(c: char) -> usize {
    if c == ' ' || c.is_ascii_alphanumeric() || "-_.~,:".contains(c) {
        1
    } else {
        3 * c.len_utf8()
    }
}

/// Bytes of `s` in a link, as [`percent_encode`] writes it.
pub fn encoded_len(s: &str) -> usize {
    s.chars().map(encoded_char_len).sum()
}

/// Spaces become `+` (as in forms and `URLSearchParams`), which keeps a link of sentences
/// short and readable.
pub fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URL_VALUE)
        .to_string()
        .replace("%20", "+")
}
