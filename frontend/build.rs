//! The linked wasm keeps its relocations, which scripts/build.sh's split step needs to move the
//! lazy routes' functions and data into modules of their own. A link argument of this crate
//! only, rather than a rustflag: a rustflag would rebuild every dependency and std with it.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo::rustc-link-arg-cdylib=--emit-relocs");
    }
}
