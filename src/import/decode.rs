//! Bytes to UTF-8 text, streamed: a UTF-8 byte order mark is dropped, UTF-16
//! with a byte order mark (Excel's "Unicode text") is transcoded as it is read,
//! and the separator is sniffed from the header line. Nothing here holds more
//! than a buffer of the file.

use std::io::{self, Read};

use super::HeaderError;

/// How the file's text was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    /// The name used in messages about text that does not decode.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => "UTF-8",
            Encoding::Utf16Le | Encoding::Utf16Be => "UTF-16",
        }
    }
}

/// Counts the bytes taken from the input, for a progress bar against the
/// file's size.
pub struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The file as UTF-8 bytes: what was read ahead to find the header, then the
/// rest of the input, transcoded when it is UTF-16, ending with a line end
/// whether or not the file does (so every record ends at a `\n`, which the
/// reader's line numbers rely on).
pub struct Decoded<R> {
    ahead: Vec<u8>,
    at: usize,
    body: Body<R>,
    last: Option<u8>,
    ended: bool,
    /// The input's end has been handed to the reader: a record completed
    /// after this ran to the end inside an open quote.
    exhausted: bool,
}

enum Body<R> {
    Utf8(Counted<R>),
    Utf16(Utf16<Counted<R>>),
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = if self.at < self.ahead.len() {
            let n = buf.len().min(self.ahead.len() - self.at);
            buf[..n].copy_from_slice(&self.ahead[self.at..self.at + n]);
            self.at += n;
            if self.at == self.ahead.len() {
                // Read ahead only once: let the buffer go.
                self.ahead = Vec::new();
                self.at = 0;
            }
            n
        } else {
            match &mut self.body {
                Body::Utf8(r) => r.read(buf)?,
                Body::Utf16(r) => r.read(buf)?,
            }
        };
        if n > 0 {
            self.last = Some(buf[n - 1]);
            return Ok(n);
        }
        if !self.ended {
            self.ended = true;
            if self.last.is_some_and(|b| b != b'\n') {
                buf[0] = b'\n';
                return Ok(1);
            }
        }
        self.exhausted = true;
        Ok(0)
    }
}

impl<R> Decoded<R> {
    /// Whether the reader has been given the end of the input. Every record
    /// ends with a line end (one is added where the file has none), so a
    /// record that needed the end to be complete holds a quote never closed.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// Input bytes read so far (not decoded bytes).
    pub fn bytes_read(&self) -> u64 {
        match &self.body {
            Body::Utf8(r) => r.bytes,
            Body::Utf16(r) => r.inner.bytes,
        }
    }
}

/// What the first line of the file said about the rest.
pub struct HeaderLine {
    pub separator: u8,
    /// Lines before the header that the CSV reader will not see (Excel's
    /// `sep=;` line), to add to every line number.
    pub lines_removed: u64,
}

/// A header line longer than this is not a CSV header.
const MAX_HEADER_BYTES: usize = 1024 * 1024;

/// Opens the input: reads the byte order mark and decides the encoding.
pub fn open<R: Read>(input: R) -> Result<(Decoded<R>, Encoding), HeaderError> {
    let mut counted = Counted {
        inner: input,
        bytes: 0,
    };
    let mut probe = [0u8; 4];
    let mut got = 0;
    while got < probe.len() {
        match counted.read(&mut probe[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(HeaderError::Io(e)),
        }
    }
    let probe = &probe[..got];
    if probe.starts_with(b"PK\x03\x04") {
        return Err(HeaderError::NotText(
            "this is a zip archive such as an Excel workbook (.xlsx), not CSV; \
             save it from the spreadsheet as CSV UTF-8"
                .into(),
        ));
    }
    let (encoding, rest) = if let Some(rest) = probe.strip_prefix(b"\xEF\xBB\xBF") {
        (Encoding::Utf8Bom, rest)
    } else if let Some(rest) = probe.strip_prefix(b"\xFF\xFE") {
        (Encoding::Utf16Le, rest)
    } else if let Some(rest) = probe.strip_prefix(b"\xFE\xFF") {
        (Encoding::Utf16Be, rest)
    } else {
        (Encoding::Utf8, probe)
    };
    let decoded = match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => Decoded {
            ahead: rest.to_vec(),
            at: 0,
            body: Body::Utf8(counted),
            last: None,
            ended: false,
            exhausted: false,
        },
        Encoding::Utf16Le | Encoding::Utf16Be => Decoded {
            ahead: Vec::new(),
            at: 0,
            body: Body::Utf16(Utf16::new(counted, encoding == Encoding::Utf16Be, rest)),
            last: None,
            ended: false,
            exhausted: false,
        },
    };
    Ok((decoded, encoding))
}

