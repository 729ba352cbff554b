//! labtools: the student's loop (stress runner, log pretty-printer). Placeholder.
