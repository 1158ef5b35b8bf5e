//! SPEC §5: at `--max-conns`, or out of file descriptors, existing clients
//! keep being served, new ones wait, accepting resumes when room frees, and
//! the loop never spins meanwhile. SPEC §1: SIGINT/SIGTERM drain and exit 0.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";

/// Opens a connection, sends one request, and says whether it was answered
/// within `wait` (the connection is returned either way, still open).
fn try_request(server: &Server, wait: Duration) -> (TcpStream, bool) {
    let mut s = server.connect();
    write_all(&mut s, REQUEST);
    let answered = answered_within(&mut s, wait);
    (s, answered)
}

fn answered_within(s: &mut TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 1024];
    let ok = matches!(s.read(&mut buf), Ok(n) if n > 0 && buf.starts_with(b"HTTP/1.1 200"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    ok
}

/// CPU ticks (1/100 s) the server burns while it should be waiting.
fn ticks_over_a_second(server: &Server) -> u64 {
    let before = server.cpu_ticks();
    // The window the CPU time is measured over, not a wait for a timeout.
    thread::sleep(Duration::from_secs(1));
    server.cpu_ticks() - before
}

/// Sends the first line of a request head on `s` and waits until the server
/// has read it: the connection is inside a request.
fn hold_a_half_head(server: &Server, s: &mut TcpStream) {
    let half = b"GET /plaintext HTTP/1.1\r\n";
    let bytes_in = stat(server, "bytes_in");
    write_all(s, half);
    stat_grows(server, "bytes_in", bytes_in, half.len() as u64);
}

/// Waits, with a deadline, for the server log to contain `text`.
fn log_shows(server: &Server, text: &str) -> bool {
    server.log_until(Duration::from_secs(5), |log| log.contains(text)).is_some()
}

#[test]
fn out_of_file_descriptors_keeps_serving_and_resumes() {
    // A child with 24 descriptors: a handful go to stdio, epoll, the waker,
    // the listener and the signal pipe; the rest fit a few clients.
    let server = Server::start_with(&[], &[], Some(24));
    let mut served = Vec::new();
    let mut waiting = Vec::new();
    for _ in 0..40 {
        let (s, answered) = try_request(&server, Duration::from_millis(300));
        if answered {
            assert!(waiting.is_empty(), "a client was served after another had to wait");
            served.push(s);
        } else {
            waiting.push(s);
        }
        if waiting.len() >= 3 {
            break;
        }
    }
    assert!(served.len() >= 5, "only {} clients were served before running out", served.len());
    assert_eq!(waiting.len(), 3, "the descriptor limit was never reached");
    assert!(log_shows(&server, "Too many open files"), "EMFILE is reported: {}", server.log());

    // Out of descriptors, the loop waits instead of retrying accept in a spin.
    let ticks = ticks_over_a_second(&server);
    assert!(ticks <= 10, "server used {ticks} CPU ticks in 1 s while out of descriptors: a busy loop");

    // Every client it has is still served, repeatedly.
    for s in served.iter_mut() {
        write_all(s, REQUEST);
        assert!(answered_within(s, Duration::from_secs(2)), "an existing client was not served");
    }

    // One leaves; the first waiting client is accepted and its request,
    // sent long ago, is answered.
    drop(served.remove(0));
    assert!(answered_within(&mut waiting[0], Duration::from_secs(3)), "accepting did not resume");
    assert!(log_shows(&server, "accepting again"), "{}", server.log());
}

#[test]
fn max_conns_makes_new_clients_wait_without_spinning() {
    let server = Server::start(&["--max-conns", "3"]);
    let mut served: Vec<TcpStream> = (0..3)
        .map(|_| {
            let (s, answered) = try_request(&server, Duration::from_secs(2));
            assert!(answered);
            s
        })
        .collect();
    let (mut fourth, answered) = try_request(&server, Duration::from_millis(500));
    assert!(!answered, "the fourth client was served past --max-conns 3");
    assert!(log_shows(&server, "--max-conns 3 reached"), "{}", server.log());
    let ticks = ticks_over_a_second(&server);
    assert!(ticks <= 10, "server used {ticks} CPU ticks in 1 s at --max-conns: a busy loop");
    for s in served.iter_mut() {
        write_all(s, REQUEST);
        assert!(answered_within(s, Duration::from_secs(2)));
    }
    drop(served.pop());
    assert!(answered_within(&mut fourth, Duration::from_secs(3)), "accepting did not resume");
}

#[test]
fn sigterm_finishes_in_flight_requests_then_exits_0() {
    let mut server = Server::start(&[]);
    let mut idle = server.connect();
    write_all(&mut idle, REQUEST);
    assert!(answered_within(&mut idle, Duration::from_secs(2)));
    // A request whose head is half sent when the signal arrives (and read:
    // the server holds it).
    let mut busy = server.connect();
    let half = b"GET /plaintext HTTP/1.1\r\nHost: t\r\n";
    let bytes_in = stat(&server, "bytes_in");
    write_all(&mut busy, half);
    stat_grows(&server, "bytes_in", bytes_in, half.len() as u64);
    server.signal("TERM");
    // The idle client is let go at once.
    assert!(closed_within(&mut idle, Duration::from_secs(2)), "idle connection not closed on drain");
    // New clients are no longer accepted: the listener is closed before the
    // idle connections are, so it is closed by now.
    assert!(TcpStream::connect(server.addr).is_err(), "still accepting while draining");
    // The in-flight request completes, is told the connection closes, and
    // then the server exits cleanly.
    write_all(&mut busy, b"\r\n");
    let r = read_reply(&mut busy, &mut Vec::new(), false).expect("the in-flight request is answered");
    assert_eq!((r.status, r.header("connection").as_deref()), (200, Some("close")));
    let status = server.wait_exit(Duration::from_secs(5)).expect("server exited after draining");
    assert_eq!(status.code(), Some(0), "{}", server.log());
}

#[test]
fn drain_gives_up_after_drain_secs() {
    let mut server = Server::start(&["--drain-secs", "300ms"]);
    let mut stuck = server.connect();
    hold_a_half_head(&server, &mut stuck);
    let t = Instant::now();
    server.signal("INT");
    let status = server.wait_exit(Duration::from_secs(5)).expect("server exited at the drain deadline");
    assert_eq!(status.code(), Some(0));
    assert!(t.elapsed() >= Duration::from_millis(250), "exited before the drain deadline");
    assert!(closed_within(&mut stuck, Duration::from_secs(1)));
}

#[test]
fn a_second_signal_exits_at_once() {
    let mut server = Server::start(&["--drain-secs", "60"]);
    let mut stuck = server.connect();
    hold_a_half_head(&server, &mut stuck);
    let mut finishing = server.connect();
    hold_a_half_head(&server, &mut finishing);
    server.signal("TERM");
    assert!(log_shows(&server, "shutting down"), "the first signal starts the drain: {}", server.log());
    // The first signal only drains: a request in flight is still answered,
    // and the other one holds the drain open.
    write_all(&mut finishing, b"Host: t\r\n\r\n");
    let r = read_reply(&mut finishing, &mut Vec::new(), false).expect("answered while draining");
    assert_eq!((r.status, r.header("connection").as_deref()), (200, Some("close")));
    assert!(server.wait_exit(Duration::from_millis(10)).is_none(), "the first signal only drains");
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(2)).expect("the second signal exits at once");
    assert_ne!(status.code(), Some(0));
}

