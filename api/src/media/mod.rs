//! Photo evidence: processing uploads (type from bytes, limits, EXIF, orientation, shrinking,
//! re-encoding) and storing them under their content hash.

pub mod process;
pub mod store;
