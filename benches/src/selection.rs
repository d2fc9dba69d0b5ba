//! Which rows a run measures (`--only`), decided before anything is measured, so a run of a
//! few rows takes seconds and never builds what the others need.

/// All rows, or those whose workload contains one of the given substrings (any case).
///
/// ```
/// use pyproc_benches::selection::Selection;
/// let only = Selection::only(["Band-Pass".to_owned()]);
/// assert!(only.wants("band-pass (examples/bandpass_filter.py), 64 ch"));
/// assert!(!only.wants("pass-through, 64 ch"));
/// assert!(Selection::all().wants("pass-through, 64 ch"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Selection {
    only: Vec<String>,
}

impl Selection {
    pub fn all() -> Selection {
        Selection::default()
    }

    /// The rows whose workload contains one of `substrings`; none given means all rows.
    pub fn only(substrings: impl IntoIterator<Item = String>) -> Selection {
        Selection { only: substrings.into_iter().map(|s| s.to_lowercase()).collect() }
    }

    pub fn wants(&self, workload: &str) -> bool {
        let workload = workload.to_lowercase();
        self.only.is_empty() || self.only.iter().any(|s| workload.contains(s.as_str()))
    }

    /// Whether any of `workloads` is wanted.
    pub fn wants_any<'a>(&self, workloads: impl IntoIterator<Item = &'a str>) -> bool {
        workloads.into_iter().any(|w| self.wants(w))
    }
}
