//! What each connection says once open: the handshake answer, WebSocket
//! frames, the event stream, `/plaintext` answers, and the scenario's reply
//! to each message (count it, check it, time it, send the next).

use super::{unix_ns, Role, Stage, Worker, MAX_MESSAGE};

/// The largest jump in sequence numbers taken as messages lost rather than
/// as a corrupted message.
const MAX_GAP: u64 = 1 << 40;
use crate::payload;
use pushwire_proto::http::chunked::Dechunk;
use pushwire_proto::http::client::BodyReader;
use pushwire_proto::http::client::{self as http, Body};
use pushwire_proto::sse;
use pushwire_proto::ws::{self, client, OpCode};

impl Worker {
    /// Handles the bytes `data` of connection `i`; returns how many it used.
    pub(super) fn consume(&mut self, i: usize, data: &[u8]) -> usize {
        let mut used = 0;
        while used < data.len() {
            let rest = &data[used..];
            let n = match self.clients[i].stage {
                Stage::Handshake => self.handshake(i, rest),
                Stage::Open => match self.role {
                    Role::WsSubscriber | Role::Echo => self.ws_frames(i, rest),
                    Role::SseSubscriber => self.sse_bytes(i, rest),
                    Role::Plaintext => self.plaintext(i, rest),
                },
                Stage::Connecting | Stage::Closed => return data.len(),
            };
            match n {
                Some(0) | None => break,
                Some(n) => used += n,
            }
        }
        used
    }

    fn handshake(&mut self, i: usize, data: &[u8]) -> Option<usize> {
        let head = match http::parse_head(data, false) {
            Ok(Some(head)) => head,
            Ok(None) => return Some(0),
            Err(e) => {
                self.fail(i, format!("bad response head: {e}"));
                return None;
            }
        };
        if head.is_interim() {
            return Some(head.len);
        }
        let index = (self.first + i) as u64;
        let ok = match self.role {
            // RFC 6455 §4.1: the client checks the status, Upgrade,
            // Connection and the accept value, and fails otherwise.
            Role::WsSubscriber | Role::Echo => {
                head.status == 101
                    && head.upgrade_websocket
                    && head.accept.as_deref() == Some(client::expected_accept(&client::key(index)).as_str())
            }
            _ => head.status == 200 && head.event_stream,
        };
        if !ok {
            self.fail(
                i,
                format!(
                    "handshake answered {} (expected {})",
                    head.status,
                    if self.role == Role::SseSubscriber {
                        "200 text/event-stream"
                    } else {
                        "101 with Upgrade, Connection and the right accept"
                    }
                ),
            );
            return None;
        }
        let client = &mut self.clients[i];
        client.stage = Stage::Open;
        if self.role == Role::SseSubscriber {
            client.sse = Some(Box::new(sse::Parser::new()));
            if head.body == Body::Chunked {
                // An event stream has no end, so no size cap; the decoder
                // keeps no bytes, and the SSE parser's buffer is bounded.
                client.dechunk = Some(Dechunk::new(u64::MAX, usize::MAX));
            }
        }
        self.pending -= 1;
        self.connected += 1;
        if self.running {
            self.kick(i);
        }
        Some(head.len)
    }

