//! The contract between the UI and the backend: the types the pages show, the server functions
//! they call, and (on the server) the `Shop` port those functions reach through Leptos context.
//!
//! It sits on top of `deals` (the price a buyer chooses) and `texts` (words in a language), which
//! import nothing from here: so every server function lives here, and words about a type of
//! this module (a kind's name) live beside the type.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a product is; decides how the shop presents and delivers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductKind {
    Ebook,
    Course,
    File,
}

impl ProductKind {
    pub const ALL: [ProductKind; 3] = [ProductKind::Ebook, ProductKind::Course, ProductKind::File];

    /// The stable identifier used in URLs and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductKind::Ebook => "ebook",
            ProductKind::Course => "course",
            ProductKind::File => "file",
        }
    }
}

impl fmt::Display for ProductKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a product is sold: once for good, or as a membership Telegram renews every 30 days.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Billing {
    #[default]
    Once,
    Monthly,
}

impl Billing {
    /// The stable identifier used in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Billing::Once => "once",
            Billing::Monthly => "monthly",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "once" => Some(Billing::Once),
            "monthly" => Some(Billing::Monthly),
            _ => None,
        }
    }
}

/// A kind's name in `locale` (plural for the catalog's filter): the pages and the bot say it
/// alike.
pub fn kind_name(kind: ProductKind, plural: bool, locale: crate::i18n::Locale) -> &'static str {
    use crate::i18n::td_string;
    match (kind, plural) {
        (ProductKind::Ebook, false) => td_string!(locale, kind.ebook),
        (ProductKind::Course, false) => td_string!(locale, kind.course),
        (ProductKind::File, false) => td_string!(locale, kind.file),
        (ProductKind::Ebook, true) => td_string!(locale, kind.ebooks),
        (ProductKind::Course, true) => td_string!(locale, kind.courses),
        (ProductKind::File, true) => td_string!(locale, kind.files),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown product kind {0:?} (expected ebook, course or file)")]
pub struct UnknownKind(pub String);

impl FromStr for ProductKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProductKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// A product as the catalog lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductCard {
    pub slug: String,
    pub title: String,
    pub kind: ProductKind,
    pub price_stars: u32,
    pub creator_name: String,
    pub cover_url: Option<String>,
    /// What buyers think of it; `None` before any review counts.
    #[serde(default)]
    pub rating: Option<Rating>,
    /// A bundle's number of products; 0 for a single product.
    #[serde(default)]
    pub bundle_parts: u32,
}

/// The average of the reviews that count (not hidden, by buyers who kept what they paid for)
/// and how many there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub count: u32,
    /// The average × 100, rounded (450 is 4.5 stars).
    pub average_x100: u32,
}

impl Rating {
    /// The average with one decimal, as cards and pages show it ("4.5").
    pub fn average(self) -> String {
        let tenths = (self.average_x100 + 5) / 10;
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// The catalog's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogSort {
    #[default]
    Newest,
    /// Best average first; products without reviews last.
    Rating,
}

impl CatalogSort {
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogSort::Newest => "newest",
            CatalogSort::Rating => "rating",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "newest" => Some(CatalogSort::Newest),
            "rating" => Some(CatalogSort::Rating),
            _ => None,
        }
    }
}

/// One page of the catalog: a kind and a search narrow it, `page` counts from 1.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogQuery {
    pub kind: Option<ProductKind>,
    pub q: Option<String>,
    pub page: Option<u32>,
    #[serde(default)]
    pub sort: Option<CatalogSort>,
}

