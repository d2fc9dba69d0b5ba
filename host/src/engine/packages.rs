//! The Python packages a script can import, as the pinned wheel lists them.
//!
//! The wheel's `MANIFEST` names every package its interpreter was built from
//! (`package NAME VERSION`), C libraries and build tools included. A package counts as
//! importable when the stdlib zip holds its `NAME-VERSION.dist-info` folder; its import
//! name is its own name with `-` as `_`, except for the few in [`IMPORT_NAMES`]. The list
//! is made once per install (`package_data.rs` writes it beside the zip, where the guest's
//! error messages read it) and is what [`Engine::packages`](crate::Engine::packages) and
//! the README show.

use std::collections::HashSet;

/// A package a script can import from the pinned interpreter.
///
/// ```no_run
/// let engine = pyproc_host::Engine::open()?;
/// for package in engine.packages() {
///     println!("import {}  ({} {})", package.import_name, package.distribution, package.version);
/// }
/// # Ok::<(), pyproc_host::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Package {
    /// What a script imports: `numpy`, `sklearn`, `PIL`.
    pub import_name: String,
    /// The name pip and the wheel's MANIFEST give it: `numpy`, `scikit-learn`, `pillow`.
    pub distribution: String,
    pub version: String,
}

/// Distributions imported under another name than their own (with `-` as `_`).
const IMPORT_NAMES: &[(&str, &str)] = &[
    ("beautifulsoup4", "bs4"),
    ("fonttools", "fontTools"),
    ("pillow", "PIL"),
    ("python-dateutil", "dateutil"),
    ("pyyaml", "yaml"),
    ("scikit-learn", "sklearn"),
];

/// The importable packages among the MANIFEST's, sorted by import name (case ignored).
/// `zip_names` are the stdlib zip's entry names.
pub(crate) fn from_manifest<'a>(manifest: &str, zip_names: impl IntoIterator<Item = &'a str>) -> Vec<Package> {
    let dist_infos: HashSet<String> = zip_names
        .into_iter()
        .filter_map(|name| name.split('/').next()?.strip_suffix(".dist-info"))
        .filter_map(|folder| folder.rsplit_once('-'))
        .map(|(name, version)| format!("{} {version}", normalize(name)))
        .collect();
    let mut packages: Vec<Package> = manifest
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == "package").then_some(())?;
            let (distribution, version) = (words.next()?, words.next()?);
            dist_infos.contains(&format!("{} {version}", normalize(distribution))).then(|| Package {
                import_name: import_name(distribution),
                distribution: distribution.to_owned(),
                version: version.to_owned(),
            })
        })
        .collect();
    packages.sort_by_key(|p| p.import_name.to_lowercase());
    packages
}

fn import_name(distribution: &str) -> String {
    IMPORT_NAMES
        .iter()
        .find(|(name, _)| normalize(name) == normalize(distribution))
        .map_or_else(|| distribution.replace(['-', '.'], "_"), |(_, import)| (*import).to_owned())
}

/// A distribution name as wheels write it in folder names: lower case, each run of `-`,
/// `_` and `.` one `_`.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('_') {
                out.push('_');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The list as written beside the stdlib zip: one `import_name distribution version` a line.
pub(crate) fn to_text(packages: &[Package]) -> String {
    packages.iter().map(|p| format!("{} {} {}\n", p.import_name, p.distribution, p.version)).collect()
}

/// Reads what [`to_text`] wrote; None if a line does not have its three words.
pub(crate) fn from_text(text: &str) -> Option<Vec<Package>> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut words = line.split_whitespace();
            let package = Package {
                import_name: words.next()?.to_owned(),
                distribution: words.next()?.to_owned(),
                version: words.next()?.to_owned(),
            };
            words.next().is_none().then_some(package)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "python 3.15.0\npackage numpy 2.5.2\npackage zlib 1.3.1\npackage scikit-learn 1.9.1\n\
                            package python-dateutil 2.9.0.post0\npackage six 1.17.0\npin abc numpy-2.5.2.tar.gz\n";

    #[test]
    fn a_manifest_package_is_listed_when_the_zip_holds_its_dist_info_and_under_its_import_name() {
        let zip = [
            "numpy/__init__.pyc",
            "numpy-2.5.2.dist-info/METADATA",
            "scikit_learn-1.9.1.dist-info/METADATA",
            "python_dateutil-2.9.0.post0.dist-info/METADATA",
            "six-1.16.0.dist-info/METADATA",
        ];
        let names: Vec<(String, String, String)> =
            from_manifest(MANIFEST, zip).into_iter().map(|p| (p.import_name, p.distribution, p.version)).collect();
        let expected = [("dateutil", "python-dateutil", "2.9.0.post0"), ("numpy", "numpy", "2.5.2"), ("sklearn", "scikit-learn", "1.9.1")];
        let expected: Vec<(String, String, String)> = expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
        // zlib is a C library (no dist-info); six's dist-info has another version.
        assert_eq!(names, expected);
    }

    #[test]
    fn the_written_list_reads_back_and_a_damaged_one_does_not() {
        let packages = from_manifest(MANIFEST, ["numpy-2.5.2.dist-info/METADATA", "scikit_learn-1.9.1.dist-info/METADATA"]);
        assert_eq!(from_text(&to_text(&packages)), Some(packages));
        assert_eq!(from_text("numpy 2.5.2\n"), None);
    }
}
