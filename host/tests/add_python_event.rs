//! `add_python_event(line, state)` takes and refuses what the original plugin's binding
//! takes and refuses (pybind11 2.10.4 casting to `void addPythonEvent(int line, bool
//! state)`, implicit conversions on), with the same result: the line as the uint8 the C++
//! hands to `TTLEvent::createTTLEvent`, the state as a C++ bool.
//!
//! The `original` column was measured on the original binding: pybind11 2.10.4 built
//! against CPython 3.11 (x86-64 Linux) and numpy 2.4, each row called through it.

mod common;

use common::{engine, Done, Printed};
use ndarray::Array2;
use pyproc_host::{Processor, TtlEvent};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// An event on this line with this state.
    Event(u8, bool),
    /// `TypeError: add_python_event(): incompatible function arguments ...`
    Refused,
}
use Outcome::{Event, Refused};

/// (the call's arguments as Python source, what the original plugin does, what pyproc does)
const ROWS: &[(&str, Outcome, Outcome)] = &[
    // line: a C int, then wrapped into 0-255
    ("3, True", Event(3, true), Event(3, true)),
    ("0, True", Event(0, true), Event(0, true)),
    ("255, True", Event(255, true), Event(255, true)),
    ("256, True", Event(0, true), Event(0, true)),
    ("-1, True", Event(255, true), Event(255, true)),
    ("300, True", Event(44, true), Event(44, true)),
    ("2**31 - 1, True", Event(255, true), Event(255, true)),
    ("-2**31, True", Event(0, true), Event(0, true)),
    ("2**31, True", Refused, Refused),
    ("-2**31 - 1, True", Refused, Refused),
    ("2**64, True", Refused, Refused),
    ("True, True", Event(1, true), Event(1, true)),
    ("False, True", Event(0, true), Event(0, true)),
    ("Color.RED, True", Event(2, true), Event(2, true)),
    ("np.int64(7), True", Event(7, true), Event(7, true)),
    ("np.uint8(200), True", Event(200, true), Event(200, true)),
    ("np.int32(-3), True", Event(253, true), Event(253, true)),
    ("np.uint64(2**63), True", Refused, Refused),
    ("Index(9), True", Event(9, true), Event(9, true)),
    ("Index(2**40), True", Refused, Refused),
    ("np.array(5), True", Event(5, true), Event(5, true)),
    // not an int: floats refused outright, other numbers through int()
    ("2.0, True", Refused, Refused),
    ("2.5, True", Refused, Refused),
    ("float('nan'), True", Refused, Refused),
    ("np.float64(2.0), True", Refused, Refused),
    ("np.float32(2.9), True", Event(2, true), Event(2, true)),
    ("np.float32(-1.5), True", Event(255, true), Event(255, true)),
    ("np.float16(3.5), True", Event(3, true), Event(3, true)),
    ("np.float32(1e20), True", Refused, Refused),
    ("np.float32('nan'), True", Refused, Refused),
    ("np.array(5.5), True", Event(5, true), Event(5, true)),
    ("np.bool_(True), True", Event(1, true), Event(1, true)),
    ("Decimal('3.7'), True", Event(3, true), Event(3, true)),
    ("Fraction(7, 2), True", Event(3, true), Event(3, true)),
    ("IntOnly(4), True", Event(4, true), Event(4, true)),
    ("FloatOnly(), True", Refused, Refused),
    ("1 + 0j, True", Refused, Refused),
    ("'1', True", Refused, Refused),
    ("b'1', True", Refused, Refused),
    ("None, True", Refused, Refused),
    ("[1], True", Refused, Refused),
    ("(1,), True", Refused, Refused),
    ("object(), True", Refused, Refused),
    ("np.array([1, 2]), True", Refused, Refused),
    // state: True/False, None as False, else anything with __bool__ (nb_bool)
    ("1, False", Event(1, false), Event(1, false)),
    ("1, None", Event(1, false), Event(1, false)),
    ("1, 0", Event(1, false), Event(1, false)),
    ("1, 1", Event(1, true), Event(1, true)),
    ("1, 2", Event(1, true), Event(1, true)),
    ("1, -1", Event(1, true), Event(1, true)),
    ("1, 0.0", Event(1, false), Event(1, false)),
    ("1, 0.5", Event(1, true), Event(1, true)),
    ("1, float('nan')", Event(1, true), Event(1, true)),
    ("1, 0j", Event(1, false), Event(1, false)),
    ("1, 1 + 0j", Event(1, true), Event(1, true)),
    ("1, Decimal(0)", Event(1, false), Event(1, false)),
    ("1, Fraction(1, 3)", Event(1, true), Event(1, true)),
    ("1, Color.RED", Event(1, true), Event(1, true)),
    ("1, np.bool_(False)", Event(1, false), Event(1, false)),
    ("1, np.True_", Event(1, true), Event(1, true)),
    ("1, np.int64(0)", Event(1, false), Event(1, false)),
    ("1, np.float32(3)", Event(1, true), Event(1, true)),
    ("1, np.array([True])", Event(1, true), Event(1, true)),
    ("1, Truthy()", Event(1, true), Event(1, true)),
    ("1, np.array([1, 0])", Refused, Refused),
    ("1, BadBool()", Refused, Refused),
    ("1, Sized()", Refused, Refused),
    ("1, 'on'", Refused, Refused),
    ("1, ''", Refused, Refused),
    ("1, [1]", Refused, Refused),
    ("1, []", Refused, Refused),
    ("1, ()", Refused, Refused),
    ("1, {}", Refused, Refused),
    ("1, object()", Refused, Refused),
    // how many arguments, and keywords: the original names neither (arg0, arg1); pyproc
    // also takes `line=` and `state=`, as it documents them
    ("1", Refused, Refused),
    ("", Refused, Refused),
    ("1, True, 5, 6", Refused, Refused),
    ("1, True, bogus=1", Refused, Refused),
    ("line=2, state=True", Refused, Event(2, true)),
];

