//! linearizability: placeholder until its issue lands.
