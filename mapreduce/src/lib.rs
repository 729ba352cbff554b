//! mapreduce: placeholder until its issue lands.
