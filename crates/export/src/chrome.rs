//! The Chrome trace event JSON writer: `{"displayTimeUnit":"ns","traceEvents":[…]}`,
//! one event a line, written as the walk produces them (`B`/`E` spans, `i` instants,
//! `C` counter samples, `M` metadata naming the process and each thread). Timestamps are
//! microseconds with three decimals, so no nanosecond is rounded away.

use crate::core::{
    Arg, Close, Emit, FIRST_TID, Item, Marker, PID, PROCESS_NAME, Shown, Track, Value,
};
use ada::Detail;
use std::io::{self, Write};

/// Writes Chrome trace events to `out`.
#[derive(Debug)]
pub(crate) struct ChromeWriter<W: Write> {
    out: W,
}

impl<W: Write> ChromeWriter<W> {
    /// Starts the JSON object and names the process.
    pub(crate) fn new(mut out: W) -> io::Result<Self> {
        out.write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
        out.write_all(b"{\"ph\":\"M\",\"pid\":")?;
        let mut writer = Self { out };
        writer.number(u64::from(PID))?;
        writer
            .out
            .write_all(b",\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":")?;
        writer.string(PROCESS_NAME)?;
        writer.out.write_all(b"}}")?;
        Ok(writer)
    }

    fn number(&mut self, n: u64) -> io::Result<()> {
        self.out.write_all(itoa::Buffer::new().format(n).as_bytes())
    }

    /// `ns` as microseconds with exactly three decimals.
    fn timestamp(&mut self, ns: u64) -> io::Result<()> {
        self.number(ns / 1000)?;
        let fraction = ns % 1000;
        // Each digit is below 10: the casts cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let digits = [
            b'.',
            b'0' + (fraction / 100) as u8,
            b'0' + (fraction / 10 % 10) as u8,
            b'0' + (fraction % 10) as u8,
        ];
        self.out.write_all(&digits)
    }

    /// `"0x…"`.
    fn hex(&mut self, n: u64) -> io::Result<()> {
        self.out.write_all(b"\"")?;
        self.hex_bare(n)?;
        self.out.write_all(b"\"")
    }

