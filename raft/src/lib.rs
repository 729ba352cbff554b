//! raft: placeholder until its issue lands.
