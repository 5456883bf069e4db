//! What strata shows a person at a terminal and never writes into a log: colour and progress.
//!
//! Both depend on where the output goes, and that is decided here, once:
//! - colour only when the stream is a terminal, `NO_COLOR` is unset or empty
//!   (<https://no-color.org>) and `TERM` is not `dumb` (a terminal that cannot show it);
//! - progress only when stderr is a terminal, so CI logs and the stderr Argo CD captures
//!   never fill with counters.

use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// An output stream of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Whether text written to `stream` may be coloured: the one colour decision of strata.
pub fn colour(stream: Stream) -> bool {
    let tty = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    colour_wanted(
        tty,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

fn colour_wanted(tty: bool, no_color: Option<&OsStr>, term: Option<&OsStr>) -> bool {
    tty && no_color.is_none_or(OsStr::is_empty) && term.is_none_or(|t| t != "dumb")
}

/// ANSI styling, or none: every coloured report is written through one of these.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    colour: bool,
}

impl Style {
    /// Colour when `colour` is true (see [`colour`]), plain text otherwise.
    pub fn new(colour: bool) -> Style {
        Style { colour }
    }

    /// The style for text written to `stream`.
    pub fn for_stream(stream: Stream) -> Style {
        Style::new(colour(stream))
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// One line of a unified diff, coloured by its first character: additions green,
    /// removals red, hunk headers cyan.
    pub fn diff_line(self, line: &str) -> String {
        match line.as_bytes().first() {
            Some(b'+') => self.paint("32", line),
            Some(b'-') => self.paint("31", line),
            Some(b'@') => self.paint("36", line),
            _ => line.to_owned(),
        }
    }
}

/// Progress of a command that works through many tenants: `[done/total] tenant` rewritten in
/// place on stderr, only when stderr is a terminal. Cheap to clone; clones share the line.
#[derive(Clone, Default)]
pub struct Progress {
    line: Option<Arc<Mutex<Line>>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("shown", &self.line.is_some())
            .finish()
    }
}

/// The progress line: where it goes, how wide it may be, the counter and what is on screen.
struct Line {
    sink: Box<dyn Write + Send>,
    width: usize,
    done: usize,
    total: usize,
    /// Characters currently on the line, to be overwritten by the next update.
    shown: usize,
}

/// The progress line on stderr, one for the process, so that log messages can be written
/// above it ([`above_progress`]).
static STDERR_LINE: OnceLock<Arc<Mutex<Line>>> = OnceLock::new();

fn lock(line: &Mutex<Line>) -> MutexGuard<'_, Line> {
    // A panic while drawing leaves nothing inconsistent: at worst a half-drawn counter.
    line.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `write`, which writes to stderr, with the progress line cleared first, so that a log
/// message (a helm warning, say) starts on a clean line instead of after a counter; the next
/// step draws the counter again below it.
pub fn above_progress<R>(write: impl FnOnce() -> R) -> R {
    match STDERR_LINE.get() {
        Some(line) => {
            let mut line = lock(line);
            line.clear();
            write()
        }
        None => write(),
    }
}

impl Progress {
    /// Progress on stderr when it is a terminal; nothing otherwise.
    pub fn on_stderr() -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let line = STDERR_LINE.get_or_init(|| {
            Arc::new(Mutex::new(Line::new(
                Box::new(std::io::stderr()),
                stderr_width(),
            )))
        });
        Progress {
            line: Some(Arc::clone(line)),
        }
    }

    /// No progress at all.
    pub fn hidden() -> Progress {
        Progress { line: None }
    }

    /// Progress written to `sink`, lines cut to `width` characters.
    #[cfg(test)]
    fn to(sink: Box<dyn Write + Send>, width: usize) -> Progress {
        Progress {
            line: Some(Arc::new(Mutex::new(Line::new(sink, width)))),
        }
    }

    /// Starts counting `total` steps; the line is cleared when the returned phase ends.
    pub fn phase(&self, total: usize) -> Phase<'_> {
        if let Some(line) = &self.line {
            let mut line = lock(line);
            line.done = 0;
            line.total = total;
        }
        Phase { progress: self }
    }
}

/// One counted run through the tenants; see [`Progress::phase`].
pub struct Phase<'a> {
    progress: &'a Progress,
}

impl Phase<'_> {
    /// One more step is done; `what` names it. The counter is taken and printed under one
    /// lock, so parallel workers print 1, 2, 3... in order. Control characters in `what` (a
    /// tenant directory is anyone's name) show as `?`, so a name cannot drive the terminal.
    pub fn step(&self, what: &str) {
        let Some(line) = &self.progress.line else {
            return;
        };
        let mut line = lock(line);
        line.done += 1;
        let what: String = what
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        let text = format!("[{}/{}] {what}", line.done, line.total);
        line.show(&text);
    }
}

