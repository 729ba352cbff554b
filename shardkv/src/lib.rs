//! shardkv: placeholder until its issue lands.
