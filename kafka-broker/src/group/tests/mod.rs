//! The coordinator's tests, through its async API: timeouts under paused time, offsets and
//! group administration, and every group API at every version.

mod coordinator;
mod offsets;
mod versions;
