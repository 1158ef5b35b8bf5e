//! Figures from Linux's /proc: CPU time and resident memory of the server
//! under test (and of its child processes, for nginx's master + workers),
//! kernel socket memory, and which CPUs we may use. The parsing is pure
//! (`parse_*` take the file's text) so it is tested with literal files.

use std::collections::HashMap;
use std::fs;
use std::io;

/// Clock ticks per second in /proc/PID/stat. `sysconf(_SC_CLK_TCK)` is 100
/// on every Linux architecture: the kernel converts to USER_HZ = 100 for
/// userspace whatever its internal HZ, as part of the ABI, so we need no libc
/// to ask.
const CLK_TCK: u64 = 100;
const NS_PER_TICK: u64 = 1_000_000_000 / CLK_TCK;

/// Bytes per page for /proc/net/sockstat's `mem` (counted in pages). 4096 on
/// x86-64 and on most arm64 kernels; without libc we cannot ask sysconf.
const PAGE_SIZE: u64 = 4096;

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("cannot parse {what}"))
}

/// The fields after the command name of /proc/PID/stat. proc(5): "(2) comm
/// ... The filename of the executable, in parentheses" — and the name may
/// itself hold spaces and ')', so we split after the LAST ')'. The first
/// field after it is field (3) state.
fn stat_fields(text: &str) -> Option<Vec<&str>> {
    let close = text.rfind(')')?;
    Some(text[close + 1..].split_ascii_whitespace().collect())
}

/// utime (14) + stime (15) of /proc/PID/stat, in ns. They cover all the
/// process's threads; children it has waited for are in cutime/cstime, which
/// we leave out (their live selves are counted by the tree walk).
pub fn parse_stat(text: &str) -> Option<u64> {
    let f = stat_fields(text)?;
    // Field n is at index n - 3.
    let utime: u64 = f.get(14 - 3)?.parse().ok()?;
    let stime: u64 = f.get(15 - 3)?.parse().ok()?;
    utime.checked_add(stime)?.checked_mul(NS_PER_TICK)
}

/// ppid (4) of /proc/PID/stat.
pub fn parse_stat_ppid(text: &str) -> Option<u32> {
    stat_fields(text)?.get(4 - 3)?.parse().ok()
}

/// `VmRSS:     1234 kB` of /proc/PID/status, in bytes. Kernel threads and
/// zombies have no such line.
pub fn parse_status_rss(text: &str) -> Option<u64> {
    kb_line(text, "VmRSS:")
}

/// `RssAnon` from /proc/PID/status: the resident anonymous memory (heap,
/// stacks), without the file-backed pages of the program's code.
pub fn parse_status_anon(text: &str) -> Option<u64> {
    kb_line(text, "RssAnon:")
}

/// The value of a `Name:   N kB` line (status, meminfo), in bytes.
fn kb_line(text: &str, name: &str) -> Option<u64> {
    let rest = text.lines().find_map(|l| l.strip_prefix(name))?;
    let mut words = rest.split_ascii_whitespace();
    let kb: u64 = words.next()?.parse().ok()?;
    if words.next() != Some("kB") {
        return None;
    }
    kb.checked_mul(1024)
}

/// The number after `key` on the line starting with `prefix`, in lines like
/// `TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1`.
fn keyed(text: &str, prefix: &str, key: &str) -> Option<u64> {
    let rest = text.lines().find_map(|l| l.strip_prefix(prefix))?;
    let mut words = rest.split_ascii_whitespace();
    while let Some(w) = words.next() {
        if w == key {
            return words.next()?.parse().ok();
        }
    }
    None
}

/// /proc/net/sockstat: `sockets: used N` and the TCP line's `inuse` and
/// `mem` (pages). The meminfo fields are left at 0.
pub fn parse_sockstat(text: &str) -> Option<Kernel> {
    Some(Kernel {
        tcp_inuse: keyed(text, "TCP:", "inuse")?,
        tcp_mem_bytes: keyed(text, "TCP:", "mem")?.checked_mul(PAGE_SIZE)?,
        sock_used: keyed(text, "sockets:", "used")?,
        ..Kernel::default()
    })
}

