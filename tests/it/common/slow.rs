//! A real, misbehaving HTTP server on 127.0.0.1 for time-budget tests: it accepts connections
//! and reads the request like any server, then stalls before its headers, stalls mid-body, or
//! trickles one byte every two seconds. Every connection is held for at most [`HOLD_LIMIT`],
//! and the server stops when dropped, so a test cannot hang on it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest a connection is kept open, whatever the client does.
pub const HOLD_LIMIT: Duration = Duration::from_secs(40);

/// How the server misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// Reads the request and never answers.
    BeforeHeaders,
    /// Sends `200 OK` with a 1 MB `Content-Length` and 100 bytes, then nothing.
    MidBody,
    /// Sends `200 OK` with a 1 kB `Content-Length`, then one byte every two seconds.
    Trickle,
}

pub struct SlowServer {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl SlowServer {
    pub fn start(stall: Stall) -> SlowServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind slow server");
        let port = listener.local_addr().expect("slow server address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let thread = {
            let stop = Arc::clone(&stop);
            let requests = Arc::clone(&requests);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let stop = Arc::clone(&stop);
                        let requests = Arc::clone(&requests);
                        thread::spawn(move || misbehave(stream, stall, &stop, &requests));
                    }
                }
            })
        };
        SlowServer {
            port,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// How many requests arrived so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for SlowServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn misbehave(stream: TcpStream, stall: Stall, stop: &AtomicBool, requests: &AtomicUsize) {
    let started = Instant::now();
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    // The request head, as a server reads it.
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let mut out = stream;
    let head = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    let sent = match stall {
        Stall::BeforeHeaders => Ok(()),
        Stall::MidBody => out
            .write_all(head(1_000_000).as_bytes())
            .and_then(|()| out.write_all(&[b'x'; 100])),
        Stall::Trickle => out.write_all(head(1000).as_bytes()),
    };
    if sent.is_err() {
        return;
    }
    let mut last_byte = Instant::now();
    while started.elapsed() < HOLD_LIMIT && !stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(50));
        if stall == Stall::Trickle && last_byte.elapsed() >= Duration::from_secs(2) {
            if out.write_all(b"x").and_then(|()| out.flush()).is_err() {
                return;
            }
            last_byte = Instant::now();
        }
    }
}
