//! The viewservice as the cluster harness sees it, written once for the
//! viewservice test and pbservice's harness (which includes this file by
//! its path): its timeline lane shows the current view.

use std::sync::Arc;

use labtest::Status;
use viewservice::{View, ViewServer};

labtest::lab!(
    /// labtest's view of the viewservice: its lane shows the view.
    VsLab, Arc<ViewServer>,
    services: |vs| vec![vs.service()],
    status: |vs| {
        let v = vs.current_view();
        Status::new(lane_label(&v), (v.viewnum > 0).then_some(v.viewnum))
    }
);

/// `p=<primary> b=<backup>`, `-` for none.
fn lane_label(v: &View) -> String {
    let name = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    format!("p={} b={}", name(&v.primary), name(&v.backup))
}
