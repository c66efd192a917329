//! A response body written on a blocking thread (a zip archive, a CSV file) and streamed to the
//! client as it grows: a bounded channel of chunks between them, so a slow client slows the
//! writer instead of memory filling up, and a client that goes away stops it.

use std::io::{self, Write};

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

use crate::db::{Conn, Pool};
use crate::error::ApiError;

/// Chunks in flight between the writer and the response.
const CHUNKS_IN_FLIGHT: usize = 8;
/// Bytes gathered before a chunk is sent.
const CHUNK_BYTES: usize = 64 * 1024;

/// The archive being written: what `ZipWriter::new_stream` writes into.
pub struct ChunkWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<Bytes>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES)));
        self.sender
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Streams what `write` writes with a pooled connection, on a thread of its own. A failure
/// after the first bytes can only cut the stream short (the status is sent), so it is logged;
/// the client sees an incomplete body (a zip without its directory, a CSV cut mid-row), never
/// one that looks whole.
fn written_stream<F>(pool: Pool, write: F) -> impl Stream<Item = Result<Bytes, ApiError>>
where
    F: FnOnce(&mut Conn, ChunkWriter) -> Result<(), ApiError> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let span = tracing::Span::current();
    std::thread::spawn(move || {
        span.in_scope(|| {
            let writer = ChunkWriter { buffer: Vec::with_capacity(CHUNK_BYTES), sender };
            let result = pool.get().map_err(ApiError::from).and_then(|mut conn| write(&mut conn, writer));
            if let Err(e) = result {
                tracing::warn!(error = %e, "a streamed response was cut short");
            }
        })
    });
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (Ok(chunk), receiver))
    })
}

/// Streams the zip archive that `write` fills.
pub fn zip_stream<F>(pool: Pool, write: F) -> impl Stream<Item = Result<Bytes, ApiError>>
where
    F: FnOnce(&mut Conn, &mut zip::ZipWriter<zip::write::StreamWriter<ChunkWriter>>) -> Result<(), ApiError>
        + Send
        + 'static,
{
    written_stream(pool, move |conn, out| {
        let mut zip = zip::ZipWriter::new_stream(out);
        write(conn, &mut zip)?;
        zip.finish().map_err(ApiError::internal)?.flush().map_err(ApiError::internal)
    })
}

/// Streams the CSV file (RFC 4180, UTF-8) that `write` fills after the `header` row. The header
/// is written first, not taken from the first record, so that an empty list is still a file
/// with its columns; records are written by position and must follow the header's order.
pub fn csv_stream<F>(
    pool: Pool,
    header: &'static [&'static str],
    write: F,
) -> impl Stream<Item = Result<Bytes, ApiError>>
where
    F: FnOnce(&mut Conn, &mut csv::Writer<ChunkWriter>) -> Result<(), ApiError> + Send + 'static,
{
    written_stream(pool, move |conn, out| {
        let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(out);
        csv.write_record(header).map_err(ApiError::internal)?;
        write(conn, &mut csv)?;
        csv.flush().map_err(ApiError::internal)
    })
}

/// Reads every row that `page` answers, `limit` at a time after the last row's id (keyset
/// pages, so memory stays one page whatever the size), and hands each to `each` with the
/// connection: what a streamed body is written from.
pub fn for_each_page<T>(
    conn: &mut Conn,
    limit: i64,
    mut page: impl FnMut(&mut Conn, i64, i64) -> Result<Vec<T>, ApiError>,
    id: impl Fn(&T) -> i64,
    mut each: impl FnMut(&mut Conn, T) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let mut after = 0;
    loop {
        let rows = page(conn, after, limit)?;
        let full = rows.len() as i64 == limit;
        match rows.last() {
            Some(last) => after = id(last),
            None => return Ok(()),
        }
        for row in rows {
            each(conn, row)?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// Writes every page that `page` answers as CSV records, one per row as `record` makes it.
pub fn write_pages<T, R: serde::Serialize>(
    conn: &mut Conn,
    csv: &mut csv::Writer<ChunkWriter>,
    page: impl FnMut(&mut Conn, i64, i64) -> Result<Vec<T>, ApiError>,
    id: impl Fn(&T) -> i64,
    record: impl Fn(T) -> R,
) -> Result<(), ApiError> {
    for_each_page(conn, PAGE_ROWS, page, id, |_, row| csv.serialize(record(row)).map_err(ApiError::internal))
}

/// Rows read per query while a CSV file is written.
const PAGE_ROWS: i64 = 1000;
