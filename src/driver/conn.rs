//! One client connection as the loop holds it: the protocol's
//! [`Connection`] with the socket riding in it, and the poll interest the
//! socket is registered with, derived from the connection's state.

use mio::net::TcpStream;
use mio::Interest;

use crate::conn::Connection;
pub use crate::conn::Phase;

pub type Conn = Connection<TcpStream>;

/// pushwire-proto holds a connection to 48 bytes with a 4-byte socket; mio's
/// `TcpStream` is one in release builds. Debug builds get 16 more: mio's
/// `IoSource` carries a selector id there only, to catch a socket
/// registered with two polls, and it moves the socket's alignment.
const BUDGET: usize = if cfg!(debug_assertions) { 64 } else { 48 };
const _: () = assert!(std::mem::size_of::<Conn>() <= BUDGET);

/// The interest the connection's state asks for, as rustls' mio example
/// derives it: read unless the peer closed or output is backed up; write
/// only while output waits.
pub fn interest(conn: &Conn) -> Option<Interest> {
    to_interest(conn.wants_read(), conn.wants_write())
}

/// The interest the socket is registered with (None: not registered).
pub fn registered(conn: &Conn) -> Option<Interest> {
    to_interest(conn.registered_read(), conn.registered_write())
}

pub fn set_registered(conn: &mut Conn, interest: Option<Interest>) {
    conn.set_registered_read(interest.is_some_and(|i| i.is_readable()));
    conn.set_registered_write(interest.is_some_and(|i| i.is_writable()));
}

fn to_interest(read: bool, write: bool) -> Option<Interest> {
    match (read, write) {
        (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
        (true, false) => Some(Interest::READABLE),
        (false, true) => Some(Interest::WRITABLE),
        (false, false) => None,
    }
}
