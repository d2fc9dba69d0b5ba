//! What the command being run lets the guest answer, so the door checks each answer
//! against what it asked for before it uses it: a BUFFER answers a RESERVE and holds at
//! least what it asked for; a spike names a channel of the stream (callers index their
//! blocks with it); a spike without its own waveform peaks inside the block being
//! processed (callers cut the waveform from that block and the next).

use crate::wire::command::Command;
use crate::wire::refusal::{BadAnswer, Refusal};

/// The door's view of the command in flight and of the stream.
#[derive(Debug, Default, Clone)]
pub(crate) struct InFlight {
    /// Channels of the running `PyProcessor`'s stream (0 before the first load).
    channels: u32,
    asked: Asked,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// Nothing a BUFFER or a block-bound spike may answer.
    #[default]
    Nothing,
    /// RESERVE: a buffer of at least this many floats.
    Buffer(u32),
    /// PROCESS: the block's samples, `first .. first + samples`.
    Block { first: i64, samples: u32 },
    /// LOAD or SET_STREAM: a `PyProcessor` for this many channels, if it is made.
    Stream(u32),
}

impl InFlight {
    /// The door hands `command` to the guest.
    pub fn starts(&mut self, command: &Command) {
        self.asked = match command {
            Command::Reserve { floats } => Asked::Buffer(*floats),
            Command::Process { first_sample, num_samples, .. } => Asked::Block { first: *first_sample, samples: *num_samples },
            Command::Load { num_channels, .. } | Command::SetStream { num_channels, .. } => Asked::Stream(*num_channels),
            _ => Asked::Nothing,
        };
    }

    /// The command succeeded: a new `PyProcessor`'s stream counts from now on.
    pub fn done(&mut self) {
        if let Asked::Stream(channels) = self.asked {
            self.channels = channels;
        }
        self.asked = Asked::Nothing;
    }

    /// The command failed: the running `PyProcessor` (and its stream) stays.
    pub fn failed(&mut self) {
        self.asked = Asked::Nothing;
    }

    /// Whether the command makes a new `PyProcessor` (LOAD, SET_STREAM). The runtime has
    /// put it in place by the time it answers, so a refused answer cannot leave the old one
    /// running as the host would believe: the interpreter is stopped instead, and its
    /// restart loads the script for the stream the host has.
    pub fn makes_stream(&self) -> bool {
        matches!(self.asked, Asked::Stream(_))
    }

    /// Whether a BUFFER of `capacity` floats answers the command.
    pub fn check_buffer(&self, capacity: u32) -> Result<(), Refusal> {
        match self.asked {
            Asked::Buffer(asked) if capacity < asked => Err(Refusal::SmallBuffer { asked, got: capacity }),
            Asked::Buffer(_) => Ok(()),
            _ => Err(Refusal::UnaskedBuffer),
        }
    }

    /// Whether the stream can take a spike on `channel` at `sample`, which carries its own
    /// waveform or not.
    pub fn check_spike(&self, sample: i64, channel: u32, has_waveform: bool) -> Result<(), BadAnswer> {
        // A LOAD or SET_STREAM answers for the stream it makes.
        let channels = match self.asked {
            Asked::Stream(channels) => channels,
            _ => self.channels,
        };
        if channel >= channels {
            return Err(BadAnswer::SpikeChannel { channel, channels });
        }
        if has_waveform {
            return Ok(());
        }
        match self.asked {
            Asked::Block { first, samples } => {
                let end = first.saturating_add(i64::from(samples));
                if (first..end).contains(&sample) {
                    Ok(())
                } else {
                    Err(BadAnswer::SpikeOutsideBlock { sample, first, last: end.saturating_sub(1) })
                }
            }
            _ => Err(BadAnswer::SpikeWithoutBlock { sample }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::batch::BatchSummary;

    fn process(first_sample: i64, num_samples: u32) -> Command {
        Command::Process { first_sample, num_samples, batch: BatchSummary::default() }
    }

    #[test]
    fn a_buffer_answers_only_a_reserve_and_holds_what_it_asked_for() {
        let mut in_flight = InFlight::default();
        assert_eq!(in_flight.check_buffer(1024), Err(Refusal::UnaskedBuffer));
        in_flight.starts(&Command::Reserve { floats: 1000 });
        assert_eq!(in_flight.check_buffer(999), Err(Refusal::SmallBuffer { asked: 1000, got: 999 }));
        assert_eq!(in_flight.check_buffer(1000), Ok(()));
        in_flight.done();
        assert_eq!(in_flight.check_buffer(1000), Err(Refusal::UnaskedBuffer));
    }

    #[test]
    fn spikes_name_a_channel_of_the_stream_the_last_successful_load_made() {
        let mut in_flight = InFlight::default();
        in_flight.starts(&Command::SetStream { num_channels: 4, sample_rate: 1.0 });
        in_flight.done();
        in_flight.starts(&process(0, 10));
        assert_eq!(in_flight.check_spike(5, 3, false), Ok(()));
        assert_eq!(in_flight.check_spike(5, 4, true), Err(BadAnswer::SpikeChannel { channel: 4, channels: 4 }));
        assert!(in_flight.check_spike(5, u32::MAX, true).is_err());
        // A failed SET_STREAM keeps the old stream.
        in_flight.starts(&Command::SetStream { num_channels: 64, sample_rate: 1.0 });
        assert!(in_flight.makes_stream());
        in_flight.failed();
        assert!(!in_flight.makes_stream());
        in_flight.starts(&process(0, 10));
        assert!(in_flight.check_spike(5, 10, true).is_err());
    }

    #[test]
    fn a_spike_without_a_waveform_peaks_inside_the_block() {
        let mut in_flight = InFlight::default();
        in_flight.starts(&Command::SetStream { num_channels: 1, sample_rate: 1.0 });
        in_flight.done();
        in_flight.starts(&process(100, 10));
        assert_eq!(in_flight.check_spike(100, 0, false), Ok(()));
        assert_eq!(in_flight.check_spike(109, 0, false), Ok(()));
        assert_eq!(in_flight.check_spike(110, 0, false), Err(BadAnswer::SpikeOutsideBlock { sample: 110, first: 100, last: 109 }));
        assert_eq!(in_flight.check_spike(i64::MIN, 0, true), Ok(()), "with its own waveform, anywhere");
        in_flight.starts(&process(i64::MAX - 1, 10));
        assert_eq!(in_flight.check_spike(i64::MAX - 1, 0, false), Ok(()));
        in_flight.starts(&Command::Call(crate::callback::Callback::StartAcquisition));
        assert_eq!(in_flight.check_spike(0, 0, false), Err(BadAnswer::SpikeWithoutBlock { sample: 0 }));
    }
}