impl<R: Read> Decoded<R> {
    /// Reads ahead to the end of the header line (the first line with
    /// anything on it), checks that it is text and sniffs its separator.
    /// What was read stays buffered for the CSV reader.
    pub fn read_header_line(&mut self, encoding: Encoding) -> Result<HeaderLine, HeaderError> {
        let mut from = 0;
        loop {
            let (start, end) = self.next_line(from)?;
            from = end;
            let line = trim_line_end(&self.ahead[start..end]);
            if line.iter().all(u8::is_ascii_whitespace) {
                // A line without its line end is the last one.
                if !self.ahead[start..end].ends_with(b"\n") {
                    return Err(HeaderError::Empty);
                }
                continue;
            }
            if line.contains(&0) {
                return Err(HeaderError::NotText(
                    "the header line holds NUL bytes: UTF-16 text without a byte order \
                     mark, or a binary file; save it as CSV UTF-8"
                        .into(),
                ));
            }
            let text = std::str::from_utf8(line).map_err(|_| HeaderError::Undecodable {
                line: line_number(&self.ahead[..start]),
                encoding: encoding.name(),
            })?;
            // Excel's `sep=;` line names the separator; the CSV reader must not
            // see it, so it is cut from what was read ahead.
            if let Some(separator) = sep_directive(text) {
                let lines_removed = line_number(&self.ahead[..start]);
                self.ahead.drain(..end);
                return Ok(HeaderLine {
                    separator,
                    lines_removed,
                });
            }
            return Ok(HeaderLine {
                separator: sniff_separator(line),
                lines_removed: 0,
            });
        }
    }

    /// The line of what was read ahead that starts at `start`, reading more
    /// as needed, as a range of `ahead`. A newline inside quotes does not end
    /// a line.
    fn next_line(&mut self, start: usize) -> Result<(usize, usize), HeaderError> {
        let mut scanned = start;
        let mut quoted = false;
        loop {
            while scanned < self.ahead.len() {
                let b = self.ahead[scanned];
                scanned += 1;
                if b == b'"' {
                    quoted = !quoted;
                } else if b == b'\n' && !quoted {
                    return Ok((start, scanned));
                }
            }
            if self.ahead.len() - start > MAX_HEADER_BYTES {
                return Err(HeaderError::NotText(format!(
                    "no line end in the first {} MiB; not a CSV file",
                    MAX_HEADER_BYTES / (1024 * 1024)
                )));
            }
            let old = self.ahead.len();
            self.ahead.resize(old + 64 * 1024, 0);
            let n = loop {
                let body = match &mut self.body {
                    Body::Utf8(r) => r.read(&mut self.ahead[old..]),
                    Body::Utf16(r) => r.read(&mut self.ahead[old..]),
                };
                match body {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.ahead.truncate(old);
                        return Err(HeaderError::Io(e));
                    }
                }
            };
            self.ahead.truncate(old + n);
            if n == 0 {
                return Ok((start, self.ahead.len()));
            }
        }
    }
}

/// The 1-based line on which text following `before` starts.
fn line_number(before: &[u8]) -> u64 {
    before.iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `sep=;`, `sep=,` or `sep=<tab>` (Excel's hint line), any case.
fn sep_directive(line: &str) -> Option<u8> {
    let (key, value) = line.trim_matches('"').split_at_checked(4)?;
    if !key.eq_ignore_ascii_case("sep=") {
        return None;
    }
    match value.as_bytes() {
        [sep @ (b',' | b';' | b'\t' | b'|')] => Some(*sep),
        _ => None,
    }
}

/// The separator of a header line: whichever of tab, `;` and `,` occurs most
/// often outside quotes (ties in that order, as a `;` or tab file's header is
/// the likelier to hold a stray comma than the other way round). A line with
/// none is one column, read as comma-separated.
pub fn sniff_separator(line: &[u8]) -> u8 {
    let (mut tabs, mut semicolons, mut commas) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b'\t' if !quoted => tabs += 1,
            b';' if !quoted => semicolons += 1,
            b',' if !quoted => commas += 1,
            _ => {}
        }
    }
    if tabs > 0 && tabs >= semicolons && tabs >= commas {
        b'\t'
    } else if semicolons > 0 && semicolons >= commas {
        b';'
    } else {
        b','
    }
}

