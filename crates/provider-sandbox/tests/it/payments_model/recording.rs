//! A tap on the pass-through store of testkit that watches every committed write of a payment
//! session, so the property test can check each status move against the graph of `domain.md`,
//! not only the state between two steps. It changes nothing: every call goes to the wrapped
//! store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ledger_core::id::PaymentSessionId;
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::LedgerStore;
use testkit::tapped_store::{Tap, TappedStore, UnitTap};

/// The moves of `domain.md`'s payment-session diagram, plus the two its prose and the
/// `Payments::confirm` contract add: a capture reported after the session expired or failed
/// still credits (`expired|failed → captured`), and a capture the provider refuses as not
/// approved or declined puts the session back to `created` (the buyer may approve again).
fn is_spec_edge(from: PaymentStatus, to: PaymentStatus) -> bool {
    use PaymentStatus::{
        Canceled, Captured, Capturing, Completed, Confirmed, Confirming, Created, Expired, Failed,
        Refunded,
    };
    matches!(
        (from, to),
        (Created, Capturing | Canceled | Expired)
            | (Capturing, Captured | Failed | Created)
            | (Captured, Confirming | Failed)
            | (Confirming, Confirmed)
            | (Confirmed, Completed)
            | (Completed, Refunded)
            | (Expired | Failed, Captured)
    )
}

/// Whether `to` can be reached from `from` along the spec's edges (one committed write may
/// take several moves: crediting goes `captured → confirming → confirmed → completed` in one
/// unit). Staying put is always allowed.
pub(super) fn is_reachable(from: PaymentStatus, to: PaymentStatus) -> bool {
    let mut seen = vec![from];
    let mut frontier = vec![from];
    while let Some(status) = frontier.pop() {
        if status == to {
            return true;
        }
        for next in PaymentStatus::ALL {
            if is_spec_edge(status, next) && !seen.contains(&next) {
                seen.push(next);
                frontier.push(next);
            }
        }
    }
    false
}

/// What the recorder saw: the committed status of each session, and every illegal move.
#[derive(Debug, Default)]
pub(super) struct Transitions {
    committed: HashMap<PaymentSessionId, PaymentStatus>,
    /// Each committed move that the spec's graph does not allow, in words.
    pub(super) illegal: Vec<String>,
    /// How many session writes were committed (a sanity check that the recorder is wired).
    pub(super) writes: u64,
}

impl Transitions {
    fn commit(&mut self, writes: Vec<(PaymentSessionId, PaymentStatus, bool)>) {
        for (id, status, inserted) in writes {
            self.writes += 1;
            match self.committed.get(&id) {
                None if inserted && status != PaymentStatus::Created => self
                    .illegal
                    .push(format!("{id} was inserted as {status}, not created")),
                Some(&from) if !is_reachable(from, status) => {
                    self.illegal.push(format!("{id} moved {from} → {status}"));
                }
                _ => {}
            }
            self.committed.insert(id, status);
        }
    }
}

/// The tap of the wrapped store: it keeps what every committed unit wrote.
#[derive(Debug, Default)]
pub(super) struct Recorder {
    transitions: Arc<Mutex<Transitions>>,
}

impl Recorder {
    /// The memory store wrapped so that every unit is watched, and what the recorder saw.
    pub(super) fn wrap(inner: Arc<dyn LedgerStore>) -> (TappedStore, Arc<Mutex<Transitions>>) {
        let recorder = Arc::new(Self::default());
        let transitions = recorder.transitions.clone();
        (TappedStore::new(inner, recorder), transitions)
    }
}

impl Tap for Recorder {
    fn unit(&self) -> Box<dyn UnitTap> {
        Box::new(RecordingUnit {
            writes: Vec::new(),
            transitions: self.transitions.clone(),
        })
    }
}

/// The tap of one unit: its session writes, remembered until it commits.
struct RecordingUnit {
    /// `(session, status written, whether it was an insert)`, in write order.
    writes: Vec<(PaymentSessionId, PaymentStatus, bool)>,
    transitions: Arc<Mutex<Transitions>>,
}

impl UnitTap for RecordingUnit {
    fn session_written(&mut self, session: &PaymentSession, inserted: bool) {
        self.writes
            .push((session.id.clone(), session.status, inserted));
    }

    fn committed(self: Box<Self>) {
        let Self {
            writes,
            transitions,
        } = *self;
        transitions
            .lock()
            .expect("no test code panics while holding the transitions lock")
            .commit(writes);
    }
}
