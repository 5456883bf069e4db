//! Charts: where they come from (a path, a Helm repository, an OCI registry), which version a
//! constraint selects, the lock that pins it, and the shared cache that holds it unpacked.

pub mod archive;
pub mod cache;
pub mod cred_helper;
pub mod credentials;
pub mod deps;
pub mod index;
pub mod lock;
pub mod oci;
pub mod repo;
pub mod resolve;
pub mod source;
pub mod transport;