/// /proc/meminfo: (Slab, SUnreclaim) in bytes. Socket buffers and TCP
/// control blocks live in slab caches; SUnreclaim is the part the kernel
/// cannot drop under pressure.
pub fn parse_meminfo(text: &str) -> Option<(u64, u64)> {
    Some((kb_line(text, "Slab:")?, kb_line(text, "SUnreclaim:")?))
}

/// How many CPUs a cpulist such as `0-1,3` names (3). The kernel prints
/// Cpus_allowed_list with `%*pbl`: single CPUs and `a-b` ranges only.
pub fn parse_cpu_list(text: &str) -> Option<usize> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut n = 0usize;
    for part in text.split(',') {
        n += match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
                b.checked_sub(a)? + 1
            }
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    Some(n)
}

/// CPU time (utime + stime, all threads) of a process, in ns.
pub fn cpu_ns(pid: u32) -> io::Result<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text).ok_or_else(|| invalid(&format!("/proc/{pid}/stat")))
}

/// Sum of [`cpu_ns`] over pid and all its descendants.
pub fn tree_cpu_ns(pid: u32) -> io::Result<u64> {
    tree_sum(pid, cpu_ns)
}

/// Resident set size in bytes from /proc/PID/status VmRSS.
pub fn rss_bytes(pid: u32) -> io::Result<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status_rss(&text).ok_or_else(|| invalid(&format!("VmRSS in /proc/{pid}/status")))
}

/// Peak resident set size in bytes (/proc/PID/status VmHWM): the high
/// water mark since the process started.
pub fn hwm_bytes(pid: u32) -> io::Result<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status"))?;
    kb_line(&text, "VmHWM:").ok_or_else(|| invalid(&format!("VmHWM in /proc/{pid}/status")))
}

/// Resident anonymous memory of a process, in bytes.
pub fn anon_bytes(pid: u32) -> io::Result<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status_anon(&text).ok_or_else(|| invalid(&format!("RssAnon in /proc/{pid}/status")))
}

/// Sum of [`anon_bytes`] over pid and descendants.
pub fn tree_anon_bytes(pid: u32) -> io::Result<u64> {
    tree_sum(pid, anon_bytes)
}

/// Sum of [`rss_bytes`] over pid and descendants.
pub fn tree_rss_bytes(pid: u32) -> io::Result<u64> {
    tree_sum(pid, rss_bytes)
}

