//! The demo catalog: a few creators with real-looking e-books, courses and a file bundle, each with
//! a generated cover, a free sample and the paid content. Applying it twice changes nothing.

mod cover;
mod epub;
pub(crate) mod pdf;
mod video;
mod wav;

use crate::db::Db;
use crate::storage::{Area, Headers, Storage, StorageError, StoredFile};
use app::api::ProductKind;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database error while seeding")]
    Db(#[from] sqlx::Error),
    #[error("storage error while seeding")]
    Storage(#[from] StorageError),
}

struct DemoCreator {
    id: i64,
    first_name: &'static str,
    username: &'static str,
    display_name: &'static str,
    bio: &'static str,
}

struct DemoProduct {
    slug: &'static str,
    kind: ProductKind,
    title: &'static str,
    price_stars: i64,
    creator_id: i64,
    description: &'static str,
    /// Chapters or lessons: (heading, body). The first one is the free sample.
    parts: &'static [(&'static str, &'static str)],
}

/// Demo user ids sit far below real Telegram ids' range of use, so they never collide in practice.
const CREATORS: &[DemoCreator] = &[
    DemoCreator {
        id: 1001,
        first_name: "Mira",
        username: "mira_writes",
        display_name: "Mira Patel",
        bio: "Engineer and author of practical programming guides.",
    },
    DemoCreator {
        id: 1002,
        first_name: "Oleg",
        username: "oleg_lens",
        display_name: "Oleg Ivanov",
        bio: "Night photographer and teacher.",
    },
    DemoCreator {
        id: 1003,
        first_name: "North",
        username: "studio_north",
        display_name: "Studio North",
        bio: "Small studio making courses and sounds.",
    },
];

const PRODUCTS: &[DemoProduct] = &[
    DemoProduct {
        slug: "pocket-guide-to-rust",
        kind: ProductKind::Ebook,
        title: "The Pocket Guide to Rust",
        price_stars: 250,
        creator_id: 1001,
        description: "A compact field guide to Rust for programmers who already know another language.\n\n\
            Ownership, borrowing, traits, error handling and async explained with short, runnable examples. \
            120 pages, PDF.",
        parts: &[
            ("1. Ownership in ten minutes", "Every value in Rust has one owner. When the owner goes out of scope, the value is dropped.\n\nBorrowing lets code read or change a value without taking it: many shared borrows or one mutable borrow, never both at once."),
            ("2. Traits are contracts", "A trait names behaviour a type promises. Generic functions ask for traits, not for concrete types.\n\nDerive the common traits, implement the rest, and let the compiler check the promises."),
            ("3. Errors are values", "Result carries success or failure. The question mark operator passes failures up.\n\nLibraries define error enums with thiserror; applications add context where they handle them."),
        ],
    },
    DemoProduct {
    slug: "night-photography-field-notes",
    kind: ProductKind::Ebook,
    title: "Night Photography Field Notes",
    price_stars: 180,
    creator_id: 1002,
    description: "Settings, gear and habits for sharp photos after dark.\n\n\
        Star trails, city lights and the blue hour, with exposure tables for each. PDF and EPUB.",
    parts: &[
        ("Before sunset", "Scout the place in daylight. Note where the moon will rise and where street lights fall.\n\nPack a tripod, a remote release and a headlamp with a red mode."),
        ("The blue hour", "For about thirty minutes after sunset the sky balances the city lights. Expose for the sky, around f/8 and two seconds at ISO 100."),
        ("Star trails", "Point north, open the lens wide and take thirty-second frames for an hour.\n\nStack them at home: the sky turns around the pole star in bright arcs."),
    ],
    },
    DemoProduct {
        slug: "sourdough-at-home",
        kind: ProductKind::Ebook,
        title: "Sourdough at Home",
        price_stars: 120,
        creator_id: 1003,
        description: "From a jar of flour and water to a crackling loaf in one week.\n\n\
            Starter care, hydration tables, shaping and baking schedules that fit a working day.",
        parts: &[
            ("Day 1: Starting the starter", "Mix 50 g of whole-grain flour with 50 g of water in a clean jar. Cover loosely and keep it warm.\n\nTomorrow, discard half and feed it again with the same amounts."),
            ("Day 4: The float test", "A ripe starter doubles within eight hours of feeding and a spoonful floats in water.\n\nThat is the signal to mix your first dough."),
        ],
    },
    DemoProduct {
        slug: "telegram-mini-apps-from-scratch",
        kind: ProductKind::Course,
        title: "Telegram Mini Apps from Scratch",
        price_stars: 900,
        creator_id: 1001,
        description: "Build, ship and sell a Telegram Mini App in eight lessons.\n\n\
            Covers the WebApp API, theming, validating initData on the server, and payments in Telegram Stars.",
        parts: &[
            ("Lesson 1: What a Mini App is", "A Mini App is a web page that Telegram opens inside its own window, with access to the user's theme, the main button and payments.\n\nIn this lesson we create a bot with BotFather and attach a web app URL to it."),
            ("Lesson 2: Trust nothing from the client", "The page receives initData signed by Telegram. The server checks the signature with the bot token before it believes the user id.\n\nWe implement the check and test it against a published vector."),
            ("Lesson 3: Selling with Stars", "Digital goods in Telegram are paid in Stars. The bot creates an invoice link, the app opens it, and the bot grants access when the payment arrives."),
        ],
    },
    DemoProduct {
        slug: "watercolour-basics",
        kind: ProductKind::Course,
        title: "Watercolour Basics in 7 Lessons",
        price_stars: 450,
        creator_id: 1003,
        description: "Loose, luminous watercolour for complete beginners.\n\n\
            Seven lessons with exercises: washes, wet-in-wet, layering, and a final landscape.",
        parts: &[
            ("Lesson 1: Paper, paint and water", "Cold-pressed paper of 300 g/m2 will not buckle under a wash. Start with three colours: a warm yellow, a cool blue and a red.\n\nExercise: paint a flat wash and a graded wash."),
            ("Lesson 2: Wet-in-wet", "Drop paint into wet paper and let it spread. Timing is everything: too wet and it floods, too dry and it leaves hard edges."),
        ],
    },
    DemoProduct {
        slug: "lofi-sample-pack-vol-1",
        kind: ProductKind::File,
        title: "Lo-fi Sample Pack Vol. 1",
        price_stars: 300,
        creator_id: 1003,
        description: "Warm, royalty-free tones and loops for beats and videos.\n\n\
            WAV files, 16-bit. Includes a free preview.",
        parts: &[],
    },
];

/// The demo e-book whose buyers get an EPUB beside the PDF.
const EPUB_BOOK: &str = "night-photography-field-notes";

/// What the seed added this time (zero on a repeat run).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub products_added: usize,
}