    /// A JSON string, escaped.
    fn string(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(b"\"")?;
        let bytes = text.as_bytes();
        let mut start = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            let escaped: &[u8] = match byte {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => b"",
                _ => continue,
            };
            self.out.write_all(&bytes[start..at])?;
            if escaped.is_empty() {
                let hex = b"0123456789abcdef";
                self.out.write_all(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    hex[usize::from(byte >> 4)],
                    hex[usize::from(byte & 0xf)],
                ])?;
            } else {
                self.out.write_all(escaped)?;
            }
            start = at + 1;
        }
        self.out.write_all(&bytes[start..])?;
        self.out.write_all(b"\"")
    }

    fn value(&mut self, value: &Value<'_>) -> io::Result<()> {
        match value {
            Value::U64(n) => self.number(*n),
            Value::I64(n) => self
                .out
                .write_all(itoa::Buffer::new().format(*n).as_bytes()),
            // JSON has no NaN or infinities: those are written as strings.
            Value::F64(x) if x.is_finite() => write!(self.out, "{x:?}"),
            Value::F64(x) => self.string(&x.to_string()),
            Value::Bool(b) => self.out.write_all(if *b { b"true" } else { b"false" }),
            Value::Hex(n) => self.hex(*n),
            Value::Str(text) => self.string(text),
        }
    }

    /// `,"args":{…}` (nothing for no args).
    fn args<'a>(&mut self, args: impl IntoIterator<Item = (Arg, Value<'a>)>) -> io::Result<()> {
        self.named_args(args.into_iter().map(|(arg, value)| (arg.name(), value)))
    }

    /// `,"args":{…}` with keys as given (nothing for no args).
    fn named_args<'k, 'a>(
        &mut self,
        args: impl IntoIterator<Item = (&'k str, Value<'a>)>,
    ) -> io::Result<()> {
        let mut first = true;
        for (key, value) in args {
            self.out
                .write_all(if first { b",\"args\":{" } else { b"," })?;
            first = false;
            self.string(key)?;
            self.out.write_all(b":")?;
            self.value(&value)?;
        }
        if first {
            Ok(())
        } else {
            self.out.write_all(b"}")
        }
    }

    /// `,"cat":…,"name":…,"args":{"argument":…, the event's args}`.
    fn event(&mut self, event: &Shown<'_>) -> io::Result<()> {
        self.out.write_all(b",\"cat\":")?;
        self.string(event.category())?;
        self.out.write_all(b",\"name\":")?;
        self.string(&event.name)?;
        let argument = [(Arg::Argument.name(), Value::U64(event.argument))];
        let args = event
            .args
            .iter()
            .map(|(key, value)| (key.as_ref(), value.clone()));
        self.named_args(argument.into_iter().chain(args))
    }

    /// `,\n{"ph":"P","pid":1,"tid":T,"ts":…` for an event on a thread's track.
    fn start(&mut self, phase: &[u8], tid: u32, ts: u64) -> io::Result<()> {
        self.out.write_all(b",\n{\"ph\":\"")?;
        self.out.write_all(phase)?;
        self.out.write_all(b"\",\"pid\":")?;
        self.number(u64::from(PID))?;
        self.out.write_all(b",\"tid\":")?;
        self.number(u64::from(tid))?;
        self.out.write_all(b",\"ts\":")?;
        self.timestamp(ts)
    }

    /// `,"cat":"…","name":"fn 0x…"`.
    fn function_name(&mut self, category: &str, prefix: &str, function: u64) -> io::Result<()> {
        self.out.write_all(b",\"cat\":\"")?;
        self.out.write_all(category.as_bytes())?;
        self.out.write_all(b"\",\"name\":\"")?;
        self.out.write_all(prefix.as_bytes())?;
        self.out.write_all(b"fn ")?;
        self.hex_bare(function)?;
        self.out.write_all(b"\"")
    }

    /// `0x…` without quotes.
    fn hex_bare(&mut self, n: u64) -> io::Result<()> {
        let mut digits = [0_u8; 18];
        let mut at = digits.len();
        let mut rest = n;
        loop {
            at -= 1;
            digits[at] = b"0123456789abcdef"[(rest & 0xf) as usize];
            rest >>= 4;
            if rest == 0 {
                break;
            }
        }
        digits[at - 1] = b'x';
        digits[at - 2] = b'0';
        self.out.write_all(&digits[at - 2..])
    }

    fn thread(&mut self, track: &Track) -> io::Result<()> {
        for (name, key) in [("thread_name", "name"), ("thread_sort_index", "sort_index")] {
            self.out.write_all(b",\n{\"ph\":\"M\",\"pid\":")?;
            self.number(u64::from(PID))?;
            self.out.write_all(b",\"tid\":")?;
            self.number(u64::from(track.tid))?;
            self.out.write_all(b",\"name\":\"")?;
            self.out.write_all(name.as_bytes())?;
            self.out.write_all(b"\",\"args\":{\"")?;
            self.out.write_all(key.as_bytes())?;
            self.out.write_all(b"\":")?;
            if key == "name" {
                self.string(&track.name)?;
            } else {
                self.number(u64::from(track.tid - FIRST_TID))?;
            }
            self.out.write_all(b"}}")?;
        }
        Ok(())
    }

    fn detail(&mut self, track: &Track, ts: u64, detail: &Detail) -> io::Result<()> {
        self.start(b"i", track.tid, ts)?;
        self.out.write_all(b",\"s\":\"t\"")?;
        self.function_name("ada.detail", "detail ", detail.function)?;
        self.args(Arg::PAYLOAD.into_iter().zip(detail.payload.map(Value::U64)))?;
        self.out.write_all(b"}")
    }

    fn marker(&mut self, track: Option<&Track>, ts: u64, marker: &Marker) -> io::Result<()> {
        match track {
            Some(track) => {
                self.start(b"i", track.tid, ts)?;
                self.out.write_all(b",\"s\":\"t\"")?;
            }
            None => {
                self.start(b"i", 0, ts)?;
                self.out.write_all(b",\"s\":\"g\"")?;
            }
        }
        self.out.write_all(b",\"cat\":\"ada.marker\",\"name\":")?;
        self.string(&marker.title())?;
        self.args(marker.args())?;
        self.out.write_all(b"}")
    }
}

impl<W: Write> Emit for ChromeWriter<W> {
    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        match item {
            Item::Thread(track) => self.thread(track),
            Item::Begin { track, ts, event } => {
                self.start(b"B", track.tid, ts)?;
                self.event(event)?;
                self.out.write_all(b"}")
            }
            Item::End { track, ts, close } => {
                self.start(b"E", track.tid, ts)?;
                self.args(Close::args(close))?;
                self.out.write_all(b"}")
            }
            Item::Instant { track, ts, event } => {
                self.start(b"i", track.tid, ts)?;
                self.out.write_all(b",\"s\":\"t\"")?;
                self.event(event)?;
                self.out.write_all(b"}")
            }
            Item::Counter { track, ts, event } => {
                // A counter sample: the series is the event's name, its value the
                // argument (Chrome draws counters per process).
                self.start(b"C", track.tid, ts)?;
                self.out.write_all(b",\"cat\":")?;
                self.string(event.category())?;
                self.out.write_all(b",\"name\":")?;
                self.string(&event.name)?;
                self.args([(Arg::Value, Value::U64(event.argument))])?;
                self.out.write_all(b"}")
            }
            Item::Detail { track, ts, detail } => self.detail(track, ts, detail),
            Item::Marker { track, ts, marker } => self.marker(track, ts, marker),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()
    }
}
