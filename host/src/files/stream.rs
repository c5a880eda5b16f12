//! Writing a file whole from an async body (an upload): the [`AtomicFile`] lives on one
//! blocking thread, the async side reads the body and hands it the chunks through a small
//! channel (so a slow disk slows the client, not the runtime), counting against a limit.
//! The file is committed only when the body ended cleanly; a body that breaks off, grows past
//! the limit or a failed write leaves the old file and no temporary file behind, and only
//! then does the call return.

use futures_util::{Stream, StreamExt};

use super::{AtomicFile, FilesError, RelPath, Root};

/// Chunks in flight between the body and the writing thread.
const CHANNEL: usize = 4;

/// What the writing thread is told.
enum Message {
    /// More of the contents.
    Chunk(Vec<u8>),
    /// The body ended: commit.
    Commit,
}

/// Why a streamed write did not replace the file.
#[derive(Debug, thiserror::Error)]
pub enum StreamError<E> {
    /// The body failed.
    #[error("the body broke off: {0}")]
    Body(E),
    /// The body is larger than the limit (bytes).
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    /// The file could not be written.
    #[error(transparent)]
    Files(#[from] FilesError),
    /// The writing thread ended abnormally.
    #[error("the writing thread failed: {0}")]
    Thread(String),
}

/// What a streamed write stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Bytes written.
    pub size: u64,
    /// Whether something of that name was replaced.
    pub replaced: bool,
}

/// Replaces the file `rel` beneath `root` with what `body` yields (mode `mode`), refusing
/// more than `limit` bytes.
pub async fn write_stream<S, B, E>(
    root: Root,
    rel: RelPath,
    mode: u32,
    limit: u64,
    mut body: S,
) -> Result<Written, StreamError<E>>
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    let (sender, mut chunks) = tokio::sync::mpsc::channel::<Message>(CHANNEL);
    let writer = tokio::task::spawn_blocking(move || {
        let mut file: AtomicFile = root.atomic_file(&rel, mode)?;
        while let Some(message) = chunks.blocking_recv() {
            match message {
                Message::Chunk(bytes) => file.write_bytes(&bytes)?,
                Message::Commit => return file.commit().map(Some),
            }
        }
        Ok::<_, FilesError>(None) // dropped uncommitted: the temporary file goes
    });
    let mut size: u64 = 0;
    let mut failed = None;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                failed = Some(StreamError::Body(e));
                break;
            }
        };
        let bytes = chunk.as_ref();
        size += bytes.len() as u64;
        if size > limit {
            failed = Some(StreamError::TooLarge(limit));
            break;
        }
        if sender.send(Message::Chunk(bytes.to_vec())).await.is_err() {
            break; // the writer stopped: its result says why
        }
    }
    if failed.is_none() {
        // A writer that already stopped reports its error below.
        let _ = sender.send(Message::Commit).await;
    }
    drop(sender);
    let written = writer
        .await
        .map_err(|e| StreamError::Thread(e.to_string()))?;
    if let Some(e) = failed {
        return Err(e);
    }
    match written? {
        Some(committed) => Ok(Written {
            size,
            replaced: committed.replaced,
        }),
        None => Err(StreamError::Thread(
            "the writer stopped before the end".into(),
        )),
    }
}
