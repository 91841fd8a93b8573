//! Subprocesses with hard time bounds, whose output is collected while they run.
//!
//! Every process started here is killed when its bound passes or its handle is dropped, so a hung
//! peer fails the test that started it instead of hanging CI.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished (or killed) subprocess left behind.
#[derive(Debug)]
pub struct Output {
    /// Exit status, `None` if it was killed at its time bound.
    pub status: Option<ExitStatus>,
    /// Everything it wrote to stdout (lossy UTF-8).
    pub stdout: String,
    /// Everything it wrote to stderr (lossy UTF-8).
    pub stderr: String,
    /// Whether it had to be killed at its time bound.
    pub timed_out: bool,
}

impl Output {
    /// Exited by itself with status 0.
    pub fn success(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }

    /// A description for assertion messages: status, and both streams (stdout truncated).
    pub fn describe(&self) -> String {
        format!(
            "status: {:?}, timed out: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            self.timed_out,
            truncate_middle(&self.stdout, 4000),
            truncate_middle(&self.stderr, 8000)
        )
    }
}

/// `text` with its middle cut out when longer than `limit` bytes, for readable failure messages.
pub fn truncate_middle(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut head = limit / 2;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - limit / 2;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{}\n[... {} bytes cut ...]\n{}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

/// Runs `command` to completion, feeding it `stdin` (then closing it), killing it after `limit`.
pub fn run(command: &mut Command, stdin: Option<Vec<u8>>, limit: Duration) -> Output {
    let mut process = Spawned::spawn(command, stdin);
    let deadline = Instant::now() + limit;
    loop {
        match process.child.try_wait() {
            Ok(Some(status)) => return process.finish(Some(status), false),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            _ => return process.kill(),
        }
    }
}

/// A subprocess running in the background whose output is collected as it comes.
#[derive(Debug)]
pub struct Spawned {
    child: Child,
    /// The write end of the child's stdin, while it is kept open (see [`Spawned::spawn_open`]).
    stdin: Option<std::process::ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<thread::JoinHandle<()>>,
}

fn collect(stream: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            if let Ok(mut buf) = into.lock() {
                buf.push_str(&String::from_utf8_lossy(&line));
            }
            line.clear();
        }
    })
}

impl Spawned {
    /// Starts `command` with piped stdio; `stdin` is written by a helper thread, then closed.
    pub fn spawn(command: &mut Command, stdin: Option<Vec<u8>>) -> Spawned {
        let program = format!("{command:?}");
        let mut child = command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // Errors mean the process exited early; its status and stderr will say why.
            thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect(out, Arc::clone(&stdout)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect(err, Arc::clone(&stderr)));
        }
        Spawned {
            child,
            stdin: None,
            stdout,
            stderr,
            readers,
        }
    }

    /// Starts `command` with piped stdio and its stdin kept open until [`Spawned::close_stdin`]
    /// (or drop): for peers that run until told to stop.
    pub fn spawn_open(command: &mut Command) -> Spawned {
        let program = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stdin = child.stdin.take();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect(out, Arc::clone(&stdout)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect(err, Arc::clone(&stderr)));
        }
        Spawned {
            child,
            stdin,
            stdout,
            stderr,
            readers,
        }
    }

    /// Closes the child's stdin (a peer started with [`Spawned::spawn_open`] then stops).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// What it has written to stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// What it has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits until `ready(stdout, stderr)` holds or `limit` passes; returns whether it held.
    pub fn wait_for(&mut self, limit: Duration, ready: impl Fn(&str, &str) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if ready(&self.stdout(), &self.stderr()) {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        ready(&self.stdout(), &self.stderr())
    }

    /// Waits up to `limit` for it to exit by itself, then kills it; returns its output.
    pub fn wait(mut self, limit: Duration) -> Output {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return self.finish(Some(status), false),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => return self.kill(),
            }
        }
    }

    /// Kills it (if still running) and returns its output.
    pub fn kill(mut self) -> Output {
        let already = self.child.try_wait().ok().flatten();
        if already.is_some() {
            return self.finish(already, false);
        }
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        self.finish(status, true)
    }

    fn finish(mut self, status: Option<ExitStatus>, killed: bool) -> Output {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        Output {
            status: if killed { None } else { status },
            stdout: self.stdout(),
            stderr: self.stderr(),
            timed_out: killed,
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
