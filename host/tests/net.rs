//! Network grants: a script uses the standard `socket` and `select` modules as natively,
//! served by the host for the addresses it was granted, never blocking past its callback's
//! deadline, refused everywhere else with a `PermissionError` naming the flag.
//!
//! Every peer here is a 127.0.0.1 socket the test itself opens; every wait is bounded.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use common::{Done, Printed};
use pyproc_host::{Callback, Denial, Error, Grants, Limits, Processor};

const WAIT: Duration = Duration::from_secs(5);

/// A processor of `source` (with `PORT` replaced by `port`) and what it prints.
fn processor(source: &str, port: u16, grants: Grants, limits: Limits) -> (Processor, Printed) {
    let printed = Printed::default();
    let source = source.replace("PORT", &port.to_string());
    let p = Processor::builder_for_source(&common::engine(), "net_script.py", source)
        .grants(grants)
        .limits(limits)
        .output(printed.sink())
        .build()
        .unwrap();
    (p, printed)
}

fn net(specs: &[String]) -> Grants {
    specs.iter().fold(Grants::none(), |g, spec| g.allow_net(spec).unwrap())
}

fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    listener().1
}

fn accept(listener: &TcpListener) -> TcpStream {
    let (stream, _) = listener.accept().unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

/// Echoes each connection until it ends, on threads of its own.
fn echo_server() -> u16 {
    let (listener, port) = listener();
    std::thread::spawn(move || loop {
        let mut stream = accept(&listener);
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = stream.read(&mut buf) {
                stream.write_all(&buf[..n]).unwrap();
            }
        });
    });
    port
}

#[test]
fn a_tcp_round_trip_through_create_connection_echoes() {
    let port = echo_server();
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        with socket.create_connection(("127.0.0.1", PORT), timeout=5) as s:
            s.sendall(b"ping")
            print("echo", s.recv(100), s.getpeername() == ("127.0.0.1", PORT))
            f = s.makefile("rw", newline="\n")
            f.write("a line\n")
            f.flush()
            print("line", repr(f.readline()))
            f.close()
    def stop_acquisition(self):
        family, kind, proto, _, address = socket.getaddrinfo("localhost", PORT, type=socket.SOCK_STREAM)[0]
        s = socket.socket(family, kind, proto)
        s.settimeout(5)
        print("connect_ex", s.connect_ex(address), address)
        s.send(b"into")
        buffer = bytearray(8)
        print("recv_into", s.recv_into(buffer), bytes(buffer))
        s.close()
"#;
    let (mut p, printed) = processor(source, port, net(&[format!("127.0.0.1:{port}")]), Limits::default());
    p.start_acquisition().unwrap();
    p.stop_acquisition().unwrap();
    let into = "recv_into 4 b'into\\x00\\x00\\x00\\x00'";
    assert_eq!(printed.take(), ["echo b'ping' True", "line 'a line\\n'", &format!("connect_ex 0 ('127.0.0.1', {port})"), into]);
    assert!(p.denials().is_empty());
}

#[test]
fn connect_ex_answers_a_refused_connection_with_its_errno() {
    let port = free_port();
    let source = r#"
import errno, socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        print(socket.socket().connect_ex(("127.0.0.1", PORT)) == errno.ECONNREFUSED)
        try:
            socket.create_connection(("127.0.0.1", PORT))
        except ConnectionRefusedError as e:
            print(type(e).__name__)
"#;
    let (mut p, printed) = processor(source, port, net(&[format!("127.0.0.1:{port}")]), Limits::default());
    p.start_acquisition().unwrap();
    assert_eq!(printed.take(), ["True", "ConnectionRefusedError"]);
}

#[test]
fn a_script_receives_datagrams_on_a_granted_port() {
    let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.inbox = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.inbox.bind(("", PORT))
        self.inbox.settimeout(5)
    def process(self, data):
        pass
    def start_acquisition(self):
        try:
            self.inbox.sendto(b"unasked", ("127.0.0.1", 9))
        except PermissionError as e:
            print(e)
        buffer = bytearray(16)
        n, sender = self.inbox.recvfrom_into(buffer)
        self.inbox.sendto(b"got " + buffer[:n], sender)
"#;
    let (mut p, printed) = processor(source, port, Grants::none().allow_listen(port), Limits::default());
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.set_read_timeout(Some(WAIT)).unwrap();
    sender.send_to(b"start", ("127.0.0.1", port)).unwrap();
    p.start_acquisition().unwrap();
    let mut answer = [0u8; 16];
    let n = sender.recv(&mut answer).unwrap();
    assert_eq!(&answer[..n], b"got start");
    assert_eq!(printed.take(), ["not granted: send to 127.0.0.1:9 (allow with --allow-net 127.0.0.1:9)"]);
}

