//! The translations are read inside `leptos_i18n::load_locales!` at compile time, which cargo
//! does not track: without this, an edited `locales/*.json` left an incremental build (the
//! wasm bundle's above all) with the old texts.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
