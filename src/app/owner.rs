//! Who owns each stream, socket and parked request, and whose each timer is.
//!
//! A request that starts a stream (an event stream, a WebSocket, a parked
//! long-poll) is answered by one scenario or built-in route family; from
//! then on every event of that connection (`on_message`, `on_timeout`,
//! `on_writable`, and its one `on_end`) goes to that owner and to no one
//! else. A timer carries its owner in its token, so it fires only there.

use super::ScenarioId;
use crate::key::ConnKey;

/// A scenario of SPEC §3, or one of the built-in route families of SPEC §2.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Owner {
    /// `/topics/…` subscribers (SSE and WebSocket) and `/poll/…` long-polls.
    Topics,
    /// `/stats/stream` watchers, and the tick that feeds them.
    Status,
    /// `/ws/echo` sockets.
    Echo,
    Scenario(ScenarioId),
}

/// The owner of each connection's stream, one slot per connection index.
///
/// One byte a slot (`Option<Owner>` fits in a byte: `ScenarioId` is a
/// field-less enum and leaves room for the other variants and `None`), up
/// to the highest index used, as the slab itself: SPEC §6 wants less than
/// 100 B per idle connection, and this is 1 of them. No generation is kept,
/// because none is needed: the driver tells the app about a connection only
/// between the reply that started its stream (which writes the slot) and
/// that stream's one `on_end` (which empties it), so a slot read is always
/// the current connection's. Were that broken, the event would reach a
/// scenario whose registries (keyed by the whole [`ConnKey`], generation
/// included) know nothing of it.
#[derive(Default)]
pub struct Owners {
    slots: Vec<Option<Owner>>,
}

const _: () = assert!(size_of::<Option<Owner>>() == 1);

impl Owners {
    pub fn set(&mut self, key: ConnKey, owner: Owner) {
        let index = key.index as usize;
        if self.slots.len() <= index {
            self.slots.resize(index + 1, None);
        }
        self.slots[index] = Some(owner);
    }

    pub fn get(&self, key: ConnKey) -> Option<Owner> {
        self.slots.get(key.index as usize).copied().flatten()
    }

    /// The owner, and the slot emptied: the stream is over.
    pub fn take(&mut self, key: ConnKey) -> Option<Owner> {
        self.slots.get_mut(key.index as usize).and_then(Option::take)
    }

    /// Streams with an owner now (a scan: for tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }
}

/// A timer's token: whose it is, and the owner's own number for it. The
/// fields are private: a scenario sets a timer with [`super::Out::timer`],
/// which writes the scenario's own id, so a timer cannot be set for (or
/// fire in) another scenario.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TimerToken {
    owner: Owner,
    id: u64,
}

impl TimerToken {
    pub(super) fn new(owner: Owner, id: u64) -> TimerToken {
        TimerToken { owner, id }
    }

    pub fn owner(&self) -> Owner {
        self.owner
    }

    /// The owner's number for this timer.
    pub fn id(&self) -> u64 {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(index: u32, gen: u32) -> ConnKey {
        ConnKey { index, gen }
    }

    #[test]
    fn a_slot_holds_its_owner_until_taken() {
        let mut owners = Owners::default();
        assert_eq!(owners.get(key(5, 1)), None, "beyond the table: nobody");
        owners.set(key(5, 1), Owner::Scenario(ScenarioId::Chat));
        owners.set(key(0, 1), Owner::Topics);
        assert_eq!(owners.get(key(5, 1)), Some(Owner::Scenario(ScenarioId::Chat)));
        assert_eq!(owners.get(key(3, 1)), None);
        assert_eq!(owners.take(key(5, 1)), Some(Owner::Scenario(ScenarioId::Chat)));
        assert_eq!(owners.take(key(5, 1)), None, "taken once");
        assert_eq!(owners.len(), 1);
        // The next connection at an index writes its own owner first.
        owners.set(key(0, 2), Owner::Echo);
        assert_eq!(owners.get(key(0, 2)), Some(Owner::Echo));
    }
}