#[test]
fn udp_datagrams_go_out_with_sendto_and_answers_come_back_through_recvfrom() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(WAIT)).unwrap();
    let port = peer.local_addr().unwrap().port();
    let answering = std::thread::spawn(move || {
        let mut buf = [0u8; 100];
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        peer.send_to(&[b"re: ", &buf[..n]].concat(), from).unwrap();
    });
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)
        print(u.sendto(b"trigger", ("127.0.0.1", PORT)))
        print(u.recvfrom(100) == (b"re: trigger", ("127.0.0.1", PORT)))
        u.close()
"#;
    let (mut p, printed) = processor(source, port, net(&[format!("127.0.0.1:{port}")]), Limits::default());
    p.start_acquisition().unwrap();
    answering.join().unwrap();
    assert_eq!(printed.take(), ["7", "True"]);
}

#[test]
fn datagrams_from_ungranted_senders_never_reach_the_script() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(WAIT)).unwrap();
    let port = peer.local_addr().unwrap().port();
    let intruder = UdpSocket::bind("127.0.0.1:0").unwrap();
    let answering = std::thread::spawn(move || {
        let mut buf = [0u8; 100];
        let (_, script) = peer.recv_from(&mut buf).unwrap();
        intruder.send_to(b"intruder", script).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        peer.send_to(b"granted", script).unwrap();
    });
    let source = r#"
import select, socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)
        u.sendto(b"hello", ("127.0.0.1", PORT))
        readable, _, _ = select.select([u], [], [], 5)
        print(u.recvfrom(100), len(readable))
"#;
    let (mut p, printed) = processor(source, port, net(&[format!("127.0.0.1:{port}")]), Limits::default());
    p.start_acquisition().unwrap();
    answering.join().unwrap();
    assert_eq!(printed.take(), [format!("(b'granted', ('127.0.0.1', {port})) 1")]);
}

#[test]
fn a_mapped_grant_sends_what_the_script_addresses_to_the_hub_to_a_local_listener() {
    let (listener, port) = listener();
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        self.hub = socket.create_connection(("hub.invalid", 5555), timeout=5)
        self.hub.sendall(b"stimulate 3")
        print(self.hub.getpeername(), socket.gethostbyname("hub.invalid"))
"#;
    let grant = format!("hub.invalid:5555::127.0.0.1:{port}");
    let (mut p, printed) = processor(source, port, net(&[grant]), Limits::default());
    p.start_acquisition().unwrap();
    let mut got = [0u8; 11];
    accept(&listener).read_exact(&mut got).unwrap();
    assert_eq!(&got, b"stimulate 3");
    assert_eq!(printed.take(), ["('127.0.0.1', 5555) 127.0.0.1"]);
}

#[test]
fn a_script_listens_and_accepts_on_a_granted_port() {
    let port = free_port();
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("", PORT))
        self.server.listen(1)
        print(self.server.getsockname())
    def stop_acquisition(self):
        self.server.settimeout(5)
        conn, address = self.server.accept()
        with conn:
            conn.settimeout(5)
            data = conn.recv(10)
            conn.sendall(data.upper())
        print(data, address[0])
"#;
    let (mut p, printed) = processor(source, port, Grants::none().allow_listen(port), Limits::default());
    p.start_acquisition().unwrap();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    client.write_all(b"hi").unwrap();
    p.stop_acquisition().unwrap();
    let mut answer = [0u8; 2];
    client.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HI");
    assert_eq!(printed.take(), [format!("('127.0.0.1', {port})"), "b'hi' 127.0.0.1".to_owned()]);
}

#[test]
fn select_reports_which_sockets_are_ready() {
    let (listener, port) = listener();
    let source = r#"
import select, socket, time
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        r, w, x = select.select([self.s], [self.s], [], 0)
        print("now", len(r), len(w), len(x))
        started = time.monotonic()
        r, w, x = select.select([self.s.fileno()], [], [], 0.2)
        print("quiet", len(r), time.monotonic() - started >= 0.19)
    def stop_acquisition(self):
        r, w, x = select.select([self.s], [], [], 5)
        print("data", r == [self.s], self.s.recv(10))
"#;
    let (mut p, printed) = processor(source, port, net(&[format!("127.0.0.1:{port}")]), Limits::default());
    p.start_acquisition().unwrap();
    accept(&listener).write_all(b"x").unwrap();
    p.stop_acquisition().unwrap();
    assert_eq!(printed.take(), ["now 0 1 0", "quiet 0 True", "data True b'x'"]);
}

