//! The benchmark's data: a catalog, buyers, pending orders to pay and files to download, written
//! straight into a fresh database (migrated by the server's own code) before the server starts.
//!
//! Rows are generated inside SQLite by recursive CTEs, one statement per table in one
//! transaction: 100,000 products and 1,000,000 orders go in within seconds, where a round trip
//! per row would take minutes.

use sqlx::SqlitePool;
use std::io::Write;
use std::path::Path;

/// The Telegram user who buys and downloads in the JSON and download measurements.
pub const BUYER: i64 = 2_000_000;
/// Buyers of the pending orders, `BUYERS_FROM .. BUYERS_FROM + BUYER_COUNT`.
const BUYERS_FROM: i64 = 2_100_000;
const BUYER_COUNT: i64 = 1_000;
/// Creators of the catalog.
const CREATORS_FROM: i64 = 1_000_000;
const CREATOR_COUNT: i64 = 20;
/// Past customers of the `--large` order history.
const HISTORY_USERS_FROM: i64 = 3_000_000;
const HISTORY_USER_COUNT: i64 = 50_000;

pub const BIG_FILE_BYTES: u64 = 256 * 1024 * 1024;
pub const BIG_FILE_KEY: &str = "bench/big-file.bin";
const CONTENT_KEY: &str = "bench/content.pdf";
const CONTENT_BYTES: usize = 64 * 1024;
const COVER_KEY: &str = "covers/bench.svg";

#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub products: i64,
    /// Paid orders already in the shop (the `--large` history).
    pub history_orders: i64,
    /// Pending orders the payment measurement pays, one `successful_payment` each.
    pub payments: i64,
    /// Pending orders the pre-checkout measurement asks about.
    pub pre_checkouts: i64,
}

/// A pending order as the load generators need it.
#[derive(Clone, Debug)]
pub struct PendingOrder {
    pub public_id: String,
    pub user_id: i64,
    pub amount: i64,
}

pub struct Seeded {
    /// The product page measured (a mid-catalog product).
    pub product_slug: String,
    /// The content file of the download measurement, owned by [`BUYER`].
    pub big_file_id: i64,
    pub payments: Vec<PendingOrder>,
    pub pre_checkouts: Vec<PendingOrder>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SeedError + '_ {
    move |source| SeedError::Io {
        path: path.display().to_string(),
        source,
    }
}

