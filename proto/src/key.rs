//! How everything outside the driver names a connection.
//!
//! The slab reuses a freed index for the next connection (most recently freed
//! first), so an index alone could name a different client by the time a
//! timer fires or another thread's message arrives. A key carries the
//! generation the connection was accepted with; a key whose generation no
//! longer matches names nobody.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ConnKey {
    pub index: u32,
    pub gen: u32,
}

impl fmt::Display for ConnKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.gen)
    }
}
