//! Reading whole files with a size limit. An image or model path may name something that never
//! ends (`/dev/zero`, a pipe fed forever), which `std::fs::read` would read until memory runs
//! out: every file the library reads goes through here instead.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// The most bytes one file may have when read by [`crate::load_image`], [`read_limited`] with
/// this limit, or [`crate::EmotionModel::from_path`]: 1 GiB. The largest image within
/// [`crate::DEFAULT_MAX_PIXELS`] (100 M pixels), stored uncompressed at 16 bits per RGBA channel,
/// takes 800 MB; the bundled model takes 2.8 MB.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// The bytes of the file at `path`, which may have at most `limit` bytes.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened or read, or (with an `io::Error` of kind
/// `FileTooLarge`) when it has more than `limit` bytes; at most `limit + 1` bytes are read.
pub fn read_limited(path: impl AsRef<Path>, limit: u64) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let mut file = open(path)?;
    let mut bytes = Vec::new();
    read_up_to(&mut file, &mut bytes, limit, path)?;
    Ok(bytes)
}

/// Opens `path` for reading; [`Error::Io`] naming it when that fails.
pub(crate) fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// Appends at most the next `n` bytes of `file` to `bytes` (fewer where the file ends).
pub(crate) fn read_at_most(file: &mut File, bytes: &mut Vec<u8>, n: u64, path: &Path) -> Result<()> {
    file.take(n).read_to_end(bytes).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    Ok(())
}

/// Appends what follows in `file` to `bytes` until the file ends or `bytes` holds `limit` bytes;
/// [`Error::Io`] (kind `FileTooLarge`) when the file goes on past `limit`.
pub(crate) fn read_up_to(file: &mut File, bytes: &mut Vec<u8>, limit: u64, path: &Path) -> Result<()> {
    read_at_most(file, bytes, (limit + 1).saturating_sub(bytes.len() as u64), path)?;
    if bytes.len() as u64 > limit {
        let source = std::io::Error::new(ErrorKind::FileTooLarge, format!("the file has more than {limit} bytes"));
        return Err(Error::Io { path: path.to_path_buf(), source });
    }
    Ok(())
}