pub async fn seed(db: &SqlitePool, files_dir: &Path, sizes: Sizes) -> Result<Seeded, SeedError> {
    write_files(files_dir)?;
    let now = clock::unix_now();
    let mut tx = db.begin().await?;
    // Users: the creators, the measured buyer, the buyers of pending orders, the history's customers.
    for (from, count, name) in [
        (CREATORS_FROM, CREATOR_COUNT, "Creator"),
        (BUYER, 1, "Bench"),
        (BUYERS_FROM, BUYER_COUNT, "Buyer"),
        (HISTORY_USERS_FROM, HISTORY_USER_COUNT, "Customer"),
    ] {
        sqlx::query(
            "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?2)
             INSERT INTO users (id, first_name, username, language_code)
             SELECT ?1 + n, ?3 || ' ' || n, lower(?3) || n, 'en' FROM seq",
        )
        .bind(from)
        .bind(count)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO creators (user_id, display_name, bio)
         SELECT id, 'Studio ' || (id - ?1), 'Makes things worth buying.' FROM users
         WHERE id >= ?1 AND id < ?1 + ?2",
    )
    .bind(CREATORS_FROM)
    .bind(CREATOR_COUNT)
    .execute(&mut *tx)
    .await?;
    // Products 1..=N: slug bench-000001, newest first by id, a third of each kind.
    sqlx::query(
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1)
         INSERT INTO products (id, creator_id, slug, kind, title, description, price_stars,
                               cover_key, status, created_at, updated_at, published_at,
                               stamp_copies)
         SELECT n, ?2 + n % ?3, printf('bench-%06d', n),
                CASE n % 3 WHEN 0 THEN 'ebook' WHEN 1 THEN 'course' ELSE 'file' END,
                printf('Benchmark product %d: a guide to everything', n),
                'A realistic description of a product, long enough to look like one a creator '
                  || 'would write: what is inside, who it is for and what the buyer gets.',
                1 + n % 500, ?4, 'published', ?5 - n, ?5 - n, ?5 - n, 0
         FROM seq",
    )
    .bind(sizes.products)
    .bind(CREATORS_FROM)
    .bind(CREATOR_COUNT)
    .bind(COVER_KEY)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // One content file per product (what deliveries send) and a free sample. The content is
    // stand-in bytes, no PDF a stamped copy could be made of: the products above are sold as
    // uploaded (`stamp_copies` 0), and the bench measures serving stored files.
    for (role, name, key, mime) in [
        ("content", "book.pdf", CONTENT_KEY, "application/pdf"),
        ("sample", "sample.pdf", COVER_KEY, "image/svg+xml"),
    ] {
        sqlx::query(
            "INSERT INTO product_files (product_id, role, file_name, mime_type, size_bytes, sha256, storage_key)
             SELECT id, ?1, ?2, ?3, ?4, printf('%064d', 0), ?5 FROM products",
        )
        .bind(role)
        .bind(name)
        .bind(mime)
        .bind(CONTENT_BYTES as i64)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    }
    // The big file belongs to the oldest product, which no measured order buys.
    let big_file_id: i64 = sqlx::query_scalar(
        "INSERT INTO product_files (product_id, role, file_name, mime_type, size_bytes, sha256, storage_key)
         VALUES (?1, 'content', 'big-file.bin', 'application/octet-stream', ?2, printf('%064d', 0), ?3)
         RETURNING id",
    )
    .bind(sizes.products)
    .bind(BIG_FILE_BYTES as i64)
    .bind(BIG_FILE_KEY)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO entitlements (user_id, product_id) VALUES (?1, ?2)")
        .bind(BUYER)
        .bind(sizes.products)
        .execute(&mut *tx)
        .await?;
    if sizes.history_orders > 0 {
        sqlx::query(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1)
             INSERT INTO orders (public_id, user_id, product_id, amount_stars, status, invoice_link,
                                 telegram_payment_charge_id, created_at, paid_at, expires_at)
             SELECT printf('bench-history-%09d', n), ?2 + n % ?3, 1 + n % ?4, 1 + n % 500,
                    CASE WHEN n % 10 = 0 THEN 'expired' ELSE 'paid' END,
                    'https://t.me/$bench' || n,
                    CASE WHEN n % 10 = 0 THEN NULL ELSE printf('bench-history-charge-%09d', n) END,
                    ?5 - n, CASE WHEN n % 10 = 0 THEN NULL ELSE ?5 - n END, ?5 - n + 3600
             FROM seq",
        )
        .bind(sizes.history_orders)
        .bind(HISTORY_USERS_FROM)
        .bind(HISTORY_USER_COUNT)
        .bind(sizes.products)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    // Pending orders: buyer i % BUYER_COUNT, each (buyer, product) pair once, products from
    // `first_product` on, so payments and pre-checkouts never touch the same order.
    let pending = |prefix: &'static str, count: i64, first_product: i64| {
        let buyers = BUYER_COUNT.min(count.max(1));
        let query = sqlx::query_as::<_, (String, i64, i64)>(
            "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?1)
             INSERT INTO orders (public_id, user_id, product_id, amount_stars, status, invoice_link,
                                 created_at, expires_at)
             SELECT printf('%s-%09d', ?2, n), ?3 + n % ?4, ?5 + n / ?4, 1 + (?5 + n / ?4) % 500,
                    'pending', 'https://t.me/$bench-' || ?2 || n, ?6, ?6 + 86400
             FROM seq
             RETURNING public_id, user_id, amount_stars",
        )
        .bind(count)
        .bind(prefix)
        .bind(BUYERS_FROM)
        .bind(buyers)
        .bind(first_product)
        .bind(now);
        (query, count / buyers + 1)
    };
    let (query, products_used) = pending("bench-pay", sizes.payments, 1);
    let payments = query.fetch_all(&mut *tx).await?;
    let (query, _) = pending("bench-pcq", sizes.pre_checkouts, 1 + products_used);
    let pre_checkouts = query.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    // Fresh statistics, as a long-running shop would have them.
    sqlx::query("PRAGMA optimize").execute(db).await?;

    let to_orders = |rows: Vec<(String, i64, i64)>| {
        rows.into_iter()
            .map(|(public_id, user_id, amount)| PendingOrder {
                public_id,
                user_id,
                amount,
            })
            .collect()
    };
    Ok(Seeded {
        product_slug: format!("bench-{:06}", sizes.products / 2),
        big_file_id,
        payments: to_orders(payments),
        pre_checkouts: to_orders(pre_checkouts),
    })
}

/// The stored files: a cover, a 64 KiB content file every product delivers, and the 256 MiB
/// download.
fn write_files(files_dir: &Path) -> Result<(), SeedError> {
    let cover = files_dir.join("public").join(COVER_KEY);
    let content = files_dir.join("private").join(CONTENT_KEY);
    let big = files_dir.join("private").join(BIG_FILE_KEY);
    for path in [&cover, &content, &big] {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
    }
    std::fs::write(
        &cover,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 3 4\"><rect width=\"3\" height=\"4\" fill=\"#fc0\"/></svg>",
    )
    .map_err(io_err(&cover))?;
    // Incompressible bytes (xorshift), so no layer could cheat by compressing them.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut block = vec![0u8; 1024 * 1024];
    for chunk in block.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    std::fs::write(&content, &block[..CONTENT_BYTES]).map_err(io_err(&content))?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&big).map_err(io_err(&big))?);
    for _ in 0..BIG_FILE_BYTES / block.len() as u64 {
        file.write_all(&block).map_err(io_err(&big))?;
    }
    file.flush().map_err(io_err(&big))?;
    Ok(())
}