/// UTF-16 (either byte order) to UTF-8, a buffer at a time. A unit that does
/// not decode (an unpaired surrogate, an odd last byte) becomes the byte 0xFF,
/// which is never UTF-8, so the row holding it is reported with its line.
struct Utf16<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    raw_len: usize,
    out: Vec<u8>,
    out_at: usize,
    high: Option<u16>,
    eof: bool,
}

const INVALID: u8 = 0xFF;

impl<R: Read> Utf16<R> {
    fn new(inner: R, big_endian: bool, first: &[u8]) -> Self {
        let mut raw = vec![0u8; 32 * 1024];
        raw[..first.len()].copy_from_slice(first);
        Utf16 {
            inner,
            big_endian,
            raw,
            raw_len: first.len(),
            out: Vec::with_capacity(48 * 1024),
            out_at: 0,
            high: None,
            eof: false,
        }
    }

    /// Decodes the next buffer of input into `out`; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_at = 0;
        while self.out.is_empty() {
            if self.eof {
                return Ok(false);
            }
            let n = loop {
                match self.inner.read(&mut self.raw[self.raw_len..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            self.raw_len += n;
            if n == 0 {
                self.eof = true;
            }
            let whole = self.raw_len & !1;
            for pair in self.raw[..whole].chunks_exact(2) {
                let unit = if self.big_endian {
                    u16::from_be_bytes([pair[0], pair[1]])
                } else {
                    u16::from_le_bytes([pair[0], pair[1]])
                };
                push_unit(&mut self.out, &mut self.high, unit);
            }
            // An odd byte waits for its partner, unless the input ended.
            self.raw.copy_within(whole..self.raw_len, 0);
            self.raw_len -= whole;
            if self.eof {
                if self.high.take().is_some() {
                    self.out.push(INVALID);
                }
                if self.raw_len > 0 {
                    self.raw_len = 0;
                    self.out.push(INVALID);
                }
            }
        }
        Ok(true)
    }
}

fn push_unit(out: &mut Vec<u8>, high: &mut Option<u16>, unit: u16) {
    if unit < 0x80 && high.is_none() {
        out.push(unit as u8);
        return;
    }
    let c = match (high.take(), unit) {
        (Some(h), 0xDC00..=0xDFFF) => {
            char::from_u32(0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(unit) - 0xDC00))
        }
        (Some(_), _) => {
            out.push(INVALID);
            return push_unit(out, high, unit);
        }
        (None, 0xD800..=0xDBFF) => {
            *high = Some(unit);
            return;
        }
        (None, 0xDC00..=0xDFFF) => None,
        (None, _) => char::from_u32(u32::from(unit)),
    };
    match c {
        Some(c) => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        None => out.push(INVALID),
    }
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_at == self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.out_at);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> (Vec<u8>, Encoding) {
        let (mut d, enc) = open(bytes).unwrap();
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        (out, enc)
    }

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend_from_slice(&pair);
        }
        bytes
    }

    #[test]
    fn utf8_passes_through_and_its_bom_is_dropped() {
        assert_eq!(decode_all(b"a,b\n"), (b"a,b\n".to_vec(), Encoding::Utf8));
        assert_eq!(
            decode_all(b"\xEF\xBB\xBFa,b\n"),
            (b"a,b\n".to_vec(), Encoding::Utf8Bom)
        );
        // A last line without a line end gets one.
        assert_eq!(decode_all(b"ab"), (b"ab\n".to_vec(), Encoding::Utf8));
        assert_eq!(decode_all(b""), (b"".to_vec(), Encoding::Utf8));
    }

    #[test]
    fn utf16_both_orders_with_surrogate_pairs() {
        let text = "Datum\tBelopp\n2026-11-03\t12,50 kr 🎬 Ström\n";
        for be in [false, true] {
            let (out, enc) = decode_all(&utf16(text, be));
            assert_eq!(String::from_utf8(out).unwrap(), text);
            assert_eq!(
                enc,
                if be {
                    Encoding::Utf16Be
                } else {
                    Encoding::Utf16Le
                }
            );
        }
    }

    #[test]
    fn utf16_that_does_not_decode_marks_the_spot() {
        // A lone low surrogate, then an odd last byte.
        let mut bytes = vec![0xFF, 0xFE, b'a', 0, 0x00, 0xDC, b'b', 0, b'c'];
        let (out, _) = decode_all(&bytes);
        assert_eq!(out, vec![b'a', INVALID, b'b', INVALID, b'\n']);
        // A high surrogate followed by an ordinary unit.
        bytes = vec![0xFF, 0xFE, 0x3D, 0xD8, b'x', 0, b'\n', 0];
        assert_eq!(decode_all(&bytes).0, vec![INVALID, b'x', b'\n']);
    }

    /// One byte at a time: a reader that never fills a buffer.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.split_first() {
                Some((b, rest)) if !buf.is_empty() => {
                    buf[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn decoding_does_not_depend_on_how_the_input_is_split() {
        let text = "a;b\n\"x\ny\";ö😀\n";
        let bytes = utf16(text, false);
        let (mut d, _) = open(Trickle(&bytes)).unwrap();
        let mut out = String::new();
        d.read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
        assert_eq!(d.bytes_read(), bytes.len() as u64);
    }

    #[test]
    fn separator_is_the_commonest_outside_quotes() {
        assert_eq!(sniff_separator(b"date,description,amount"), b',');
        assert_eq!(sniff_separator(b"Datum;Beskrivning;Belopp"), b';');
        assert_eq!(sniff_separator(b"Date\tItem\tCost"), b'\t');
        assert_eq!(sniff_separator(b"\"a,b,c\";\"d,e\";f"), b';');
        assert_eq!(sniff_separator(b"Date\t\"x;y\"\tAmount, USD"), b'\t');
        assert_eq!(sniff_separator(b"amount"), b',');
        assert_eq!(sniff_separator(b"a;b,c"), b';');
    }

    fn header(bytes: &[u8]) -> Result<(u8, u64, String), HeaderError> {
        let (mut d, enc) = open(bytes)?;
        let h = d.read_header_line(enc)?;
        let mut rest = String::new();
        d.read_to_string(&mut rest).unwrap();
        Ok((h.separator, h.lines_removed, rest))
    }

    #[test]
    fn header_line_is_found_after_blank_lines_and_kept_for_the_reader() {
        let (sep, removed, rest) = header(b"\r\n\na;b\n1;2\n").unwrap();
        assert_eq!((sep, removed), (b';', 0));
        assert_eq!(rest, "\r\n\na;b\n1;2\n");
        // Blank lines that fill the first bytes read exactly.
        let (sep, _, _) = header(b"\r\n\r\na\tb\n").unwrap();
        assert_eq!(sep, b'\t');
        // A quoted newline inside the header does not end it.
        let (sep, _, _) = header(b"\"a\nx\"\tb\n").unwrap();
        assert_eq!(sep, b'\t');
    }

    #[test]
    fn excel_sep_line_names_the_separator_and_is_cut() {
        let (sep, removed, rest) = header(b"sep=,\r\nDatum;Belopp\n1;2\n").unwrap();
        assert_eq!(
            (sep, removed, rest.as_str()),
            (b',', 1, "Datum;Belopp\n1;2\n")
        );
    }

    #[test]
    fn files_that_are_not_csv_text_are_named() {
        assert!(matches!(header(b""), Err(HeaderError::Empty)));
        assert!(matches!(header(b"\n \r\n\t\n"), Err(HeaderError::Empty)));
        assert!(matches!(header(b"\xEF\xBB\xBF"), Err(HeaderError::Empty)));
        assert!(matches!(
            header(b"PK\x03\x04rest"),
            Err(HeaderError::NotText(_))
        ));
        assert!(matches!(
            header(b"d\0a\0t\0e\0\n\0"),
            Err(HeaderError::NotText(_))
        ));
        assert!(matches!(
            header(b"\n\nDatum;Belopp \xF6re\n"),
            Err(HeaderError::Undecodable { line: 3, .. })
        ));
    }
}
