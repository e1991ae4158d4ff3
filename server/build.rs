// sqlx::migrate! embeds the migration files at compile time, but Cargo only notices edits to
// files it already embedded: a new migration would be missed by an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
