//! labrpc: placeholder until its issue lands.