pub async fn apply(db: &Db, storage: &Storage) -> Result<SeedReport, SeedError> {
    for c in CREATORS {
        crate::on_db!(db, |pool| {
            sqlx::query(
            "INSERT INTO users (id, first_name, username) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(c.id)
        .bind(c.first_name)
        .bind(c.username)
        .execute(pool)
        .await
        .map(crate::db::Done::from)
        })?;
        crate::on_db!(db, |pool| sqlx::query(
            "INSERT INTO creators (user_id, display_name, bio) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(c.id)
        .bind(c.display_name)
        .bind(c.bio)
        .execute(pool)
        .await
        .map(crate::db::Done::from))?;
    }

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut report = SeedReport::default();
    for (index, product) in PRODUCTS.iter().enumerate() {
        // Files first (idempotent, deterministic bytes): a crash before the insert leaves nothing
        // that the next run would not overwrite with the same content.
        let files = product_files(product, storage).await?;
        let cover_key = format!("covers/{}.svg", product.slug);
        put_if_missing(
            storage,
            Area::Public,
            &cover_key,
            cover::svg(product.slug, product.title, cover_label(product.kind)).as_bytes(),
            &Headers::inline("image/svg+xml"),
        )
        .await?;

        // begin_write (SQLite: IMMEDIATE): replicas starting together seed the same file; a
        // deferred transaction's write would be refused at once when the other committed first.
        crate::on_db!(db, |pool| {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO products
               (creator_id, slug, kind, title, description, price_stars, cover_key, status, published_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'published', $8)
             ON CONFLICT (slug) DO NOTHING
             RETURNING id",
        )
        .bind(product.creator_id)
        .bind(product.slug)
        .bind(product.kind.as_str())
        .bind(product.title)
        .bind(product.description)
        .bind(product.price_stars)
        .bind(&cover_key)
        // Newest first in the catalog follows the order of the list above.
        .bind(now - index as i64 * 3600)
        .fetch_optional(&mut *tx)
        .await?;
            let Some((product_id,)) = inserted else {
                continue;
            };
            for file in files {
                sqlx::query(
                "INSERT INTO product_files (product_id, role, file_name, mime_type, size_bytes, sha256, storage_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(product_id)
            .bind(file.role)
            .bind(&file.name)
            .bind(file.mime)
            .bind(file.stored.size_bytes as i64)
            .bind(&file.stored.sha256)
            .bind(&file.stored.key)
            .execute(&mut *tx)
            .await?;
            }
            tx.commit().await?;
        });
        report.products_added += 1;
    }
    for product in PRODUCTS.iter().filter(|p| p.kind == ProductKind::Course) {
        seed_lessons(db, product).await?;
    }
    seed_video(db, storage, VIDEO_COURSE).await?;
    Ok(report)
}

/// A demo course's parts as its lessons, the first a free preview; only when it has none (a
/// shop seeded before lessons existed gets them too, a creator's own lessons stay).
async fn seed_lessons(db: &Db, product: &DemoProduct) -> Result<(), SeedError> {
    // IMMEDIATE: the transaction reads before it writes, and SQLite refuses a deferred read
    // lock's upgrade at once (no busy wait) when another process seeds the same file.
    crate::on_db!(db, |pool| {
        let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
        let empty: Option<(i64,)> = sqlx::query_as(
            "SELECT p.id FROM products p
         WHERE p.slug = $1 AND NOT EXISTS (SELECT 1 FROM lessons l WHERE l.product_id = p.id)",
        )
        .bind(product.slug)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((product_id,)) = empty else {
            return Ok(());
        };
        for (position, (title, body)) in product.parts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO lessons (product_id, position, title, body, is_preview)
             VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(product_id)
            .bind((position as i64 + 1) * 10)
            .bind(*title)
            .bind(*body)
            .bind(position == 0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    })
}

/// The demo course whose first lesson (a free preview) has a video.
const VIDEO_COURSE: &str = "telegram-mini-apps-from-scratch";

/// Queues the demo clip for the course's first lesson, unless that lesson has had a video (or
/// one on the way) already.
async fn seed_video(db: &Db, storage: &Storage, slug: &str) -> Result<(), SeedError> {
    let lesson: Option<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT l.id FROM lessons l JOIN products p ON p.id = l.product_id
         WHERE p.slug = $1 AND NOT EXISTS (SELECT 1 FROM video_jobs j WHERE j.lesson_id = l.id)
         ORDER BY l.position, l.id LIMIT 1"
    )
    .bind(slug)
    .fetch_optional(pool)
    .await)?;
    let Some(lesson) = lesson else {
        return Ok(());
    };
    let Some(clip) = video::clip().await else {
        return Ok(());
    };
    let key = format!("videos/sources/demo/{slug}-lesson-1.mp4");
    let stored = put_if_missing(
        storage,
        Area::Private,
        &key,
        clip,
        &Headers::inline("video/mp4"),
    )
    .await?;
    crate::videos::enqueue(db, lesson, &key, stored.size_bytes, clock::unix_now()).await?;
    Ok(())
}

struct SeedFile {
    role: &'static str,
    name: String,
    mime: &'static str,
    stored: StoredFile,
}

async fn product_files(
    product: &DemoProduct,
    storage: &Storage,
) -> Result<Vec<SeedFile>, SeedError> {
    let slug = product.slug;
    let mut files = Vec::new();
    let mut add = |role, area, name: String, mime, bytes: Vec<u8>| {
        let key = format!(
            "{}/{slug}/{name}",
            if area == Area::Public {
                "samples"
            } else {
                "content"
            }
        );
        files.push((role, area, name, mime, key, bytes));
    };
    match product.kind {
        ProductKind::Ebook | ProductKind::Course => {
            let noun = if product.kind == ProductKind::Course {
                "lesson"
            } else {
                "chapter"
            };
            add(
                "sample",
                Area::Public,
                format!("{slug}-sample.pdf"),
                "application/pdf",
                pdf::document(
                    &format!("{} (free {noun})", product.title),
                    &product.parts[..1],
                ),
            );
            add(
                "content",
                Area::Private,
                format!("{slug}.pdf"),
                "application/pdf",
                pdf::document(product.title, product.parts),
            );
            // One book comes as an EPUB too, so the dev preview's reader shows both formats.
            if slug == EPUB_BOOK {
                add(
                    "content",
                    Area::Private,
                    format!("{slug}.epub"),
                    "application/epub+zip",
                    epub::book(slug, product.title, product.parts),
                );
            }
        }
        ProductKind::File => {
            let loops: [(&str, &[(f32, u32)]); 3] = [
                (
                    "warm-chords.wav",
                    &[(261.6, 400), (329.6, 400), (392.0, 800)],
                ),
                ("dusty-bass.wav", &[(55.0, 600), (65.4, 600), (49.0, 600)]),
                (
                    "tape-bells.wav",
                    &[(880.0, 200), (1174.7, 200), (987.8, 400)],
                ),
            ];
            add(
                "sample",
                Area::Public,
                "preview.wav".into(),
                "audio/wav",
                wav::tones(8000, &[(261.6, 300), (329.6, 300), (392.0, 400)]),
            );
            for (name, notes) in loops {
                // Each loop played for 40 s, longer than the 30 s preview, so the product page
                // shows the cut and the library the whole; 8 kHz keeps the three under 2 MB.
                let period: u32 = notes.iter().map(|(_, ms)| ms).sum();
                let track: Vec<(f32, u32)> = notes
                    .iter()
                    .copied()
                    .cycle()
                    .take(notes.len() * (40_000 / period) as usize)
                    .collect();
                add(
                    "content",
                    Area::Private,
                    name.into(),
                    "audio/wav",
                    wav::tones(8000, &track),
                );
            }
        }
    }
    let mut out = Vec::with_capacity(files.len());
    for (role, area, name, mime, key, bytes) in files {
        let headers = match area {
            Area::Private => Headers::attachment(mime, &name),
            Area::Public => Headers::inline(mime),
        };
        let stored = put_if_missing(storage, area, &key, &bytes, &headers).await?;
        out.push(SeedFile {
            role,
            name,
            mime,
            stored,
        });
    }
    Ok(out)
}

async fn put_if_missing(
    storage: &Storage,
    area: Area,
    key: &str,
    bytes: &[u8],
    headers: &Headers,
) -> Result<StoredFile, SeedError> {
    if storage.exists(area, key).await? {
        return Ok(StoredFile::describe(key, bytes));
    }
    Ok(storage.put(area, key, bytes, headers).await?)
}

/// The kind printed on a generated cover (covers are images: one language for all).
fn cover_label(kind: ProductKind) -> &'static str {
    match kind {
        ProductKind::Ebook => "E-book",
        ProductKind::Course => "Course",
        ProductKind::File => "Files",
    }
}