impl CatalogQuery {
    /// The search words, trimmed; None when there are none.
    pub fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
    }

    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }

    pub fn sort(&self) -> CatalogSort {
        self.sort.unwrap_or_default()
    }

    /// The catalog URL for this query, for links and the search form.
    pub fn href(&self) -> String {
        let mut params = Vec::new();
        if let Some(kind) = self.kind {
            params.push(format!("kind={}", kind.as_str()));
        }
        if let Some(q) = self.search() {
            params.push(format!("q={}", encode_query(q)));
        }
        if self.sort() != CatalogSort::Newest {
            params.push(format!("sort={}", self.sort().as_str()));
        }
        if self.page() > 1 {
            params.push(format!("page={}", self.page()));
        }
        if params.is_empty() {
            "/".into()
        } else {
            format!("/?{}", params.join("&"))
        }
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// What the catalog shows for a query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogPage {
    pub items: Vec<ProductCard>,
    /// How many products match in all.
    pub total: u32,
    pub page: u32,
    pub per_page: u32,
}

impl CatalogPage {
    pub fn pages(&self) -> u32 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// A lesson as a course's outline lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonSummary {
    pub id: i64,
    pub title: String,
    /// Free to everyone, bought or not.
    pub is_preview: bool,
}

/// A course as its buyer (or a visitor, for the previews) sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseView {
    pub slug: String,
    pub title: String,
    pub price_stars: u32,
    pub owned: bool,
    pub lessons: Vec<CourseLesson>,
    /// Where the buyer stopped last time; the first open lesson otherwise.
    pub resume_lesson_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseLesson {
    pub id: i64,
    pub title: String,
    pub is_preview: bool,
    pub completed: bool,
    /// Whether this viewer may open it.
    pub open: bool,
}

/// One lesson, opened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonView {
    pub id: i64,
    pub course_slug: String,
    pub course_title: String,
    /// 1-based place in the course.
    pub number: u32,
    pub title: String,
    /// The lesson's Markdown as HTML, sanitised as product descriptions are.
    pub body_html: String,
    pub attachment: Option<LibraryFile>,
    pub completed: bool,
    pub previous_id: Option<i64>,
    pub next_id: Option<i64>,
    /// Whether the viewer owns the course (progress is kept only for buyers).
    pub owned: bool,
    /// The lesson's video, once prepared.
    #[serde(default)]
    pub video: Option<LessonVideo>,
}

/// A lesson's video as the viewer may play it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonVideo {
    /// The HLS master playlist behind a short-lived token bound to the viewer: every request
    /// under it must carry the same viewer's init data.
    pub playlist_url: String,
    pub poster_url: String,
    pub duration_seconds: u32,
    /// Where the buyer stopped last time (0 for a visitor or a first viewing).
    pub position_seconds: u32,
}

/// A downloadable file anyone may fetch (a free sample).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicFile {
    pub name: String,
    pub url: String,
    pub size_bytes: u64,
}

/// How long a track's preview is for people who have not bought it, in seconds. The server cuts
/// previews to it (`server::audio`); the product page says it.
pub const AUDIO_PREVIEW_SECONDS: u32 = 30;

/// One track of a product, as its page offers it: the name and where its preview plays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioTrack {
    pub name: String,
    pub preview_url: String,
}

/// Everything the product page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductPage {
    pub card: ProductCard,
    pub description: String,
    /// The Markdown description rendered and sanitised on the server.
    #[serde(default)]
    pub description_html: String,
    pub sample: Option<PublicFile>,
    /// Total size of what a buyer gets, in bytes.
    pub content_bytes: u64,
    pub content_files: u32,
    /// A course's outline; empty for other kinds.
    pub lessons: Vec<LessonSummary>,
    /// A membership shows its price per month and subscribes instead of buying.
    #[serde(default)]
    pub billing: Billing,
    /// Pay what you want: the lowest amount the buyer may pick (the card's price is the
    /// suggested amount). None: a fixed price.
    #[serde(default)]
    pub min_price_stars: Option<u32>,
    /// What buyers wrote, newest first. Kept on the server: the page gets it as
    /// `reviews_html`.
    #[serde(skip)]
    pub reviews: Reviews,
    /// The reviews section, rendered on the server in the reader's language. It has nothing to
    /// react to, so the browser is sent its HTML and no code to build it.
    #[serde(default)]
    pub reviews_html: String,
    /// A bundle's products; empty for a single product. Kept on the server like `reviews`.
    #[serde(skip)]
    pub bundle: Vec<BundlePart>,
    /// What a bundle holds, rendered on the server (empty for a single product).
    #[serde(default)]
    pub bundle_html: String,
    /// The product's audio tracks with previews. Kept on the server like `reviews`.
    #[serde(skip)]
    pub tracks: Vec<AudioTrack>,
    /// The tracks' players, rendered on the server (empty when there are none): native
    /// `<audio>` elements, so the page ships no player code.
    #[serde(default)]
    pub tracks_html: String,
}