    fn ws_frames(&mut self, i: usize, data: &[u8]) -> Option<usize> {
        let mut used = 0;
        loop {
            let (frame, n) = match ws::decode_from_server(&data[used..], MAX_MESSAGE) {
                Ok(Some(f)) => f,
                Ok(None) => return Some(used),
                Err(e) => {
                    self.fail_ws(i, e.close_code(), format!("bad frame: {e}"));
                    return None;
                }
            };
            used += n;
            let open = self.clients[i].in_message;
            match frame.opcode {
                // §5.4: a new data frame while a fragmented message is open,
                // or a continuation with none open, breaks the rules.
                OpCode::Text | OpCode::Binary if open => {
                    self.fail_ws(i, 1002, "a new message inside a fragmented one".into());
                    return None;
                }
                OpCode::Continuation if !open => {
                    self.fail_ws(i, 1002, "a continuation frame with no message open".into());
                    return None;
                }
                OpCode::Text | OpCode::Binary if frame.fin => self.on_message(i, frame.payload),
                OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                    let client = &mut self.clients[i];
                    if (client.frag.len() + frame.payload.len()) as u64 > MAX_MESSAGE {
                        self.fail_ws(i, 1009, format!("a message longer than {MAX_MESSAGE} bytes"));
                        return None;
                    }
                    client.frag.extend_from_slice(frame.payload);
                    client.in_message = !frame.fin;
                    if frame.fin {
                        let msg = std::mem::take(&mut client.frag);
                        self.on_message(i, &msg);
                    }
                }
                OpCode::Ping => {
                    // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an
                    // endpoint MUST send a Pong frame in response".
                    let client = &mut self.clients[i];
                    ws::encode_masked(OpCode::Pong, frame.payload, mask_for(client.next), &mut client.out);
                }
                OpCode::Pong => {}
                OpCode::Close => {
                    // §5.5.1: "If an endpoint receives a Close frame and did
                    // not previously send a Close frame, the endpoint MUST send
                    // a Close frame in response", usually echoing the code.
                    // §7.1.5: a Close with no code is "considered to be
                    // 1005", which no endpoint may send: the answer has none.
                    // A body no endpoint may send (§5.5.1, §7.4) fails the
                    // connection.
                    let code = match ws::parse_close(frame.payload) {
                        Ok(close) => close.map(|(code, _)| code),
                        Err(e) => {
                            self.fail_ws(i, e.close_code(), format!("bad close frame: {e}"));
                            return None;
                        }
                    };
                    let client = &mut self.clients[i];
                    let body = code.map(u16::to_be_bytes);
                    ws::encode_masked(
                        OpCode::Close,
                        body.as_ref().map_or(&[][..], |b| &b[..]),
                        mask_for(client.next),
                        &mut client.out,
                    );
                    self.flush(i);
                    self.fail(
                        i,
                        format!(
                            "closed by the server with {}",
                            code.map_or("no code".into(), |c| c.to_string())
                        ),
                    );
                    return None;
                }
            }
            if self.clients[i].stage == Stage::Closed {
                return None;
            }
        }
    }

    /// §7.1.7: to _Fail the WebSocket Connection_ a client sends the Close
    /// frame it can, then drops the TCP connection.
    fn fail_ws(&mut self, i: usize, code: u16, why: String) {
        let client = &mut self.clients[i];
        ws::encode_masked(OpCode::Close, &code.to_be_bytes(), mask_for(client.next), &mut client.out);
        self.flush(i);
        self.fail(i, why);
    }

    fn sse_bytes(&mut self, i: usize, data: &[u8]) -> Option<usize> {
        let client = &mut self.clients[i];
        let mut parser = client.sse.take()?;
        let mut events = std::mem::take(&mut self.sse_scratch);
        events.clear();
        let used = match client.dechunk.as_mut() {
            Some(dechunk) => {
                let mut plain = std::mem::take(&mut self.plain_scratch);
                plain.clear();
                let fed = dechunk.feed(data, &mut plain);
                if fed.is_ok() {
                    parser.feed(&plain, |e| push_event(&mut events, e.data.as_bytes()));
                }
                self.plain_scratch = plain;
                match fed {
                    Ok(n) => n,
                    Err(e) => {
                        self.sse_scratch = events;
                        self.fail(i, format!("bad chunked body: {e}"));
                        return None;
                    }
                }
            }
            None => {
                parser.feed(data, |e| push_event(&mut events, e.data.as_bytes()));
                data.len()
            }
        };
        // The event-stream format sets no limit on a line or an event; ours
        // is the largest message we accept at all.
        if parser.buffered() as u64 > MAX_MESSAGE {
            self.sse_scratch = events;
            self.fail(i, format!("an event longer than {MAX_MESSAGE} bytes"));
            return None;
        }
        self.clients[i].sse = Some(parser);
        let mut at = 0;
        while let Some(len) = events.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes) {
            let start = at + 4;
            let end = start + len as usize;
            let Some(msg) = events.get(start..end) else { break };
            self.on_message(i, msg);
            at = end;
        }
        self.sse_scratch = events;
        Some(used)
    }

    fn plaintext(&mut self, i: usize, data: &[u8]) -> Option<usize> {
        let client = &mut self.clients[i];
        let mut used = 0;
        if client.body.is_none() {
            match http::parse_head(data, false) {
                // RFC 9110 §15.2: interim answers come before the real one.
                Ok(Some(head)) if head.is_interim() => return Some(head.len),
                Ok(Some(head)) => {
                    client.body = Some((BodyReader::new(head.body), head.status));
                    used = head.len;
                    client.frag.clear();
                }
                Ok(None) => return Some(0),
                Err(e) => {
                    self.fail(i, format!("bad response head: {e}"));
                    return None;
                }
            }
        }
        let client = &mut self.clients[i];
        let Some((reader, status)) = client.body.as_mut() else { return Some(used) };
        let status = *status;
        match reader.feed(&data[used..], &mut client.frag) {
            Ok((n, complete)) => {
                used += n;
                if complete {
                    client.body = None;
                    let body = std::mem::take(&mut client.frag);
                    if status != 200 || body != b"Hello, World!" {
                        self.note(format!(
                            "conn {}: /plaintext answered {status} {:?}",
                            self.first + i,
                            String::from_utf8_lossy(&body)
                        ));
                    }
                    self.clients[i].frag = body;
                    let sent = self.clients[i].due;
                    self.record(self.now.saturating_sub(sent));
                    if self.running {
                        match self.pace {
                            None => self.send_plaintext(i),
                            // Paced: the next request is due one interval
                            // after this one was; one held back by a slow
                            // answer goes at once, timed from when it was due.
                            Some(every) if sent + every <= self.now => {
                                self.send_plaintext_at(i, sent + every)
                            }
                            Some(every) => self.clients[i].send_at = sent + every,
                        }
                    }
                }
                Some(used)
            }
            Err(e) => {
                self.fail(i, format!("bad response body: {e}"));
                None
            }
        }
    }

    fn record(&mut self, latency: u64) {
        if self.measuring {
            self.c.msgs += 1;
            self.hist.record(latency);
        }
    }

    fn on_message(&mut self, i: usize, msg: &[u8]) {
        let client = &mut self.clients[i];
        client.msgs += 1;
        if client.msgs == 1 {
            self.reached += 1;
        }
        match self.role {
            Role::WsSubscriber | Role::SseSubscriber => {
                let Some((seq, sent)) = payload::read(msg) else {
                    // Not one of ours (the capacity broadcast is, too): counted
                    // as reached, nothing more.
                    return;
                };
                let client = &mut self.clients[i];
                if seq < client.next {
                    self.dups += 1;
                    return;
                }
                // A sequence number far beyond anything published is not a
                // gap of that size but a server that made bytes up.
                if seq - client.next > MAX_GAP {
                    let due = client.next;
                    self.note(format!("conn {}: message {seq} while {due} was due", self.first + i));
                    return;
                }
                self.gaps += seq - client.next;
                client.next = seq + 1;
                self.record(self.now.saturating_sub(sent));
            }
            Role::Echo => {
                let client = &mut self.clients[i];
                let due = client.due;
                match payload::read(msg) {
                    Some((seq, sent)) if seq == due && payload::matches(msg, seq, sent, self.opts.size) => {
                        client.due += 1;
                        self.record(self.now.saturating_sub(sent));
                        if self.running {
                            self.send_echo(i);
                        }
                    }
                    _ => {
                        let shown = String::from_utf8_lossy(&msg[..msg.len().min(40)]).into_owned();
                        self.fail(i, format!("echo of message {due} came back wrong: {shown:?}"));
                    }
                }
            }
            Role::Plaintext => {}
        }
    }

    pub(super) fn send_echo(&mut self, i: usize) {
        let client = &mut self.clients[i];
        let seq = client.next;
        client.next += 1;
        let msg = &mut self.msg_scratch;
        msg.clear();
        payload::write(seq, unix_ns(), self.opts.size, msg);
        ws::encode_masked(OpCode::Text, msg, mask_for(seq), &mut client.out);
        if self.measuring {
            self.c.sent += 1;
        }
    }

    pub(super) fn send_plaintext(&mut self, i: usize) {
        self.send_plaintext_at(i, unix_ns());
    }

    /// Sends a /plaintext request whose latency counts from `due` (unix ns).
    pub(super) fn send_plaintext_at(&mut self, i: usize, due: u64) {
        let host = &self.opts.host;
        let client = &mut self.clients[i];
        client.due = due;
        http::request("GET", host, "/plaintext", &[], b"", &mut client.out);
        if self.measuring {
            self.c.sent += 1;
        }
    }
}

/// Length-prefixed records, so the parser's callback can hand events out
/// without borrowing the connection.
fn push_event(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
}

/// RFC 6455 §5.3: the masking key must be unpredictable to the *network*
/// (it defeats cache poisoning by intermediaries); on loopback any varying
/// key exercises the server's unmasking equally.
fn mask_for(seq: u64) -> [u8; 4] {
    ((seq as u32).wrapping_mul(0x9e37_79b9) | 1).to_be_bytes()
}
