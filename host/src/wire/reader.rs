//! Reading a guest frame's fields, each bounds-checked: every decoder of guest frames
//! (`request.rs`, `net_frame.rs`) reads through this one.

use crate::callback::Callback;
use crate::wire::request::FrameError;

/// The fields after a frame's opcode, read front to back.
pub(crate) struct FrameReader<'a> {
    pub rest: &'a [u8],
    op: u8,
    len: usize,
}

impl<'a> FrameReader<'a> {
    /// The body of `frame`, whose first byte is the opcode `op`.
    pub fn new(op: u8, body: &'a [u8], frame_len: usize) -> Self {
        FrameReader { rest: body, op, len: frame_len }
    }

    pub fn truncated(&self) -> FrameError {
        FrameError::Truncated { op: self.op, len: self.len }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        if n > self.rest.len() {
            return Err(self.truncated());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, FrameError> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, FrameError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }

    pub fn u32(&mut self) -> Result<u32, FrameError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    pub fn f64(&mut self) -> Result<f64, FrameError> {
        Ok(f64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }

    /// A `str` field: u32 byte length, then UTF-8.
    pub fn str(&mut self) -> Result<&'a str, FrameError> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| FrameError::NotUtf8)
    }

    pub fn callback(&mut self) -> Result<Callback, FrameError> {
        let code = self.u8()?;
        Callback::from_code(code).ok_or(FrameError::UnknownCallback(code))
    }

    /// `value` if every byte was read.
    pub fn finish<T>(self, value: T) -> Result<T, FrameError> {
        match self.rest.len() {
            0 => Ok(value),
            n => Err(FrameError::Trailing(n)),
        }
    }
}