#[test]
fn a_socket_timeout_raises_socket_timeout() {
    let (listener, port) = listener();
    let source = r#"
import socket, time
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        s = socket.create_connection(("127.0.0.1", PORT))
        s.settimeout(0.2)
        started = time.monotonic()
        try:
            s.recv(10)
        except socket.timeout as e:
            print(type(e).__name__, e, socket.timeout is TimeoutError, time.monotonic() - started >= 0.19, s.gettimeout())
        s.setblocking(False)
        try:
            s.recv(10)
        except BlockingIOError:
            print("would block", s.getblocking())
"#;
    let (mut p, printed) = processor(source, port, net(&[format!("127.0.0.1:{port}")]), Limits::default());
    p.start_acquisition().unwrap();
    drop(listener);
    assert_eq!(printed.take(), ["TimeoutError timed out True True 0.2", "would block False"]);
}

#[test]
fn a_blocking_recv_is_stopped_at_the_callback_deadline_without_hanging_the_host() {
    let (listener, port) = listener();
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.hub = socket.create_connection(("127.0.0.1", PORT))
        self.blocks = 0
    def process(self, data):
        self.blocks += 1
        if self.blocks == 2:  # the first block has the start-up deadline
            self.hub.recv(10)  # nothing ever comes, and no timeout was set
"#;
    let limits = Limits { callback_deadline: Duration::from_millis(300), ..Limits::default() };
    let (mut p, _) = processor(source, port, net(&[format!("127.0.0.1:{port}")]), limits);
    let _quiet_hub = accept(&listener);
    let mut block = ndarray::Array2::<f32>::zeros((1, 8));
    p.process(block.view_mut(), 0).done();
    let started = Instant::now();
    let err = p.process(block.view_mut(), 8).unwrap_err();
    let took = started.elapsed();
    let Error::Python { exception, .. } = &err else { panic!("{err}") };
    assert_eq!(exception.type_name, "TimeoutError", "{err}");
    assert!(exception.message.contains("recv would wait past the deadline of process"), "{}", exception.message);
    assert!(took < Duration::from_secs(2), "returned after {took:?}");
    // The script answered in time: the same interpreter goes on.
    p.process(block.view_mut(), 16).done();
    assert_eq!(p.stats().restarts, 0);
}

#[test]
fn a_cancel_stops_a_blocked_socket_call() {
    let (listener, port) = listener();
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.hub = socket.create_connection(("127.0.0.1", PORT))
    def process(self, data):
        self.hub.recv(10)
"#;
    let limits = Limits { callback_deadline: Duration::from_secs(30), ..Limits::default() };
    let (mut p, _) = processor(source, port, net(&[format!("127.0.0.1:{port}")]), limits);
    let _quiet_hub = accept(&listener);
    let cancel = p.cancel_handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        cancel.cancel();
    });
    let mut block = ndarray::Array2::<f32>::zeros((1, 8));
    let started = Instant::now();
    let err = p.process(block.view_mut(), 0).unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "returned after {:?}", started.elapsed());
}

/// The advice for sockets pyproc does not serve.
const ONLY_INET: &str = "an AF_INET socket and --allow-net HOST:PORT; pyproc serves IPv4 TCP and UDP only";

#[test]
fn every_ungranted_use_is_refused_naming_the_flag_and_recorded() {
    let (_listener, port) = listener();
    let listen_port = free_port();
    let source = r#"
import socket
def attempt(name, action):
    try:
        action()
        print(name, "got through")
    except Exception as e:
        print(name, type(e).__name__, e)
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        attempt("ungranted address", lambda: socket.socket().connect(("10.0.0.5", 5555)))
        attempt("granted host, other port", lambda: socket.create_connection(("127.0.0.1", 1)))
        attempt("datagram elsewhere", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("10.0.0.5", 5555)))
        attempt("listen elsewhere", lambda: socket.socket().bind(("127.0.0.1", 9)))
        attempt("lookup", lambda: socket.getaddrinfo("example.org", 443))
        attempt("unix", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        attempt("ipv6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
        attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW))
        attempt("a port the system picks", lambda: socket.socket().listen())
