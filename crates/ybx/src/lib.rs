//! The 游宝星 e-ticket trading interface front end (`/ybx/<Page>.aspx`). This first part is the
//! security layer every page stands on: the `TripleDes` field cipher and the request and
//! response signatures (`docs/protocols/youbaoxing.md` §2).

pub mod crypto;