/// One product inside a bundle, as the bundle's page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundlePart {
    pub slug: String,
    pub title: String,
    pub kind: ProductKind,
    /// Its own price, bought alone.
    pub price_stars: u32,
}

/// The reviews a product page shows: the average, the count, how many gave each number of
/// stars, and the newest reviews. Hidden reviews and those of refunded buyers count for nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reviews {
    pub rating: Option<Rating>,
    /// Reviews per number of stars: `[0]` is one star, `[4]` five.
    pub distribution: [u32; 5],
    pub newest: Vec<Review>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// The author's first name.
    pub author: String,
    pub rating: u8,
    /// The text's Markdown, rendered and sanitised on the server.
    pub body_html: String,
    /// When it was written or last edited (Unix seconds).
    pub written_at: i64,
    /// The creator's answer, rendered and sanitised likewise.
    pub reply_html: Option<String>,
}

/// The signed-in user's own review of a product, and whether they may write one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MyReview {
    /// Paid for the product and not refunded.
    pub eligible: bool,
    /// `None` until they have written one.
    pub rating: Option<u8>,
    /// Their text, as they wrote it (Markdown).
    pub body: String,
    /// The creator hid it: it is not shown and counts for nothing.
    pub hidden: bool,
    pub reply_html: Option<String>,
}

/// A purchase in the buyer's library, with download links that work for a few minutes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LibraryItem {
    pub slug: String,
    pub title: String,
    pub kind: ProductKind,
    pub cover_url: Option<String>,
    pub files: Vec<LibraryFile>,
    /// For courses: lessons done, lessons in all, and where to resume.
    pub course: Option<CourseProgress>,
    /// For a product sold as a monthly membership: until when, and whether it renews.
    #[serde(default)]
    pub membership: Option<Membership>,
    /// For a bundle: the titles of the products it holds (each is in the library too).
    #[serde(default)]
    pub includes: Vec<String>,
    /// The buyer's license key for the product, if it issues keys.
    #[serde(default)]
    pub license_key: Option<String>,
    /// The product issues keys, and the buyer's waits for the creator to add more.
    #[serde(default)]
    pub license_pending: bool,
}

/// Where a gift stands, as the person who opened its link sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiftState {
    /// Paid and not claimed: the viewer may claim it.
    Open,
    /// The viewer claimed it: it is in their library.
    ClaimedByYou,
    /// Somebody else claimed it first: a gift link works once.
    Claimed,
    /// Refunded before anybody claimed it.
    Cancelled,
    /// The viewer paid for it: it is theirs to give, not to claim.
    FromYou,
}

/// A gift link opened in the Mini App (`/gift/<code>`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GiftView {
    pub code: String,
    pub slug: String,
    pub title: String,
    pub cover_url: Option<String>,
    /// The payer's first name, as Telegram gave it.
    pub from: String,
    pub state: GiftState,
}

/// A gift the signed-in user paid for, as their library lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentGift {
    pub code: String,
    pub title: String,
    /// The `t.me` link that opens the gift in the Mini App from any chat; `None` when the bot's
    /// username is unknown (the in-app path `/gift/<code>` still works).
    pub link: Option<String>,
    /// The friend's first name once they claimed it.
    pub claimed_by: Option<String>,
    /// Refunded before the claim.
    pub cancelled: bool,
}

