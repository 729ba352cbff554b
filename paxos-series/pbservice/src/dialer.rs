//! Ends to servers by name, made on demand.
//!
//! In the 2015 labs a server or client reaches another server by its socket
//! path, dialling a fresh connection per call. The view names servers, so a
//! primary must be able to reach whichever server the viewservice names as
//! its backup, and a clerk whichever it names as primary. A [`Dialer`] is
//! that ability on labrpc's 2015 profile: it makes one end per server path
//! ([`Network::end_to`]) for one caller, and reuses it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use labrpc::{ClientEnd, Network};

/// One caller's ends to servers by name. Cloning shares the ends.
#[derive(Clone)]
pub struct Dialer {
    net: Network,
    // A std mutex: held only to look up or insert an end, never across an await.
    ends: Arc<Mutex<BTreeMap<String, ClientEnd>>>,
}

impl Dialer {
    pub fn new(net: Network) -> Dialer {
        Dialer {
            net,
            ends: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// The caller's end to `server`, made and enabled on first use.
    pub fn end(&self, server: &str) -> ClientEnd {
        assert!(
            !server.is_empty(),
            "cannot dial a server with an empty name"
        );
        let mut ends = self.ends.lock().unwrap_or_else(|e| e.into_inner());
        ends.entry(server.to_string())
            .or_insert_with(|| self.net.end_to(server))
            .clone()
    }
}
