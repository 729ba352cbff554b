//! The viewservice Clerk (provided to students in the lab): what a pbservice
//! server uses to ping, and what clients use to find the primary.

use labrpc::{ClientEnd, Error};

use crate::common::{GetArgs, GetReply, PingArgs, PingReply, SERVICE, View};

/// A client of the viewservice. `me` is the caller's name: a server pings
/// under it; a pure client may leave it empty.
#[derive(Clone, Debug)]
pub struct Clerk {
    me: String,
    server: ClientEnd,
}

impl Clerk {
    /// Go's `MakeClerk(me, server)`, with the end already connected to the
    /// viewservice.
    pub fn new(me: &str, server: ClientEnd) -> Clerk {
        Clerk {
            me: me.to_string(),
            server,
        }
    }

    pub fn me(&self) -> &str {
        &self.me
    }

    /// Go's `Ping(viewnum)`: tell the viewservice we are alive and have seen
    /// `viewnum` (0: just restarted); returns the current view.
    ///
    /// Panics if the clerk has no name: only a named server can volunteer.
    pub async fn ping(&self, viewnum: u64) -> Result<View, Error> {
        assert!(
            !self.me.is_empty(),
            "viewservice::Clerk::ping: this clerk has no name (Clerk::new(\"\", ..) is for clients, which only Get)"
        );
        let args = PingArgs {
            me: self.me.clone(),
            viewnum,
        };
        let reply: Option<PingReply> = self.server.call(&format!("{SERVICE}.Ping"), &args).await?;
        reply.map(|r| r.view).ok_or(Error::Unreachable)
    }

    /// Go's `Get()`: the current view, or `None` if the call failed.
    pub async fn get(&self) -> Option<View> {
        let reply: Option<GetReply> = self
            .server
            .call(&format!("{SERVICE}.Get"), &GetArgs {})
            .await
            .ok()?;
        reply.map(|r| r.view)
    }

    /// Go's `Primary()`: the current primary, or "" if there is none or the
    /// call failed.
    pub async fn primary(&self) -> String {
        self.get().await.map(|v| v.primary).unwrap_or_default()
    }
}