/// A buyer's running membership (a Telegram Stars subscription).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    /// Access ends here (Unix seconds) unless Telegram renews it first.
    pub expires_at: i64,
    /// Renewal is turned off: access runs to `expires_at`, then stops.
    pub canceled: bool,
    /// Canceled by the shop, which has since allowed renewal again: only the buyer can turn it
    /// back on, in Telegram (Settings → My Stars); until then it stays canceled.
    #[serde(default)]
    pub reenable_in_telegram: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseProgress {
    pub done: u32,
    pub total: u32,
    pub resume_title: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LibraryFile {
    pub name: String,
    pub size_bytes: u64,
    pub url: String,
    /// An audio file: the library plays it in full from `url` as well as offering it.
    #[serde(default)]
    pub audio: bool,
    /// The reader's page for it (`/read/<file id>`) when it is a PDF or an EPUB.
    #[serde(default)]
    pub read_url: Option<String>,
}

/// A document the reader opens (`/read/…`): the two formats its viewers read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BookFormat {
    Pdf,
    Epub,
}

impl BookFormat {
    /// By the type recorded at upload (content files).
    pub fn of_mime(mime: &str) -> Option<Self> {
        match mime {
            "application/pdf" => Some(BookFormat::Pdf),
            "application/epub+zip" => Some(BookFormat::Epub),
            _ => None,
        }
    }

    /// By the file's name (a sample, whose public URL is all the page has).
    pub fn of_name(name: &str) -> Option<Self> {
        let (_, extension) = name.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "pdf" => Some(BookFormat::Pdf),
            "epub" => Some(BookFormat::Epub),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BookFormat::Pdf => "pdf",
            BookFormat::Epub => "epub",
        }
    }
}

/// A bought file as the reader opens it (`GET /api/reader/<file id>`): a fresh download link
/// (the buyer's stamped copy, through the download route and its checks) and where the buyer
/// stopped last time, on any device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReaderFile {
    pub name: String,
    pub format: BookFormat,
    pub url: String,
    /// The viewer's own position (`page:<n>` in a PDF, a CFI in an EPUB); `None` before the
    /// first page turn.
    pub position: Option<String>,
}

/// `PUT /api/reader/<file id>/position`: where the buyer is now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingPosition {
    pub position: String,
}

/// A started purchase: the order the server created and the Stars invoice to open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    pub order_id: String,
    pub invoice_link: String,
    pub amount_stars: u32,
}

/// Where an order stands (see the payment state machine in DESIGN.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderState {
    Pending,
    Paid,
    Refunded,
    Cancelled,
    Expired,
}

/// The signed-in Telegram user, as the Mini App's init data names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub is_premium: bool,
}

/// What the product page's Share hands to Telegram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// A message prepared for this user (`savePreparedInlineMessage`), for
    /// `WebApp.shareMessage`; `None` when Telegram did not take it.
    pub prepared_message_id: Option<String>,
    /// The product's `t.me` link that opens it in the Mini App, for `t.me/share` on clients
    /// older than Bot API 8.0.
    pub link: Option<String>,
    /// The product's title, the text beside the link.
    pub title: String,
}

