//! Lines written in order of a key, largest first, in bounded memory: the
//! CSV export reads entries in log order (one pass down the table) and
//! writes them newest first. Lines are kept in memory up to a budget; past
//! it, each sorted run goes to an unnamed temporary file (owner-only, gone
//! when closed) and the runs are merged into the output at the end.
//!
//! Listing a large ledger by date through its date index instead reads the
//! rows in date order, which is a random page read per row when the dates
//! do not follow log order (an import of an unsorted file).

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

/// A line's place in the output: lines with larger keys come first.
pub type Key = (i64, i64);

/// Bytes of lines kept in memory before a run is written out.
pub const RUN_BYTES: usize = 32 << 20;

/// Buffer of each run's reader while merging.
const READ_BUFFER: usize = 256 << 10;

pub struct SortedLines {
    budget: usize,
    text: Vec<u8>,
    lines: Vec<Line>,
    runs: Vec<File>,
}

struct Line {
    key: Key,
    start: usize,
    end: usize,
}

impl SortedLines {
    /// Lines kept in memory up to `budget` bytes at a time.
    pub fn new(budget: usize) -> SortedLines {
        SortedLines {
            budget,
            text: Vec::new(),
            lines: Vec::new(),
            runs: Vec::new(),
        }
    }

    pub fn push(&mut self, key: Key, line: &[u8]) -> io::Result<()> {
        if !self.lines.is_empty() && self.text.len() + line.len() > self.budget {
            self.spill()?;
        }
        if self.text.capacity() == 0 {
            // Reserved once: growing by doubling would copy, and hold, more.
            self.text.reserve_exact(self.budget.max(line.len()));
        }
        let start = self.text.len();
        self.text.extend_from_slice(line);
        self.lines.push(Line {
            key,
            start,
            end: self.text.len(),
        });
        Ok(())
    }

    /// Runs written to temporary files so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    fn sort(&mut self) {
        self.lines
            .sort_unstable_by_key(|line| std::cmp::Reverse(line.key));
    }

    /// Writes the lines in memory, sorted, to a new run.
    fn spill(&mut self) -> io::Result<()> {
        self.sort();
        let mut run = BufWriter::with_capacity(READ_BUFFER, tempfile::tempfile()?);
        for line in &self.lines {
            let text = &self.text[line.start..line.end];
            run.write_all(&line.key.0.to_le_bytes())?;
            run.write_all(&line.key.1.to_le_bytes())?;
            run.write_all(&(text.len() as u64).to_le_bytes())?;
            run.write_all(text)?;
        }
        let mut file = run.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        self.runs.push(file);
        self.text.clear();
        self.lines.clear();
        Ok(())
    }

    /// Writes every line to `out`, largest key first.
    pub fn write_to(mut self, out: &mut impl Write) -> io::Result<()> {
        if self.runs.is_empty() {
            self.sort();
            for line in &self.lines {
                out.write_all(&self.text[line.start..line.end])?;
            }
            return Ok(());
        }
        if !self.lines.is_empty() {
            self.spill()?;
        }
        // The memory of the last run is not needed while merging.
        drop(std::mem::take(&mut self.text));
        drop(std::mem::take(&mut self.lines));
        let mut readers: Vec<RunReader> = self
            .runs
            .into_iter()
            .map(|file| RunReader {
                file: BufReader::with_capacity(READ_BUFFER, file),
                line: Vec::new(),
            })
            .collect();
        let mut heads = BinaryHeap::with_capacity(readers.len());
        for (i, reader) in readers.iter_mut().enumerate() {
            if let Some(key) = reader.next()? {
                heads.push((key, i));
            }
        }
        while let Some((_, i)) = heads.pop() {
            let reader = &mut readers[i];
            out.write_all(&reader.line)?;
            if let Some(key) = reader.next()? {
                heads.push((key, i));
            }
        }
        Ok(())
    }
}

/// A run being merged, and its current line.
struct RunReader {
    file: BufReader<File>,
    line: Vec<u8>,
}

impl RunReader {
    /// Reads the next line; `None` at the end of the run.
    fn next(&mut self) -> io::Result<Option<Key>> {
        let mut header = [0u8; 24];
        match self.file.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let word = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&header[i * 8..i * 8 + 8]);
            bytes
        };
        let key = (i64::from_le_bytes(word(0)), i64::from_le_bytes(word(1)));
        let length = u64::from_le_bytes(word(2)) as usize;
        self.line.resize(length, 0);
        self.file.read_exact(&mut self.line)?;
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(budget: usize, lines: &[(Key, &str)]) -> (String, usize) {
        let mut sorter = SortedLines::new(budget);
        for (key, line) in lines {
            sorter.push(*key, line.as_bytes()).unwrap();
        }
        let runs = sorter.runs();
        let mut out = Vec::new();
        sorter.write_to(&mut out).unwrap();
        (String::from_utf8(out).unwrap(), runs)
    }

    #[test]
    fn largest_key_first_in_memory_and_through_runs() {
        let lines: Vec<(Key, String)> = (0..1000i64)
            .map(|i| {
                let day = (i * 7919) % 1000;
                ((day, i), format!("{day}-{i}\n"))
            })
            .collect();
        let borrowed: Vec<(Key, &str)> = lines.iter().map(|(k, l)| (*k, l.as_str())).collect();
        let mut expected = borrowed.clone();
        expected.sort_by_key(|(key, _)| std::cmp::Reverse(*key));
        let expected: String = expected.iter().map(|(_, l)| *l).collect();

        let (in_memory, runs) = sorted(1 << 20, &borrowed);
        assert_eq!(runs, 0);
        assert_eq!(in_memory, expected);
        let (merged, runs) = sorted(500, &borrowed);
        assert!(runs > 10, "{runs} runs");
        assert_eq!(merged, expected);
    }

    #[test]
    fn ties_and_empty_lines_survive_a_merge() {
        let lines = [((1, 1), ""), ((1, 1), "a\n"), ((5, 0), "b\n"), ((0, 9), "")];
        let (merged, runs) = sorted(1, &lines);
        assert!(runs >= 2);
        assert_eq!(merged, "b\na\n");
    }
}