/// Python helpers the rows use, beside numpy, Decimal and Fraction.
const HELPERS: &str = r#"
import enum
from decimal import Decimal
from fractions import Fraction
import numpy as np

class Index:
    def __init__(self, v): self.v = v
    def __index__(self): return self.v
class IntOnly:
    def __init__(self, v): self.v = v
    def __int__(self): return self.v
class FloatOnly:
    def __float__(self): return 4.0
class Sized:
    def __len__(self): return 1
class Truthy:
    def __bool__(self): return True
class BadBool:
    def __bool__(self): raise ValueError("no")
class Color(enum.IntEnum):
    RED = 2
"#;

/// A script that makes row `data[0, 0]`'s call in `process`; a refusal is printed.
fn script() -> String {
    let calls: Vec<String> = ROWS.iter().map(|(args, _, _)| format!("    lambda p: p.add_python_event({args}),\n")).collect();
    format!(
        "{HELPERS}\nCALLS = [\n{}]\n\n\
         class PyProcessor:\n\
         \x20   def __init__(self, processor, num_channels, sample_rate):\n\
         \x20       self.processor = processor\n\
         \x20   def process(self, data):\n\
         \x20       try:\n\
         \x20           CALLS[int(data[0, 0])](self.processor)\n\
         \x20       except TypeError as e:\n\
         \x20           print('refused:', str(e).replace('\\n', ' | '))\n",
        calls.concat()
    )
}

#[test]
fn add_python_event_converts_its_arguments_as_the_original_plugins_binding() {
    let printed = Printed::default();
    let mut p = Processor::builder_for_source(&engine(), "conversions.py", script()).stream(1, 30_000.0).output(printed.sink()).build().unwrap();
    let mut differ = Vec::new();
    for (row, (args, _original, expected)) in ROWS.iter().enumerate() {
        let mut block = Array2::from_elem((1, 4), row as f32);
        let events = p.process(block.view_mut(), row as i64 * 4).done().events.to_vec();
        let said = printed.take();
        let got = match (events.as_slice(), said.as_slice()) {
            ([TtlEvent { sample_number, line, state }], []) if *sample_number == row as i64 * 4 => Event(*line, *state),
            ([], [refusal]) => {
                assert!(
                    refusal.starts_with("refused: add_python_event(): incompatible function arguments. The following argument types are supported:")
                        && refusal.contains("Invoked with: <oe_pyprocessor.PythonProcessor>"),
                    "add_python_event({args}): {refusal}"
                );
                Refused
            }
            other => panic!("add_python_event({args}): {other:?}"),
        };
        if got != *expected {
            differ.push(format!("add_python_event({args}): expected {expected:?}, got {got:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn pyproc_differs_from_the_original_only_where_it_adds_keywords() {
    let differing: Vec<&str> = ROWS.iter().filter(|(_, original, pyproc)| original != pyproc).map(|(args, _, _)| *args).collect();
    assert_eq!(differing, ["line=2, state=True"]);
}

#[test]
fn a_refusal_says_which_argument_and_why() {
    let printed = Printed::default();
    let source = format!(
        "{HELPERS}\nclass PyProcessor:\n    def __init__(self, processor, n, r):\n        self.p = processor\n    def process(self, data):\n        self.p.add_python_event(1.5, 'on')\n"
    );
    let mut p = Processor::builder_for_source(&engine(), "refused.py", source.clone()).output(printed.sink()).build().unwrap();
    let mut block = Array2::<f32>::zeros((1, 4));
    let err = p.process(block.view_mut(), 0).unwrap_err();
    let e = err.python_exception().expect("a Python exception");
    let line = source.lines().position(|l| l.contains("add_python_event(1.5")).unwrap() as u32 + 1;
    assert_eq!((e.type_name.as_str(), e.line), ("TypeError", Some(line)), "{}", e.summary());
    let expected = "add_python_event(): incompatible function arguments. The following argument types are supported:\n    \
        1. (self: oe_pyprocessor.PythonProcessor, line: int, state: bool, sample_number: Optional[int] = None) -> None\n\n\
        Invoked with: <oe_pyprocessor.PythonProcessor>, 1.5, 'on'\n\
        (line 1.5 (float) is not an int that fits a C int: floats are refused, int(x) truncates; state 'on' (str) is not a bool (True or False))";
    assert_eq!(e.message, expected);
}