#[cfg(feature = "ssr")]
pub use port::*;

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use std::sync::Arc;

    /// Why the backend could not answer. Users see the message; logs get the cause.
    #[derive(Debug, thiserror::Error)]
    pub enum ShopError {
        #[error("the shop is temporarily unavailable")]
        Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
        /// The request's init data was missing, forged or stale; the message says which.
        #[error("{0}")]
        Unauthorized(String),
        /// A business rule said no (already owned, not on sale, …); the message says why.
        #[error("{0}")]
        Refused(String),
    }

    /// The backend as the pages see it. The server implements it over its database and storage.
    #[async_trait::async_trait]
    pub trait Shop: Send + Sync + 'static {
        /// One page of published products, newest first (best match first when searching).
        async fn catalog(&self, query: CatalogQuery) -> Result<CatalogPage, ShopError>;
        /// A published product by its slug.
        async fn product(&self, slug: &str) -> Result<Option<ProductPage>, ShopError>;
        /// Starts buying `slug` for the signed-in user.
        async fn checkout(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
        ) -> Result<Checkout, ShopError>;
        /// Starts buying `slug` with a discount code or a pay-what-you-want amount.
        async fn checkout_with(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
            choice: crate::deals::PriceChoice,
        ) -> Result<Checkout, ShopError>;
        /// What buying `slug` with `choice` would cost, without buying.
        async fn quote(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
            choice: crate::deals::PriceChoice,
        ) -> Result<crate::deals::Quote, ShopError>;
        /// The state of one of the signed-in user's orders.
        async fn order_state(
            &self,
            headers: &http::HeaderMap,
            order_id: &str,
        ) -> Result<OrderState, ShopError>;
        /// The user behind the request's `Authorization: tma <initData>`.
        async fn viewer(&self, headers: &http::HeaderMap) -> Result<Viewer, ShopError>;
        /// That user's purchases.
        async fn library(&self, headers: &http::HeaderMap) -> Result<Vec<LibraryItem>, ShopError>;
        /// A course's lessons for the viewer (signed in or not), with their progress.
        async fn course(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
        ) -> Result<Option<CourseView>, ShopError>;
        /// Opens a lesson the viewer may see, and remembers it as where they are.
        async fn lesson(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
            lesson_id: i64,
        ) -> Result<LessonView, ShopError>;
        /// Marks a lesson done for the signed-in buyer.
        async fn complete_lesson(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
            lesson_id: i64,
        ) -> Result<(), ShopError>;
        /// Remembers where the signed-in buyer is in a lesson's video.
        async fn save_video_position(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
            lesson_id: i64,
            seconds: u32,
        ) -> Result<(), ShopError>;
        /// Stops (`renew = false`) or resumes the renewal of the signed-in buyer's membership
        /// of `slug`; access runs to the end of the paid period either way.
        async fn set_membership_renewal(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
            renew: bool,
        ) -> Result<Membership, ShopError>;
        /// Prepares the product `slug` for the signed-in user to share into any chat.
        async fn share(&self, headers: &http::HeaderMap, slug: &str) -> Result<Share, ShopError>;
        /// Counts the visit through the creator's link the Mini App was opened with (its signed
        /// `start_param`, `r_<code>`) and says where it lands; `None` for no such link.
        async fn follow_link(&self, headers: &http::HeaderMap)
            -> Result<Option<String>, ShopError>;
        /// The signed-in user's review of `slug`, and whether they may write one.
        async fn my_review(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
        ) -> Result<MyReview, ShopError>;
        /// A gift link as the signed-in user sees it.
        async fn gift(&self, headers: &http::HeaderMap, code: &str) -> Result<GiftView, ShopError>;
        /// Claims a gift for the signed-in user: the product lands in their library.
        async fn claim_gift(
            &self,
            headers: &http::HeaderMap,
            code: &str,
        ) -> Result<GiftView, ShopError>;
        /// The gifts the signed-in user paid for, newest first.
        async fn sent_gifts(&self, headers: &http::HeaderMap) -> Result<Vec<SentGift>, ShopError>;
        /// Writes (or rewrites) the signed-in buyer's review of `slug`.
        async fn write_review(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
            rating: u8,
            body: String,
        ) -> Result<MyReview, ShopError>;
    }

    /// How the port travels through Leptos context.
    pub type ShopHandle = Arc<dyn Shop>;

    pub(crate) fn shop() -> Result<ShopHandle, ServerFnError> {
        use_context::<ShopHandle>()
            .ok_or_else(|| ServerFnError::new("the shop backend is not in context"))
    }

    pub(crate) fn to_server_error(err: ShopError) -> ServerFnError {
        let status = match &err {
            ShopError::Unauthorized(_) => Some(http::StatusCode::UNAUTHORIZED),
            ShopError::Refused(_) => Some(http::StatusCode::CONFLICT),
            ShopError::Unavailable(_) => None,
        };
        if let Some(status) = status {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(status);
            }
            return ServerFnError::new(err.to_string());
        }
        let source = std::error::Error::source(&err)
            .map(ToString::to_string)
            .unwrap_or_default();
        leptos::logging::error!("{err}: {source}");
        ServerFnError::new(err.to_string())
    }
}