pub fn self_cpu_ns() -> io::Result<u64> {
    let text = fs::read_to_string("/proc/self/stat")?;
    parse_stat(&text).ok_or_else(|| invalid("/proc/self/stat"))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kernel {
    pub tcp_inuse: u64,
    /// sockstat "TCP: ... mem N" pages × 4096.
    pub tcp_mem_bytes: u64,
    /// sockstat "sockets: used N".
    pub sock_used: u64,
    /// meminfo Slab kB × 1024.
    pub slab_bytes: u64,
    /// meminfo SUnreclaim kB × 1024.
    pub sunreclaim_bytes: u64,
}

pub fn kernel() -> io::Result<Kernel> {
    let sockstat = fs::read_to_string("/proc/net/sockstat")?;
    let meminfo = fs::read_to_string("/proc/meminfo")?;
    let k = parse_sockstat(&sockstat).ok_or_else(|| invalid("/proc/net/sockstat"))?;
    let (slab, sunreclaim) = parse_meminfo(&meminfo).ok_or_else(|| invalid("/proc/meminfo"))?;
    Ok(Kernel { slab_bytes: slab, sunreclaim_bytes: sunreclaim, ..k })
}

/// CPUs this process may run on, from /proc/self/status
/// `Cpus_allowed_list` (taskset, cpusets); else what std reports; at least 1.
pub fn allowed_cpus() -> usize {
    let listed = fs::read_to_string("/proc/self/status").ok().and_then(|text| {
        let list = text.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?;
        parse_cpu_list(list)
    });
    match listed {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

/// (pid, ppid) of every process now in /proc. Processes that exit while we
/// walk are skipped.
fn processes() -> io::Result<Vec<(u32, u32)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some(ppid) = parse_stat_ppid(&text) {
            out.push((pid, ppid));
        }
    }
    Ok(out)
}

/// The descendants of `root` (children, grandchildren, ...), in
/// breadth-first order, given every process's (pid, ppid).
pub fn descendants(root: u32, procs: &[(u32, u32)]) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(pid, ppid) in procs {
        // pid 0's "parent" is itself in some namespaces; never loop.
        if pid != ppid {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut out = Vec::new();
    let mut next = 0;
    let mut current = root;
    loop {
        if let Some(kids) = children.remove(&current) {
            out.extend(kids);
        }
        let Some(&pid) = out.get(next) else { break };
        current = pid;
        next += 1;
    }
    out
}

/// `figure(pid)` plus `figure` of every descendant. The root must answer;
/// a descendant that vanished (or is a zombie with no figures) is skipped.
fn tree_sum(pid: u32, figure: fn(u32) -> io::Result<u64>) -> io::Result<u64> {
    let mut total = figure(pid)?;
    for child in descendants(pid, &processes()?) {
        if let Ok(v) = figure(child) {
            total = total.saturating_add(v);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real /proc/PID/stat line, with a command name made to trip naive
    // parsers: spaces and a ')' inside the parentheses.
    const STAT: &str = "4242 (a) b) S 17 4242 4242 0 -1 4194560 2543 0 0 0 \
        250 75 3 4 20 0 3 0 123456 21475328 1024 18446744073709551615 1 1 0 0 0 0 0 \
        4096 0 0 0 0 17 1 0 0 0 0 0\n";

    #[test]
    fn stat_splits_after_the_last_paren() {
        assert_eq!(parse_stat(STAT), Some((250 + 75) * 10_000_000));
        assert_eq!(parse_stat_ppid(STAT), Some(17));
    }

    #[test]
    fn stat_plain_comm() {
        let text = "1 (nginx) S 0 1 1 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 5 1 1\n";
        assert_eq!(parse_stat(text), Some(10 * 10_000_000));
        assert_eq!(parse_stat_ppid(text), Some(0));
    }

    #[test]
    fn stat_rejects_truncated_or_garbled() {
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("4242 (x S 17"), None);
        assert_eq!(parse_stat("4242 (x) S 17 1 1 0 -1 0 0 0 0 0 12"), None);
        assert_eq!(parse_stat("4242 (x) S 17 1 1 0 -1 0 0 0 0 0 ab 3"), None);
        assert_eq!(parse_stat_ppid("4242 (x) S"), None);
    }

    #[test]
    fn status_rss() {
        let text = "Name:\tpushwire\nUmask:\t0022\nState:\tS (sleeping)\n\
            VmPeak:\t   12000 kB\nVmHWM:\t    4000 kB\nVmRSS:\t    3516 kB\n\
            RssAnon:\t     600 kB\nThreads:\t1\n";
        assert_eq!(parse_status_rss(text), Some(3516 * 1024));
        assert_eq!(parse_status_anon(text), Some(600 * 1024));
        // A kernel thread has no VmRSS line.
        assert_eq!(parse_status_rss("Name:\tkthreadd\nState:\tS (sleeping)\n"), None);
        assert_eq!(parse_status_rss("VmRSS:\t 12 MB\n"), None);
    }

    #[test]
    fn sockstat() {
        let text = "sockets: used 10250\n\
            TCP: inuse 10007 orphan 0 tw 12 alloc 10010 mem 2345\n\
            UDP: inuse 3 mem 2\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n";
        let want =
            Kernel { tcp_inuse: 10007, tcp_mem_bytes: 2345 * 4096, sock_used: 10250, ..Kernel::default() };
        assert_eq!(parse_sockstat(text), Some(want));
        assert_eq!(parse_sockstat("sockets: used 3\nUDP: inuse 3 mem 2\n"), None);
    }

    #[test]
    fn meminfo() {
        let text = "MemTotal:       16310712 kB\nMemFree:         9210340 kB\n\
            Slab:             244928 kB\nSReclaimable:     207192 kB\n\
            SUnreclaim:        37736 kB\nKernelStack:       10112 kB\n";
        assert_eq!(parse_meminfo(text), Some((244928 * 1024, 37736 * 1024)));
        assert_eq!(parse_meminfo("Slab: 1 kB\n"), None);
    }

    #[test]
    fn cpu_lists() {
        for (text, want) in [
            ("0-1,3", Some(3)),
            ("0-1\n", Some(2)),
            ("\t0\n", Some(1)),
            ("0-3,8-11,15", Some(9)),
            ("0-63", Some(64)),
            ("", None),
            ("3-1", None),
            ("0-x", None),
            ("0,,1", None),
        ] {
            assert_eq!(parse_cpu_list(text), want, "{text:?}");
        }
    }

    #[test]
    fn descendants_walks_the_whole_tree() {
        // 1 ─ 10 ─┬ 11 ─ 13
        //         └ 12
        // 20 (unrelated), 0 (its own parent)
        let procs = [(1, 0), (10, 1), (11, 10), (12, 10), (13, 11), (20, 1), (0, 0)];
        assert_eq!(descendants(10, &procs), vec![11, 12, 13]);
        assert_eq!(descendants(13, &procs), Vec::<u32>::new());
        assert_eq!(descendants(0, &procs), vec![1, 10, 20, 11, 12, 13]);
    }

    fn busy_ms(ms: u64) -> u64 {
        let start = std::time::Instant::now();
        let mut x = 1u64;
        while start.elapsed().as_millis() < u128::from(ms) {
            for i in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
            }
        }
        x
    }

    #[test]
    fn own_figures_are_plausible() {
        let pid = std::process::id();
        let rss = rss_bytes(pid).expect("own VmRSS");
        assert!(rss > 1024 * 1024, "rss {rss}");
        assert!(tree_rss_bytes(pid).expect("tree rss") > 0);

        // Ticks are 10 ms; 200 ms of spinning (other tests may steal the CPU,
        // so retry a few times) must show up.
        let before = self_cpu_ns().expect("own stat");
        let mut after = before;
        for _ in 0..10 {
            busy_ms(200);
            after = self_cpu_ns().expect("own stat");
            if after > before {
                break;
            }
        }
        assert!(after > before, "cpu {before} -> {after}");
        assert_eq!(after % NS_PER_TICK, 0);
        assert!(cpu_ns(pid).expect("cpu by pid") >= after);
        assert!(tree_cpu_ns(pid).expect("tree cpu") >= after);

        assert!(allowed_cpus() >= 1);
        let k = kernel().expect("sockstat and meminfo");
        assert!(k.slab_bytes >= k.sunreclaim_bytes && k.slab_bytes > 0, "{k:?}");
    }

    #[test]
    fn tree_includes_a_spawned_child() {
        let mut child = std::process::Command::new("sleep").arg("10").spawn().expect("spawn sleep");
        let found = descendants(std::process::id(), &processes().expect("list /proc"));
        let rss = rss_bytes(child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()), "{found:?}");
        assert!(rss.expect("child rss") > 0);
    }

    #[test]
    fn missing_process_is_an_error() {
        // Above the kernel's PID_MAX_LIMIT (4 194 304), so never a live pid.
        assert_eq!(cpu_ns(u32::MAX).map_err(|e| e.kind()), Err(io::ErrorKind::NotFound));
        assert!(tree_rss_bytes(u32::MAX).is_err());
    }
}
