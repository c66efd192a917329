//! How a running import shows its progress: a bar on a terminal, plain lines in a log.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Seconds between two plain progress lines.
const LINE_INTERVAL: Duration = Duration::from_secs(5);

/// Where an import stands, reported after every batch.
#[derive(Debug, Clone, Copy)]
pub struct ImportProgress {
    /// Bytes of the input behind the last written batch, and the input's size.
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Where this run started in the input (past zero when resumed).
    pub bytes_at_start: u64,
    /// Records read so far, resumed runs included.
    pub rows: u64,
    pub rejected: u64,
    /// Records read by this run, and when it started: the rate is this run's.
    pub rows_this_run: u64,
    pub started: Instant,
}

impl ImportProgress {
    fn rows_per_second(&self) -> f64 {
        self.rows_this_run as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    fn percent(&self) -> u64 {
        (self.bytes_done * 100).checked_div(self.bytes_total).unwrap_or(100)
    }

    /// Seconds left at this run's pace through the bytes it has read.
    fn eta_seconds(&self) -> Option<u64> {
        let done = self.bytes_done.saturating_sub(self.bytes_at_start);
        let left = self.bytes_total.saturating_sub(self.bytes_done);
        let elapsed = self.started.elapsed().as_secs_f64();
        (done > 0).then(|| (left as f64 * elapsed / done as f64).round() as u64)
    }
}

/// Shows an import's progress.
pub enum ProgressDisplay {
    /// A bar over the input's bytes, with rows/s and ETA, redrawn on stderr.
    Bar(ProgressBar),
    /// A line on stderr every few seconds, for logs and pipes.
    Lines { last: Instant },
    /// Nothing (library callers, tests).
    Silent,
}

impl ProgressDisplay {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn for_stderr() -> ProgressDisplay {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{wide_bar} {percent:>3}% {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            ProgressDisplay::Bar(bar)
        } else {
            ProgressDisplay::Lines { last: Instant::now() }
        }
    }

    /// Called after every batch.
    pub fn report(&mut self, p: &ImportProgress) {
        match self {
            ProgressDisplay::Bar(bar) => {
                if bar.length() != Some(p.bytes_total) {
                    // The first report, possibly of a resumed run: the ETA counts from here.
                    bar.set_length(p.bytes_total);
                    bar.set_position(p.bytes_done);
                    bar.reset_eta();
                }
                bar.set_position(p.bytes_done);
                bar.set_message(format!(
                    "{} rows ({} rejected), {:.0} rows/s",
                    p.rows,
                    p.rejected,
                    p.rows_per_second()
                ));
            }
            ProgressDisplay::Lines { last } => {
                if last.elapsed() >= LINE_INTERVAL {
                    *last = Instant::now();
                    let eta = p.eta_seconds().map_or("?".to_owned(), |s| s.to_string());
                    eprintln!(
                        "imported {} rows ({} rejected), {}%, {:.0} rows/s, ETA {eta} s",
                        p.rows,
                        p.rejected,
                        p.percent(),
                        p.rows_per_second()
                    );
                }
            }
            ProgressDisplay::Silent => {}
        }
    }

    /// Removes the bar, so that the summary follows on a clean line.
    pub fn finish(&mut self) {
        if let ProgressDisplay::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