#[server]
pub async fn list_products(
    kind: Option<ProductKind>,
    q: Option<String>,
    page: Option<u32>,
    sort: Option<CatalogSort>,
) -> Result<CatalogPage, ServerFnError> {
    shop()?
        .catalog(CatalogQuery {
            kind,
            q,
            page,
            sort,
        })
        .await
        .map_err(to_server_error)
}

#[server]
pub async fn get_product(slug: String) -> Result<Option<ProductPage>, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    let locale = crate::texts::request_locale(&headers, None);
    let mut page = shop()?.product(&slug).await.map_err(to_server_error)?;
    if let Some(page) = &mut page {
        page.reviews_html = crate::pages::reviews_html(&page.card.slug, &page.reviews, locale);
        if !page.bundle.is_empty() {
            page.bundle_html = crate::pages::bundle_html(&page.bundle, locale);
        }
        if !page.tracks.is_empty() {
            page.tracks_html = crate::pages::tracks_html(&page.tracks, locale);
        }
    }
    Ok(page)
}

/// Who the Mini App is signed in as; the same check as every API call.
#[server]
pub async fn whoami() -> Result<Viewer, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?.viewer(&headers).await.map_err(to_server_error)
}

/// Creates an order and its Stars invoice for the signed-in user, with a discount code or a
/// pay-what-you-want amount when the buyer gave one.
#[server]
pub async fn start_checkout(
    slug: String,
    code: Option<String>,
    amount_stars: Option<u32>,
    #[server(default)] gift: bool,
) -> Result<Checkout, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    let choice = crate::deals::PriceChoice {
        code,
        amount_stars,
        gift,
    };
    let shop = shop()?;
    if choice.is_empty() {
        shop.checkout(&headers, &slug).await
    } else {
        shop.checkout_with(&headers, &slug, choice).await
    }
    .map_err(to_server_error)
}

/// The price with `choice` applied, before buying (no use of the code is taken).
#[server(endpoint = "quote_price")]
pub async fn quote_price(
    slug: String,
    code: Option<String>,
    amount_stars: Option<u32>,
) -> Result<crate::deals::Quote, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .quote(
            &headers,
            &slug,
            crate::deals::PriceChoice {
                code,
                amount_stars,
                gift: false,
            },
        )
        .await
        .map_err(to_server_error)
}

/// Polled by the product page after the invoice closes, until the order settles.
#[server]
pub async fn checkout_status(order_id: String) -> Result<OrderState, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .order_state(&headers, &order_id)
        .await
        .map_err(to_server_error)
}

/// A gift link, as the signed-in user sees it.
#[server]
pub async fn get_gift(code: String) -> Result<GiftView, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?.gift(&headers, &code).await.map_err(to_server_error)
}

/// Claims a gift for the signed-in user.
#[server]
pub async fn claim_gift(code: String) -> Result<GiftView, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .claim_gift(&headers, &code)
        .await
        .map_err(to_server_error)
}

/// The gifts the signed-in user paid for.
#[server]
pub async fn my_gifts() -> Result<Vec<SentGift>, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?.sent_gifts(&headers).await.map_err(to_server_error)
}

/// The signed-in user's purchases.
#[server]
pub async fn my_library() -> Result<Vec<LibraryItem>, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?.library(&headers).await.map_err(to_server_error)
}

/// A course's outline and the viewer's progress.
#[server]
pub async fn get_course(slug: String) -> Result<Option<CourseView>, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .course(&headers, &slug)
        .await
        .map_err(to_server_error)
}

