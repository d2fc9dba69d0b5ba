//! The two ways rows are printed: a table for people, or one JSON object per line for
//! scripts that compare runs.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::row::{Figures, Row};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    /// One object per row: `workload`, `pyproc_<unit>` and `native_<unit>` (or `baseline`
    /// and `baseline_<unit>` for a row measured beside another program, or `value_<unit>`
    /// for a figure with nothing to compare against) and `ratio`.
    Json,
}

/// Prints each row as it is measured, so a long run shows progress.
#[derive(Debug, Default)]
pub struct Report {
    format: Format,
    header_printed: bool,
}

const WORKLOAD_WIDTH: usize = 60;

impl Report {
    pub fn new(format: Format) -> Report {
        Report { format, header_printed: false }
    }

    /// A remark for people (engine load time, a run's set-up): table only, since a JSON
    /// reader expects rows alone.
    pub fn note(&mut self, text: &str) {
        if self.format == Format::Table {
            println!("{text}");
        }
    }

    pub fn row(&mut self, row: &Row) {
        match self.format {
            Format::Table => {
                if !self.header_printed {
                    println!("{:<WORKLOAD_WIDTH$} {:>16} {:>16} {:>8}", "workload (1024 samples per block, 30 kHz)", "pyproc", "native CPython", "ratio");
                    self.header_printed = true;
                }
                println!("{}", table_line(row));
            }
            Format::Json => println!("{}", json_line(row)),
        }
    }
}

fn table_line(row: &Row) -> String {
    let unit = row.unit.label();
    let workload = &row.workload;
    match row.figures {
        Figures::Versus { pyproc, native } => {
            let ratio = row.ratio().unwrap_or(f64::NAN);
            format!("{workload:<WORKLOAD_WIDTH$} {pyproc:>10.1} {unit:<5} {native:>10.1} {unit:<5} {ratio:>7.2}x")
        }
        Figures::Beside { pyproc, baseline, name } => {
            let ratio = row.ratio().unwrap_or(f64::NAN);
            format!("{:<WORKLOAD_WIDTH$} {pyproc:>10.1} {unit:<5} {baseline:>10.1} {unit:<5} {ratio:>7.2}x", format!("{workload} (vs {name})"))
        }
        Figures::Alone(value) => format!("{workload:<WORKLOAD_WIDTH$} {value:>10.1} {unit:<5}"),
    }
}

/// The row as one line of JSON, the unit in every figure's key so a reader cannot mix
/// them up, the keys in the table's order.
pub fn json_line(row: &Row) -> String {
    serde_json::to_string(&JsonRow(row)).expect("a row is strings and numbers")
}

struct JsonRow<'a>(&'a Row);

impl Serialize for JsonRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let row = self.0;
        let unit = row.unit.suffix();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("workload", &row.workload)?;
        match row.figures {
            Figures::Versus { pyproc, native } => {
                map.serialize_entry(&format!("pyproc_{unit}"), &rounded(pyproc))?;
                map.serialize_entry(&format!("native_{unit}"), &rounded(native))?;
            }
            Figures::Beside { pyproc, baseline, name } => {
                map.serialize_entry(&format!("pyproc_{unit}"), &rounded(pyproc))?;
                map.serialize_entry("baseline", name)?;
                map.serialize_entry(&format!("baseline_{unit}"), &rounded(baseline))?;
            }
            Figures::Alone(value) => map.serialize_entry(&format!("value_{unit}"), &rounded(value))?,
        }
        map.serialize_entry("ratio", &row.ratio().map(rounded))?;
        map.end()
    }
}

/// Three decimals are below the noise of every figure here.
fn rounded(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::Unit;

    #[test]
    fn a_json_row_names_its_unit_in_every_key() {
        let row = Row::versus("band-pass, 1 ch", Unit::Micros, 100.0, 50.0);
        let json = json_line(&row);
        assert_eq!(json, r#"{"workload":"band-pass, 1 ch","pyproc_us":100.0,"native_us":50.0,"ratio":2.0}"#);
    }

    #[test]
    fn a_json_row_beside_another_program_names_it() {
        let row = Row::beside("pyproc run", Unit::Millis, 900.0, "cp -r", 450.0);
        assert_eq!(json_line(&row), r#"{"workload":"pyproc run","pyproc_ms":900.0,"baseline":"cp -r","baseline_ms":450.0,"ratio":2.0}"#);
        assert!(table_line(&row).starts_with("pyproc run (vs cp -r) "), "{}", table_line(&row));
    }

    #[test]
    fn a_json_row_without_native_has_a_value_and_no_ratio() {
        let row = Row::alone("copy alone", Unit::MiB, 19.5);
        let json = json_line(&row);
        assert_eq!(json, r#"{"workload":"copy alone","value_mib":19.5,"ratio":null}"#);
    }
}
