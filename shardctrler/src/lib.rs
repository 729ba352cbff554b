//! shardctrler: placeholder until its issue lands.