impl Drop for Phase<'_> {
    fn drop(&mut self) {
        if let Some(line) = &self.progress.line {
            lock(line).clear();
        }
    }
}

impl Line {
    fn new(sink: Box<dyn Write + Send>, width: usize) -> Line {
        Line {
            sink,
            width,
            done: 0,
            total: 0,
            shown: 0,
        }
    }

    /// Replaces the line by `text`, cut to the width so that it never wraps (a wrapped line
    /// cannot be rewritten in place). Spaces, not escape sequences, erase the rest, so this
    /// works on any terminal. Write errors are ignored: progress is only a courtesy.
    fn show(&mut self, text: &str) {
        let text: String = text.chars().take(self.width.saturating_sub(1)).collect();
        let n = text.chars().count();
        let pad = " ".repeat(self.shown.saturating_sub(n));
        let _ = write!(self.sink, "\r{text}{pad}");
        let _ = self.sink.flush();
        self.shown = n;
    }

    fn clear(&mut self) {
        if self.shown > 0 {
            let _ = write!(self.sink, "\r{}\r", " ".repeat(self.shown));
            let _ = self.sink.flush();
            self.shown = 0;
        }
    }
}

/// The width of the terminal on stderr, 80 when it cannot be read.
fn stderr_width() -> usize {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the struct passed; fd 2 stays open.
    let rc = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) };
    if rc == 0 && size.ws_col > 0 {
        usize::from(size.ws_col)
    } else {
        80
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color_or_a_dumb_term() {
        let s = |v: &'static str| Some(OsStr::new(v));
        assert!(colour_wanted(true, None, s("xterm-256color")));
        assert!(colour_wanted(true, None, None));
        assert!(colour_wanted(true, s(""), s("xterm")));
        assert!(!colour_wanted(false, None, s("xterm")));
        assert!(!colour_wanted(true, s("1"), s("xterm")));
        assert!(!colour_wanted(true, None, s("dumb")));
    }

    #[test]
    fn diff_lines_are_coloured_by_their_first_character() {
        let on = Style::new(true);
        assert_eq!(on.diff_line("+a"), "\x1b[32m+a\x1b[0m");
        assert_eq!(on.diff_line("-a"), "\x1b[31m-a\x1b[0m");
        assert_eq!(on.diff_line("@@ -1 +1 @@"), "\x1b[36m@@ -1 +1 @@\x1b[0m");
        assert_eq!(on.diff_line(" a"), " a");
        assert_eq!(Style::new(false).diff_line("+a"), "+a");
    }

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn parallel_steps_print_counters_in_order_then_clear_the_line() {
        let sink = Shared::default();
        let progress = Progress::to(Box::new(sink.clone()), 80);
        {
            let phase = progress.phase(400);
            std::thread::scope(|s| {
                for w in 0..8 {
                    let phase = &phase;
                    s.spawn(move || {
                        for i in 0..50 {
                            phase.step(&format!("tenant-{w}-{i}"));
                        }
                    });
                }
            });
        }
        let text = sink.text();
        let counters: Vec<usize> = text
            .split('\r')
            .filter_map(|l| l.strip_prefix('['))
            .map(|l| l.split('/').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(counters, (1..=400).collect::<Vec<_>>());
        let last = text.trim_end_matches('\r').rsplit('\r').next().unwrap();
        assert!(last.trim().is_empty(), "line not cleared: {last:?}");
    }

    #[test]
    fn a_shorter_update_erases_the_longer_one_and_lines_never_wrap() {
        let sink = Shared::default();
        let progress = Progress::to(Box::new(sink.clone()), 20);
        let phase = progress.phase(2);
        phase.step("customers/prod/a-very-long-tenant-name");
        phase.step("b");
        drop(phase);
        assert_eq!(
            sink.text(),
            format!(
                "\r[1/2] customers/pro\r[2/2] b{}\r{}\r",
                " ".repeat(12),
                " ".repeat(7)
            )
        );
    }

    #[test]
    fn control_characters_in_a_name_cannot_reach_the_terminal() {
        let sink = Shared::default();
        let progress = Progress::to(Box::new(sink.clone()), 80);
        progress.phase(1).step("evil\x1b]0;title\x07\rname\n");
        assert_eq!(
            sink.text(),
            format!("\r[1/1] evil?]0;title??name?\r{}\r", " ".repeat(26))
        );
    }
}
