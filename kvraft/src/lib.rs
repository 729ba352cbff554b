//! kvraft: placeholder until its issue lands.
