//! The coordinator's side of the worker processes: spawns them with their
//! share of the connections, sends them commands, and keeps the latest
//! progress each one reported.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::hist::Hist;
use crate::procfs;

/// One process may hold at most 20,000 open files here; leave room for the
/// rest of what it opens.
pub const CONNS_PER_PROC: usize = 15_000;

/// The latest `p` line of one worker.
#[derive(Clone, Copy, Default, Debug)]
pub struct Progress {
    pub connected: u64,
    pub failed: u64,
    pub closed: u64,
    pub reached: u64,
    pub msgs: u64,
    /// Lowest sequence number still due on an open subscriber (`u64::MAX`: none open).
    pub min_next: u64,
    pub errors: u64,
}

/// What the workers reported when stopped, summed.
#[derive(Default, Debug)]
pub struct Totals {
    pub msgs: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub sent: u64,
    pub gaps: u64,
    pub dups: u64,
    pub errors: u64,
    pub connected: u64,
    pub failed: u64,
    pub closed: u64,
    pub reached: u64,
    /// Subscribers: sum of each open one's next expected sequence number, and how many are open.
    pub next_sum: u64,
    pub open: u64,
    pub notes: Vec<String>,
    pub hist: Hist,
}

struct Proc {
    child: Child,
    stdin: ChildStdin,
    progress: Progress,
    ready: bool,
}

pub struct Fleet {
    procs: Vec<Proc>,
    lines: Receiver<(usize, String)>,
    /// Connections asked of all workers together.
    total: usize,
}

impl Fleet {
    /// Starts the workers for `total` connections of the run `args` (this
    /// process's own arguments, which every worker re-reads).
    pub fn spawn(total: usize, procs: Option<usize>, args: &[String]) -> Result<Fleet, String> {
        Fleet::spawn_on(total, procs, args, None)
    }