#[test]
fn help_lists_every_flag_and_bad_input_is_refused_clearly() {
    let bin = env!("CARGO_BIN_EXE_pushwire");
    let out = Command::new(bin).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--www",
        "--log-level",
        "--max-conns",
        "--max-body",
        "PUSHWIRE_LISTEN",
        "PUSHWIRE_MAX_BODY",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
    let out = Command::new(bin).arg("--max-body").arg("lots").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid value 'lots' for '--max-body <SIZE>'"),
        "{out:?}"
    );
    let out = Command::new(bin).args(["--listen", "127.0.0.1:0", "--www", "/no/such/dir"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--www /no/such/dir"), "{:?}", out);
}

#[test]
fn environment_twins_configure_the_server() {
    // The flag wins over its twin: --listen from the harness, max-conns from
    // the environment.
    let server =
        Server::start_with(&[], &[("PUSHWIRE_MAX_CONNS", "1"), ("PUSHWIRE_LOG_LEVEL", "warn")], None);
    let (_first, answered) = try_request(&server, Duration::from_secs(2));
    assert!(answered);
    let (_second, answered) = try_request(&server, Duration::from_millis(500));
    assert!(!answered, "PUSHWIRE_MAX_CONNS=1 was ignored");
    assert!(log_shows(&server, "--max-conns 1 reached"));
    assert!(!server.log().contains(" INFO "), "PUSHWIRE_LOG_LEVEL=warn was ignored: {}", server.log());
}

#[test]
fn draining_closes_a_keep_alive_connection_once_its_answer_is_out() {
    let root = std::env::temp_dir().join(format!("pushwire-drain-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("big.bin"), vec![7u8; 20 << 20]).unwrap();
    let mut server = Server::start(&["--drain-secs", "10", "--www", root.to_str().unwrap()]);
    let mut c = server.connect();
    // A 20 MB answer still on its way when the signal comes; then nothing
    // more to answer, so the connection is done once the client has it.
    let requests = stat(&server, "requests");
    write_all(&mut c, b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    stat_grows(&server, "requests", requests, 1);
    server.signal("TERM");
    let t = Instant::now();
    let r = read_reply(&mut c, &mut Vec::new(), false).expect("the answer in flight is finished");
    assert_eq!(r.body.len(), 20 << 20);
    assert!(closed_within(&mut c, Duration::from_secs(5)));
    std::fs::remove_dir_all(&root).unwrap();
    let status = server.wait_exit(Duration::from_secs(5)).expect("exited");
    assert_eq!(status.code(), Some(0));
    assert!(t.elapsed() < Duration::from_secs(5), "waited for the drain deadline: {:?}", t.elapsed());
}
