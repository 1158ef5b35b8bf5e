//! The WebSocket client side, over tungstenite (a client we did not write):
//! the handshake, reading past control frames, and a clean close.

use std::net::TcpStream;

use tungstenite::{HandshakeError, Message, WebSocket};

use super::Server;

pub type Ws = WebSocket<TcpStream>;

/// The opening handshake for `path`: the socket on `101`, else the status
/// the server refused it with.
pub fn handshake(server: &Server, path: &str) -> Result<Ws, u16> {
    let stream = server.connect();
    match tungstenite::client(format!("ws://{}{path}", server.addr), stream) {
        Ok((ws, response)) => {
            assert_eq!(response.status().as_u16(), 101);
            Ok(ws)
        }
        Err(HandshakeError::Failure(tungstenite::Error::Http(response))) => Err(response.status().as_u16()),
        Err(e) => panic!("{path}: {e}"),
    }
}

/// A socket on `path`, which must be upgraded.
pub fn connect(server: &Server, path: &str) -> Ws {
    handshake(server, path).unwrap_or_else(|status| panic!("{path}: handshake refused with {status}"))
}

/// The next data message or Close (pings are answered by tungstenite and
/// skipped, as are pongs).
pub fn next_data(ws: &mut Ws) -> Message {
    loop {
        match ws.read().expect("a message") {
            m @ (Message::Text(_) | Message::Binary(_) | Message::Close(_)) => return m,
            _ => continue,
        }
    }
}

/// The next message, which must be text.
pub fn next_text(ws: &mut Ws) -> String {
    match next_data(ws) {
        Message::Text(t) => t.as_str().to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// A clean close: our Close, the server's answer, then the end.
pub fn close(mut ws: Ws) {
    ws.close(None).expect("close");
    loop {
        match ws.read() {
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Closes every other socket cleanly (the first, the third, …) and drops the
/// rest with no Close frame: the TCP connection just goes away, as a page's
/// does.
pub fn close_half_drop_half(sockets: Vec<Ws>) {
    for (i, ws) in sockets.into_iter().enumerate() {
        if i % 2 == 0 {
            close(ws);
        } else {
            drop(ws);
        }
    }
}