"#;
    let grants = net(&[format!("127.0.0.1:{port}")]).allow_listen(listen_port);
    let (mut p, printed) = processor(source, port, grants, Limits::default());
    p.start_acquisition().unwrap();
    let expected = [
        ("ungranted address", "connect 10.0.0.5:5555", "--allow-net 10.0.0.5:5555"),
        ("granted host, other port", "connect 127.0.0.1:1", "--allow-net 127.0.0.1:1"),
        ("datagram elsewhere", "send to 10.0.0.5:5555", "--allow-net 10.0.0.5:5555"),
        ("listen elsewhere", "listen 127.0.0.1:9", "--allow-listen 9"),
        ("lookup", "resolve example.org", "--allow-net example.org:443"),
        ("unix", "open an AF_UNIX SOCK_STREAM socket", ONLY_INET),
        ("ipv6", "open an AF_INET6 SOCK_STREAM socket", ONLY_INET),
        ("raw", "open an AF_INET SOCK_RAW socket", ONLY_INET),
        ("a port the system picks", "listen 0.0.0.0:0", "--allow-listen PORT, and bind that port (not 0)"),
    ];
    let lines = printed.take();
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (line, (name, what, fix)) in lines.iter().zip(expected) {
        assert_eq!(line, &format!("{name} PermissionError not granted: {what} (allow with {fix})"));
    }
    let denials = p.denials();
    let want: Vec<Denial> = expected
        .iter()
        .map(|(_, what, fix)| Denial { callback: Some(Callback::StartAcquisition), what: (*what).into(), fix: (*fix).into() })
        .collect();
    assert_eq!((denials.count, denials.first), (expected.len() as u64, want));
}

#[test]
fn dropping_the_processor_closes_its_connections_and_listeners() {
    let (listener, port) = listener();
    let listen_port = free_port();
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.hub = socket.create_connection(("127.0.0.1", PORT))
        self.server = socket.create_server(("127.0.0.1", LISTEN))
    def process(self, data):
        pass
"#
    .replace("LISTEN", &listen_port.to_string());
    let grants = net(&[format!("127.0.0.1:{port}")]).allow_listen(listen_port);
    let (p, _) = processor(&source, port, grants, Limits::default());
    let mut hub = accept(&listener);
    assert!(TcpListener::bind(("127.0.0.1", listen_port)).is_err(), "the script listens");
    drop(p);
    assert_eq!(hub.read(&mut [0u8; 8]).unwrap(), 0, "the hub sees the connection end");
    TcpListener::bind(("127.0.0.1", listen_port)).expect("the port is free again");
}

#[test]
fn a_restarted_interpreter_leaves_no_connection_behind() {
    let (listener, port) = listener();
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.hub = socket.create_connection(("127.0.0.1", PORT))
    def process(self, data):
        while True:
            pass
"#;
    // The first block after a start runs under the start-up deadline: keep both short.
    let limits = Limits { callback_deadline: Duration::from_millis(200), init_deadline: Duration::from_secs(2), ..Limits::default() };
    let (mut p, _) = processor(source, port, net(&[format!("127.0.0.1:{port}")]), limits);
    let mut first = accept(&listener);
    let mut block = ndarray::Array2::<f32>::zeros((1, 8));
    let err = p.process(block.view_mut(), 0).unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err}");
    assert_eq!(first.read(&mut [0u8; 8]).unwrap(), 0, "the stopped interpreter's connection is closed");
}

#[test]
fn a_granted_name_that_does_not_resolve_fails_within_the_callback() {
    let source = r#"
import socket
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        pass
    def start_acquisition(self):
        try:
            socket.create_connection(("no-such-host.invalid", PORT))
        except (socket.gaierror, TimeoutError) as e:
            print("failed", type(e).__name__)
"#;
    let limits = Limits { callback_deadline: Duration::from_millis(500), ..Limits::default() };
    let (mut p, printed) = processor(source, 80, net(&["no-such-host.invalid:80".to_owned()]), limits);
    let started = Instant::now();
    p.start_acquisition().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "returned after {:?}", started.elapsed());
    let lines = printed.take();
    assert!(lines == ["failed gaierror"] || lines == ["failed TimeoutError"], "{lines:?}");
    assert!(p.denials().is_empty(), "a granted name is looked up, not refused");
}