/// Opens one lesson (and remembers it as the buyer's place in the course).
#[server]
pub async fn get_lesson(slug: String, lesson_id: i64) -> Result<LessonView, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .lesson(&headers, &slug, lesson_id)
        .await
        .map_err(to_server_error)
}

#[server]
pub async fn complete_lesson(slug: String, lesson_id: i64) -> Result<(), ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .complete_lesson(&headers, &slug, lesson_id)
        .await
        .map_err(to_server_error)
}

/// Remembers where the buyer is in a lesson's video (sent as they pause, and every few seconds).
#[server]
pub async fn save_video_position(
    slug: String,
    lesson_id: i64,
    seconds: u32,
) -> Result<(), ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .save_video_position(&headers, &slug, lesson_id, seconds)
        .await
        .map_err(to_server_error)
}

/// Prepares a product's card for the signed-in user to send to a chat of their choice.
#[server]
pub async fn share_product(slug: String) -> Result<Share, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .share(&headers, &slug)
        .await
        .map_err(to_server_error)
}

/// The visit through a creator's link the Mini App was opened with, and the page it lands on.
#[server]
pub async fn follow_link() -> Result<Option<String>, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?.follow_link(&headers).await.map_err(to_server_error)
}

/// The signed-in user's review of a product, for the review screen.
#[server]
pub async fn get_my_review(slug: String) -> Result<MyReview, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .my_review(&headers, &slug)
        .await
        .map_err(to_server_error)
}

/// Saves the signed-in buyer's review: 1 to 5 stars and an optional text.
#[server]
pub async fn save_review(
    slug: String,
    rating: u8,
    body: String,
) -> Result<MyReview, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .write_review(&headers, &slug, rating, body)
        .await
        .map_err(to_server_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_links_keep_kind_search_and_page() {
        let query = CatalogQuery {
            kind: Some(ProductKind::Course),
            q: Some("  rust & co ".into()),
            page: Some(3),
            sort: Some(CatalogSort::Rating),
        };
        assert_eq!(
            query.href(),
            "/?kind=course&q=rust+%26+co&sort=rating&page=3"
        );
        let newest = CatalogQuery {
            sort: Some(CatalogSort::Newest),
            ..Default::default()
        };
        assert_eq!(newest.href(), "/");
        assert_eq!(CatalogQuery::default().href(), "/");
        let blank = CatalogQuery {
            q: Some("   ".into()),
            page: Some(0),
            ..Default::default()
        };
        assert_eq!(blank.search(), None);
        assert_eq!(blank.page(), 1);
        assert_eq!(blank.href(), "/");
    }

    #[test]
    fn averages_show_one_decimal_rounded() {
        let rating = |average_x100| {
            Rating {
                count: 3,
                average_x100,
            }
            .average()
        };
        assert_eq!(rating(500), "5.0");
        assert_eq!(rating(433), "4.3");
        assert_eq!(rating(467), "4.7");
        assert_eq!(rating(495), "5.0");
        assert_eq!(rating(100), "1.0");
    }

    #[test]
    fn page_counts_round_up() {
        let page = |total| CatalogPage {
            items: vec![],
            total,
            page: 1,
            per_page: 12,
        };
        assert_eq!(page(0).pages(), 1);
        assert_eq!(page(12).pages(), 1);
        assert_eq!(page(13).pages(), 2);
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ProductKind::ALL {
            assert_eq!(kind.as_str().parse::<ProductKind>(), Ok(kind));
        }
        assert_eq!(
            "video".parse::<ProductKind>(),
            Err(UnknownKind("video".into()))
        );
    }
}

/// Cancels (`renew = false`) or re-enables the renewal of the buyer's membership of `slug`.
#[server]
pub async fn set_membership_renewal(
    slug: String,
    renew: bool,
) -> Result<Membership, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .set_membership_renewal(&headers, &slug, renew)
        .await
        .map_err(to_server_error)
}
