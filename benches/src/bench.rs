//! One run of the benchmark: the engine, which rows are wanted, and where rows go.

use pyproc_host::Engine;

use crate::report::Report;
use crate::row::Row;
use crate::selection::Selection;

pub struct Bench {
    engine: Engine,
    selection: Selection,
    report: Report,
}

impl Bench {
    pub fn new(engine: Engine, selection: Selection, report: Report) -> Bench {
        Bench { engine, selection, report }
    }

    /// The engine every workload runs on unless it asks for another.
    pub fn engine(&self) -> Engine {
        self.engine.clone()
    }

    /// Whether the row named `workload` is to be measured.
    pub fn wants(&self, workload: &str) -> bool {
        self.selection.wants(workload)
    }

    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    pub fn record(&mut self, row: Row) {
        self.report.row(&row);
    }

    pub fn note(&mut self, text: &str) {
        self.report.note(text);
    }
}
