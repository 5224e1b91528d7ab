//! Files that must never be half-written: every such write in the borne goes through
//! [`write_atomic_with`] (or its two shorthands). The content goes to a temporary file of a unique
//! name in the target's own folder (`tempfile`), is fsynced, renamed over the target, and the folder
//! is fsynced. Two threads writing the same target never share a temporary file (the last rename
//! wins, whole), and an error at any step removes the temporary file: nothing is left behind.

use std::fs::{File, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `data` to `path` atomically: readers see the old content or the new one, never a mix,
/// even after a power cut.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    write_atomic_mode(path, data, 0o644)
}

/// As [`write_atomic`], with Unix permissions (0o600 for secrets).
pub fn write_atomic_mode(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    write_atomic_with(path, mode, |f| f.write_all(data))
}

/// Replaces `path` atomically with what `write` writes into the temporary file (a serializer can
/// write straight into it). When `write`, the fsync or the rename fails, the error is returned, the
/// target is unchanged and the temporary file is removed.
pub fn write_atomic_with(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| std::io::Error::other("no file name"))?;
    // Hidden, named after the target (a stray one says whose it was), unique per call.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    write(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    // On failure the error gives the temporary file back; dropping it removes it.
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_content_and_sets_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("token");
        write_atomic_mode(&p, b"one", 0o600).unwrap();
        write_atomic_mode(&p, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(names(d.path()), ["token"], "no temporary file left");
    }

    #[test]
    fn concurrent_writers_of_one_target_each_leave_a_whole_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("status.json");
        // Each writer's content is long and made of its own byte: a mix of two would show.
        let contents: Vec<Vec<u8>> = (0..16u8).map(|i| vec![b'a' + i; 64 * 1024 + usize::from(i)]).collect();
        std::thread::scope(|s| {
            for c in &contents {
                let p = &p;
                s.spawn(move || {
                    for _ in 0..10 {
                        write_atomic(p, c).unwrap();
                        let seen = std::fs::read(p).unwrap();
                        assert!(contents_are_one_writers(&seen), "a torn file ({} bytes)", seen.len());
                    }
                });
            }
        });
        let last = std::fs::read(&p).unwrap();
        assert!(contents.contains(&last), "the file is one writer's whole content");
        assert_eq!(names(d.path()), ["status.json"], "no temporary file left");
    }

    fn contents_are_one_writers(b: &[u8]) -> bool {
        !b.is_empty() && b.iter().all(|x| *x == b[0]) && b.len() == 64 * 1024 + usize::from(b[0] - b'a')
    }

    #[test]
    fn a_failing_serializer_leaves_the_target_and_no_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("attempts.json");
        write_atomic(&p, b"old").unwrap();
        let e = write_atomic_with(&p, 0o644, |f| {
            f.write_all(b"half of a ")?;
            Err(std::io::Error::other("serializer failed"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "serializer failed");
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(names(d.path()), ["attempts.json"], "no temporary file left");
    }

    #[test]
    fn a_failing_rename_leaves_no_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        // The target is a folder that is not empty: the rename fails after the data was written.
        let p = d.path().join("busy");
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("inside"), b"x").unwrap();
        assert!(write_atomic(&p, b"data").is_err());
        assert_eq!(names(d.path()), ["busy"], "no temporary file left");
    }

    #[test]
    fn a_read_only_folder_is_an_error_and_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let ro = d.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, Permissions::from_mode(0o555)).unwrap();
        let result = write_atomic(&ro.join("file"), b"data");
        // Root ignores folder permissions: then the write succeeds, and is still whole.
        let is_root = std::fs::write(ro.join("probe"), b"").is_ok();
        std::fs::set_permissions(&ro, Permissions::from_mode(0o755)).unwrap();
        if is_root {
            std::fs::remove_file(ro.join("probe")).unwrap();
            assert_eq!(std::fs::read(ro.join("file")).unwrap(), b"data");
            assert_eq!(names(&ro), ["file"]);
        } else {
            assert!(result.is_err());
            assert!(names(&ro).is_empty(), "no temporary file left: {:?}", names(&ro));
        }
    }
}
