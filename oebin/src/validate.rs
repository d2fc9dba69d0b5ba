//! What `structure.oebin` must say before any data file is opened: folder names that are
//! relative paths of plain components, stream names that can be part of a folder name,
//! sample rates and `bit_volts` that are finite and above 0, and as many channels listed as
//! declared. Each refusal names the file and the field (`continuous[0].sample_rate`).

use std::path::Path;

use crate::containment::plain_relative;
use crate::error::{OebinError, Result};
use crate::structure::{ChannelInfo, Structure};

pub(crate) fn validate(structure: &Structure) -> Result<()> {
    let field = Field { path: &structure.path };
    for (i, c) in structure.continuous.iter().enumerate() {
        let at = |name: &str| format!("continuous[{i}].{name}");
        field.folder(at("folder_name"), &c.folder_name)?;
        if c.stream_name.contains(['/', '\0']) {
            return Err(field.bad(at("stream_name"), format!("{:?}", c.stream_name), "contains \"/\" or NUL; a stream name is part of folder names"));
        }
        if !(c.sample_rate.is_finite() && c.sample_rate > 0.0) {
            return Err(field.bad(at("sample_rate"), c.sample_rate, "must be a finite number of samples per second above 0"));
        }
        if c.num_channels == 0 {
            return Err(field.bad(at("num_channels"), 0, "a stream needs at least one channel"));
        }
        if c.channels.len() != c.num_channels {
            let problem = format!("does not match the {} channels listed in {}", c.channels.len(), at("channels"));
            return Err(field.bad(at("num_channels"), c.num_channels, &problem));
        }
        field.bit_volts(&at("channels"), &c.channels)?;
    }
    for (i, e) in structure.events.iter().enumerate() {
        field.folder(format!("events[{i}].folder_name"), &e.folder_name)?;
    }
    for (i, s) in structure.spikes.iter().enumerate() {
        field.folder(format!("spikes[{i}].folder"), &s.folder)?;
        field.bit_volts(&format!("spikes[{i}].source_channels"), &s.source_channels)?;
    }
    Ok(())
}

struct Field<'a> {
    path: &'a Path,
}

impl Field<'_> {
    fn bad(&self, field: String, value: impl std::fmt::Display, problem: &str) -> OebinError {
        OebinError::BadField { path: self.path.to_path_buf(), field, value: value.to_string(), problem: problem.to_owned() }
    }

    fn folder(&self, field: String, value: &str) -> Result<()> {
        plain_relative(value).map(drop).map_err(|problem| self.bad(field, format!("{value:?}"), &problem))
    }

    fn bit_volts(&self, list: &str, channels: &[ChannelInfo]) -> Result<()> {
        match channels.iter().position(|c| !(c.bit_volts.is_finite() && c.bit_volts > 0.0)) {
            Some(j) => Err(self.bad(format!("{list}[{j}].bit_volts"), channels[j].bit_volts, "must be a finite number of µV per int16 step above 0")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::structure::Structure;

    fn good() -> Value {
        json!({
            "continuous": [{"folder_name": "S-100.s/", "sample_rate": 30000.0, "stream_name": "s", "num_channels": 2,
                            "channels": [{"channel_name": "CH1", "bit_volts": 0.195}, {"channel_name": "CH2", "bit_volts": 0.195}]}],
            "events": [{"folder_name": "S-100.s/TTL/", "channel_name": "TTL", "stream_name": "s"}],
            "spikes": [{"name": "T1", "folder": "S-100.s/T1/", "stream_name": "s", "num_channels": 1,
                        "source_channels": [{"channel_name": "CH1", "bit_volts": 0.195}]}],
        })
    }

    /// The error for `good()` with the value at `pointer` replaced.
    fn refused(pointer: &str, value: Value) -> String {
        let mut json = good();
        *json.pointer_mut(pointer).unwrap() = value;
        Structure::from_json("rec/structure.oebin".into(), json).err().map(|e| e.to_string()).unwrap_or_else(|| panic!("{pointer} accepted"))
    }

    #[test]
    fn a_good_structure_is_accepted() {
        Structure::from_json("rec/structure.oebin".into(), good()).unwrap();
    }

    #[test]
    fn folder_names_that_leave_the_recording_are_refused_naming_the_field() {
        let err = refused("/continuous/0/folder_name", json!("../../x"));
        assert!(err.starts_with("rec/structure.oebin: continuous[0].folder_name \"../../x\": climbs out"), "{err}");
        assert!(refused("/events/0/folder_name", json!("/home/me/TTL")).contains("events[0].folder_name \"/home/me/TTL\": is an absolute path"));
        assert!(refused("/spikes/0/folder", json!("")).contains("spikes[0].folder \"\": is empty"));
    }

    #[test]
    fn rates_and_scales_must_be_finite_and_above_zero() {
        assert!(refused("/continuous/0/sample_rate", json!(0.0)).contains("continuous[0].sample_rate 0: must be"));
        assert!(refused("/continuous/0/sample_rate", json!(-30000.0)).contains("continuous[0].sample_rate -30000: must be"));
        assert!(refused("/continuous/0/channels/1/bit_volts", json!(0.0)).contains("continuous[0].channels[1].bit_volts 0: must be"));
        assert!(refused("/continuous/0/channels/0/bit_volts", json!(-0.195)).contains("continuous[0].channels[0].bit_volts -0.195"));
        assert!(refused("/spikes/0/source_channels/0/bit_volts", json!(-1.0)).contains("spikes[0].source_channels[0].bit_volts -1"));
    }

    #[test]
    fn channel_counts_must_match_the_list_and_not_be_zero() {
        assert!(refused("/continuous/0/num_channels", json!(3)).contains("continuous[0].num_channels 3: does not match the 2 channels listed"));
        let mut json = good();
        json["continuous"][0]["num_channels"] = json!(0);
        json["continuous"][0]["channels"] = json!([]);
        let err = Structure::from_json("rec/structure.oebin".into(), json).unwrap_err().to_string();
        assert!(err.contains("continuous[0].num_channels 0: a stream needs at least one channel"), "{err}");
    }

    #[test]
    fn a_stream_name_with_a_slash_is_refused() {
        assert!(refused("/continuous/0/stream_name", json!("a/../../b")).contains("continuous[0].stream_name \"a/../../b\": contains \"/\""));
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_naming_the_field() {
        let err = refused("/continuous/0/sample_rate", json!("fast"));
        assert!(err.contains("continuous[0].sample_rate") && err.contains("invalid type"), "{err}");
    }
}
