//! What the script prints: gathered into lines, bounded, and handed to a sink (by default
//! `tracing`, tagged with the instance).

use std::sync::Arc;

/// Longest line passed on; the rest of a longer line is cut and marked.
pub const MAX_LINE_BYTES: usize = 8 * 1024;

/// Which of the script's output streams a line came from (not to be confused with the
/// data stream, [`StreamInfo`](crate::StreamInfo)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// One complete line the script printed (without the newline).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct OutputLine<'a> {
    /// The processor's label (the script's file name unless set).
    pub instance: &'a str,
    pub stream: OutputStream,
    pub text: &'a str,
}

impl<'a> OutputLine<'a> {
    pub fn new(instance: &'a str, stream: OutputStream, text: &'a str) -> Self {
        OutputLine { instance, stream, text }
    }
}

/// Where printed lines go.
#[derive(Clone)]
pub struct OutputSink(Arc<dyn Fn(OutputLine<'_>) + Send + Sync>);

impl OutputSink {
    pub fn new(sink: impl Fn(OutputLine<'_>) + Send + Sync + 'static) -> Self {
        OutputSink(Arc::new(sink))
    }

    /// Hands `line` to the sink, as the processor does: for sinks that pass lines on to
    /// another.
    pub fn send(&self, line: OutputLine<'_>) {
        (self.0)(line)
    }

    /// INFO events for stdout, WARN for stderr, on target `pyproc::script`.
    pub fn tracing() -> Self {
        OutputSink::new(|line| match line.stream {
            OutputStream::Stdout => tracing::info!(target: "pyproc::script", instance = line.instance, "{}", line.text),
            OutputStream::Stderr => tracing::warn!(target: "pyproc::script", instance = line.instance, "{}", line.text),
        })
    }
}

impl Default for OutputSink {
    fn default() -> Self {
        OutputSink::tracing()
    }
}

impl std::fmt::Debug for OutputSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutputSink")
    }
}

/// Splits the guest's writes into lines for one instance.
pub(crate) struct LineSplitter {
    instance: String,
    sink: OutputSink,
    pending: [Vec<u8>; 2],
    /// Bytes a callback may print; what is past it is dropped and counted.
    budget: usize,
    left: usize,
    dropped: usize,
}

impl LineSplitter {
    pub fn new(instance: String, sink: OutputSink, budget: usize) -> Self {
        LineSplitter { instance, sink, pending: [Vec::new(), Vec::new()], budget, left: budget, dropped: 0 }
    }

    /// Takes a chunk of `stream` (1 stdout, anything else stderr).
    pub fn write(&mut self, stream: u8, text: &[u8]) {
        let kept = text.len().min(self.left);
        self.left -= kept;
        self.dropped += text.len() - kept;
        self.split(stream, &text[..kept]);
    }

    /// Ends a callback: emits partial lines, says how much was dropped, and returns it.
    pub fn end_callback(&mut self) -> usize {
        self.flush();
        let dropped = std::mem::take(&mut self.dropped);
        if dropped > 0 {
            let note = format!("[pyproc: {dropped} more bytes of output dropped; a callback may print {} bytes]", self.budget);
            (self.sink.0)(OutputLine { instance: &self.instance, stream: OutputStream::Stderr, text: &note });
        }
        self.left = self.budget;
        dropped
    }

    fn split(&mut self, stream: u8, mut text: &[u8]) {
        let (stream, i) = if stream == 1 { (OutputStream::Stdout, 0) } else { (OutputStream::Stderr, 1) };
        while let Some(nl) = text.iter().position(|b| *b == b'\n') {
            self.push(i, &text[..nl]);
            self.emit(stream, i);
            text = &text[nl + 1..];
        }
        self.push(i, text);
    }

    /// Emits partial lines.
    fn flush(&mut self) {
        for (stream, i) in [(OutputStream::Stdout, 0), (OutputStream::Stderr, 1)] {
            if !self.pending[i].is_empty() {
                self.emit(stream, i);
            }
        }
    }

    fn push(&mut self, i: usize, bytes: &[u8]) {
        let room = (MAX_LINE_BYTES + 1).saturating_sub(self.pending[i].len());
        self.pending[i].extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn emit(&mut self, stream: OutputStream, i: usize) {
        let mut text = String::from_utf8_lossy(&self.pending[i]).into_owned();
        if self.pending[i].len() > MAX_LINE_BYTES {
            let mut cut = MAX_LINE_BYTES.min(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(" …[line cut]");
        }
        self.pending[i].clear();
        (self.sink.0)(OutputLine { instance: &self.instance, stream, text: &text });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn collect() -> (OutputSink, Arc<Mutex<Vec<(OutputStream, String)>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        (OutputSink::new(move |line| l.lock().unwrap().push((line.stream, line.text.to_owned()))), lines)
    }

    #[test]
    fn chunks_are_joined_into_lines_per_stream() {
        let (sink, lines) = collect();
        let mut s = LineSplitter::new("t".into(), sink, 1000);
        s.write(1, b"Num Chan");
        s.write(2, b"warn\n");
        s.write(1, b"nels: 4\nnext");
        assert_eq!(s.end_callback(), 0);
        assert_eq!(
            *lines.lock().unwrap(),
            [(OutputStream::Stderr, "warn".into()), (OutputStream::Stdout, "Num Channels: 4".into()), (OutputStream::Stdout, "next".into())]
        );
    }

    #[test]
    fn a_huge_line_is_cut_not_buffered_without_bound() {
        let (sink, lines) = collect();
        let mut s = LineSplitter::new("t".into(), sink, usize::MAX);
        for _ in 0..100 {
            s.write(1, &[b'x'; 4096]);
        }
        assert!(s.pending[0].len() <= MAX_LINE_BYTES + 1);
        s.write(1, b"\n");
        let got = lines.lock().unwrap();
        assert!(got[0].1.ends_with("[line cut]") && got[0].1.len() < MAX_LINE_BYTES + 20);
    }

    #[test]
    fn output_past_the_budget_is_dropped_counted_and_the_budget_renews_per_callback() {
        let (sink, lines) = collect();
        let mut s = LineSplitter::new("t".into(), sink, 10);
        s.write(1, b"0123456789abcdef\n");
        assert_eq!(s.end_callback(), 7);
        s.write(1, b"again\n");
        assert_eq!(s.end_callback(), 0);
        let got = lines.lock().unwrap();
        assert_eq!(got[0], (OutputStream::Stdout, "0123456789".into()));
        assert!(got[1].1.contains("7 more bytes of output dropped"), "{:?}", got[1]);
        assert_eq!(got[2], (OutputStream::Stdout, "again".into()));
    }
}
