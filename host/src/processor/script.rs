//! Where a processor's Python comes from: a file, or source text handed over directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

/// A script's name and where its text is read from.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// The path the script carries inside Python (`__file__`, tracebacks): the file's
    /// absolute path, or the name given with the text. Shared, so the errors that name it
    /// do not copy it.
    path: Arc<Path>,
    origin: Origin,
}

#[derive(Debug, Clone)]
enum Origin {
    File,
    Text(String),
}

impl Script {
    /// The script in the file at `path` (made absolute).
    pub fn file(path: &Path) -> Result<Script> {
        let path = std::path::absolute(path).map_err(|cause| Error::ScriptUnreadable { path: path.to_path_buf(), cause })?;
        Ok(Script { path: path.into(), origin: Origin::File })
    }

    /// Source text named `name` (a file name for tracebacks; it need not exist).
    pub fn text(name: PathBuf, source: String) -> Script {
        Script { path: name.into(), origin: Origin::Text(source) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path, for an error that names it: no copy.
    pub fn shared_path(&self) -> Arc<Path> {
        self.path.clone()
    }

    /// The label a processor gets when none is set: the file name.
    pub fn default_label(&self) -> String {
        Script::label_for(&self.path)
    }

    /// The default label of a script named `path`: its file name.
    pub fn label_for(path: &Path) -> String {
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "script".into())
    }

    /// The current text: read from the file again, or the text given.
    pub fn read(&self) -> Result<String> {
        match &self.origin {
            Origin::Text(source) => Ok(source.clone()),
            Origin::File => {
                let bytes = std::fs::read(&self.path).map_err(|cause| Error::ScriptUnreadable { path: self.path.to_path_buf(), cause })?;
                String::from_utf8(bytes).map_err(|e| Error::ScriptNotUtf8 { path: self.path.to_path_buf(), at: e.utf8_error().valid_up_to() })
            }
        }
    }
}