    /// [`Fleet::spawn`], the workers pinned to core `cpu` when there is one
    /// (started through `taskset -c CPU`, which execs the worker: the PID is
    /// the worker's).
    pub fn spawn_on(
        total: usize,
        procs: Option<usize>,
        args: &[String],
        cpu: Option<usize>,
    ) -> Result<Fleet, String> {
        let n = procs.unwrap_or_else(|| total.div_ceil(CONNS_PER_PROC)).clamp(1, total.max(1));
        let exe = std::env::current_exe().map_err(|e| format!("cannot find my own binary: {e}"))?;
        let (tx, lines) = crossbeam_channel::unbounded();
        let mut fleet = Fleet { procs: Vec::with_capacity(n), lines, total };
        for w in 0..n {
            let first = total * w / n;
            let count = total * (w + 1) / n - first;
            let mut command = match cpu {
                Some(cpu) => {
                    let mut c = Command::new("taskset");
                    c.arg("-c").arg(cpu.to_string()).arg(&exe);
                    c
                }
                None => Command::new(&exe),
            };
            let mut child = command
                .arg("__worker")
                .arg(first.to_string())
                .arg(count.to_string())
                .arg("--")
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start a worker: {e}"))?;
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                return Err("worker without pipes".into());
            };
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send((w, line)).is_err() {
                        break;
                    }
                }
                let _ = tx.send((w, "exit".into()));
            });
            fleet.procs.push(Proc {
                child,
                stdin,
                progress: Progress { min_next: u64::MAX, ..Progress::default() },
                ready: false,
            });
        }
        Ok(fleet)
    }

    /// How many worker processes there are.
    pub fn len(&self) -> usize {
        self.procs.len()
    }

    pub fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(|p| p.child.id()).collect()
    }

    /// CPU time of each process of the load generator: this one, then
    /// every worker.
    pub fn cpu_ns(&self) -> Vec<u64> {
        let mut all = vec![procfs::self_cpu_ns().unwrap_or(0)];
        all.extend(self.pids().into_iter().map(|pid| procfs::cpu_ns(pid).unwrap_or(0)));
        all
    }

    pub fn send(&mut self, command: &str) {
        for p in &mut self.procs {
            // A worker that died shows up in its line stream; nothing to do here.
            let _ = writeln!(p.stdin, "{command}").and_then(|()| p.stdin.flush());
        }
    }

    /// Takes in the lines that arrived within `wait`. Errors when a worker
    /// exits before it was stopped.
    pub fn pump(&mut self, wait: Duration) -> Result<(), String> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((w, line)) => self.take(w, &line)?,
                Err(RecvTimeoutError::Timeout) => return Ok(()),
                Err(RecvTimeoutError::Disconnected) => return Err("all workers are gone".into()),
            }
        }
    }

    fn take(&mut self, w: usize, line: &str) -> Result<(), String> {
        let p = &mut self.procs[w];
        let mut words = line.split(' ');
        match words.next() {
            Some("p") => {
                let v: Vec<u64> = words.filter_map(|x| x.parse().ok()).collect();
                if let [connected, failed, closed, reached, msgs, min_next, errors] = v[..] {
                    p.progress = Progress { connected, failed, closed, reached, msgs, min_next, errors };
                }
            }
            Some("ready") => {
                // The counts as of `ready`, so nobody reads an older `p` line's.
                let v: Vec<u64> = words.filter_map(|x| x.parse().ok()).collect();
                if let [connected, failed] = v[..] {
                    p.progress.connected = connected;
                    p.progress.failed = failed;
                }
                p.ready = true;
            }
            Some("exit") => return Err(format!("worker {w} exited unexpectedly ({})", status(&mut p.child))),
            _ => {}
        }
        Ok(())
    }

    /// Whether every worker process has exited (after `stop`, or
    /// `send("stop")`): their sockets are closed then.
    pub fn all_exited(&mut self) -> bool {
        self.procs.iter_mut().all(|p| matches!(p.child.try_wait(), Ok(Some(_))))
    }

    pub fn all_ready(&self) -> bool {
        self.procs.iter().all(|p| p.ready)
    }

    /// Waits until every worker has tried all its connections, calling
    /// `tick` between reads of their progress. Every handshake may wait for
    /// a SYN retransmit (1 s, then 3 s) when a server's accept backlog
    /// overflows, so the time allowed is 30 s plus a millisecond a
    /// connection. Whether some failed is for the caller to judge.
    pub fn open_all(&mut self, what: &str, mut tick: impl FnMut(&Fleet)) -> Result<(), String> {
        let allowed = Duration::from_secs(30) + Duration::from_millis(self.total as u64);
        let deadline = Instant::now() + allowed;
        while !self.all_ready() {
            if Instant::now() > deadline {
                let open = self.progress().connected;
                return Err(format!(
                    "only {open} of {} {what} were open after {} s",
                    self.total,
                    allowed.as_secs()
                ));
            }
            self.pump(Duration::from_millis(20))?;
            tick(self);
        }
        Ok(())
    }

    /// The workers' latest progress, summed (`min_next`: the lowest).
    pub fn progress(&self) -> Progress {
        let mut sum = Progress { min_next: u64::MAX, ..Progress::default() };
        for p in &self.procs {
            let q = p.progress;
            sum.connected += q.connected;
            sum.failed += q.failed;
            sum.closed += q.closed;
            sum.reached += q.reached;
            sum.msgs += q.msgs;
            sum.errors += q.errors;
            sum.min_next = sum.min_next.min(q.min_next);
        }
        sum
    }

    /// Stops every worker and sums what they report.
    pub fn stop(mut self) -> Result<Totals, String> {
        self.send("stop");
        let mut totals = Totals::default();
        let mut ended = vec![false; self.procs.len()];
        let deadline = Instant::now() + Duration::from_secs(30);
        while ended.contains(&false) {
            let left = deadline.saturating_duration_since(Instant::now());
            let (w, line) = self
                .lines
                .recv_timeout(left)
                .map_err(|_| "workers did not report their results within 30 s")?;
            let (word, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
            match word {
                "done" => {
                    for kv in rest.split(' ') {
                        let Some((k, v)) = kv.split_once('=') else { continue };
                        let v: u64 = v.parse().unwrap_or(0);
                        match k {
                            "msgs" => totals.msgs += v,
                            "bytes_in" => totals.bytes_in += v,
                            "bytes_out" => totals.bytes_out += v,
                            "sent" => totals.sent += v,
                            "gaps" => totals.gaps += v,
                            "dups" => totals.dups += v,
                            "errors" => totals.errors += v,
                            "connected" => totals.connected += v,
                            "failed" => totals.failed += v,
                            "closed" => totals.closed += v,
                            "reached" => totals.reached += v,
                            _ => {}
                        }
                    }
                }
                "next" => {
                    let v: Vec<u64> = rest.split(' ').filter_map(|x| x.parse().ok()).collect();
                    if let [sum, open] = v[..] {
                        totals.next_sum += sum;
                        totals.open += open;
                    }
                }
                "note" => totals.notes.push(rest.to_string()),
                "hist" => totals.hist.merge(&Hist::from_line(rest).map_err(|e| format!("worker {w}: {e}"))?),
                "end" => ended[w] = true,
                "exit" if !ended[w] => {
                    return Err(format!(
                        "worker {w} exited before reporting ({})",
                        status(&mut self.procs[w].child)
                    ))
                }
                _ => {}
            }
        }
        for p in &mut self.procs {
            let _ = p.child.wait();
        }
        Ok(totals)
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for p in &mut self.procs {
            if let Ok(None) = p.child.try_wait() {
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
        }
    }
}

fn status(child: &mut Child) -> String {
    match child.wait() {
        Ok(s) => s.to_string(),
        Err(e) => e.to_string(),
    }
}
