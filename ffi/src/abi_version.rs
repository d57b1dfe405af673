/// The major version of the C ABI. It is in the SONAME (`libscpool.so.1`) and changes
/// only when an existing function or struct field changes meaning or layout; new
/// functions and new trailing struct fields keep it.
pub const SCPOOL_ABI_MAJOR: u32 = 1;
