//! What the studio's JSON API sends and takes (`/api/studio/*`, `/api/tips`). Times are Unix
//! seconds; amounts are whole Stars.

use crate::api::ProductKind;
use serde::{Deserialize, Serialize};

/// What the caller may do in the studio. Decided on the server on every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Listed in `ADMIN_IDS`: sees and manages everything.
    Admin,
    /// Sells their own products.
    Creator,
    /// Anyone else: no studio.
    Member,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioMe {
    pub user_id: i64,
    pub role: Role,
    pub display_name: Option<String>,
    pub max_price_stars: u32,
    pub max_upload_bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    Draft,
    Published,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::Published => "published",
            ProductStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(ProductStatus::Draft),
            "published" => Some(ProductStatus::Published),
            "archived" => Some(ProductStatus::Archived),
            _ => None,
        }
    }
}

/// A product's editable fields, as the form sends them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductInput {
    pub title: String,
    pub kind: ProductKind,
    /// Markdown.
    pub description: String,
    pub price_stars: u32,
    /// Once, or a monthly membership (at most 10,000 Stars, Telegram's subscription limit).
    #[serde(default)]
    pub billing: crate::api::Billing,
    /// Each buyer's PDF and EPUB files carry their name, username and order number (on unless
    /// switched off).
    #[serde(default = "yes")]
    pub stamp_copies: bool,
}

fn yes() -> bool {
    true
}

/// One line of the creator's product list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioProductRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub kind: ProductKind,
    pub status: ProductStatus,
    pub price_stars: u32,
    pub cover_url: Option<String>,
    pub creator_id: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioFile {
    pub id: i64,
    /// `content` (what buyers get) or `sample` (free to anyone).
    pub role: String,
    pub name: String,
    pub mime_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub version: i64,
    /// Samples only: where anyone can fetch it.
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioLesson {
    pub id: i64,
    pub position: i64,
    pub title: String,
    pub body: String,
    pub is_preview: bool,
    pub file_id: Option<i64>,
    /// The lesson's video: the latest upload's preparation and what plays now.
    #[serde(default)]
    pub video: Option<StudioVideo>,
}

/// Where a video upload's preparation for streaming is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoStatus {
    Queued,
    Preparing,
    Ready,
    Failed,
}

impl VideoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoStatus::Queued => "queued",
            VideoStatus::Preparing => "preparing",
            VideoStatus::Ready => "ready",
            VideoStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::Preparing, Self::Ready, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == s)
    }

    /// Still being worked on: the studio asks again.
    pub fn pending(self) -> bool {
        matches!(self, VideoStatus::Queued | VideoStatus::Preparing)
    }
}

/// Why a video's preparation failed, as the studio explains it to the creator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoFailure {
    /// ffmpeg could not read it (broken, truncated, or not a video after all).
    Unreadable,
    /// A container with no picture in it.
    NoVideo,
    /// Longer than the shop's `MAX_VIDEO_SECONDS`.
    TooLong,
    /// The preparation stopped again and again (the server restarted or ran out of memory).
    Stopped,
}

impl VideoFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoFailure::Unreadable => "unreadable",
            VideoFailure::NoVideo => "no_video",
            VideoFailure::TooLong => "too_long",
            VideoFailure::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Unreadable,
            Self::NoVideo,
            Self::TooLong,
            Self::Stopped,
        ]
        .into_iter()
        .find(|failure| failure.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioVideo {
    /// The latest upload's preparation.
    pub status: VideoStatus,
    /// Percent of the preparation done.
    pub progress: u8,
    pub failure: Option<VideoFailure>,
    /// What the lesson plays now: the latest video once ready, an earlier one meanwhile.
    pub playing: Option<PlayingVideo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayingVideo {
    pub duration_seconds: u32,
    pub poster_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonInput {
    pub title: String,
    /// Markdown.
    pub body: String,
    pub is_preview: bool,
    pub file_id: Option<i64>,
}

/// Everything the product editor shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioProduct {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub kind: ProductKind,
    pub status: ProductStatus,
    pub description: String,
    /// The description rendered and sanitised, as buyers see it.
    pub description_html: String,
    pub price_stars: u32,
    pub cover_url: Option<String>,
    pub creator_id: i64,
    pub files: Vec<StudioFile>,
    pub lessons: Vec<StudioLesson>,
    #[serde(default)]
    pub billing: crate::api::Billing,
    /// Buyers' PDF and EPUB files are stamped with their name, username and order number.
    #[serde(default = "yes")]
    pub stamp_copies: bool,
    /// `https://t.me/<bot>?startapp=p_<slug>`: opens the product in the Mini App from any chat;
    /// absent while the bot's username is unknown.
    #[serde(default)]
    pub share_link: Option<String>,
    /// A bundle's products (ids, in order); empty for a single product.
    #[serde(default)]
    pub bundle: Vec<i64>,
}

/// What a bundle holds: the ids of the creator's products, in order; none makes it a single
/// product again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleInput {
    pub product_ids: Vec<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesTotals {
    /// Orders ever paid (refunded ones included).
    pub sales: u32,
    pub gross_stars: u64,
    pub refunds: u32,
    pub refunded_stars: u64,
    pub net_stars: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSales {
    pub product_id: i64,
    pub slug: String,
    pub title: String,
    pub totals: SalesTotals,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySales {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub sales: u32,
    pub gross_stars: u64,
    pub refunded_stars: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioOrder {
    pub order_id: String,
    pub product_slug: String,
    pub product_title: String,
    pub buyer_id: i64,
    pub buyer_name: String,
    pub amount_stars: u32,
    pub status: String,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub refunded_at: Option<i64>,
    /// From the download log.
    pub downloads: u32,
    pub last_download_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supporter {
    pub user_id: i64,
    pub name: String,
    pub amount_stars: u32,
    pub paid_at: i64,
    pub product_title: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesDashboard {
    pub totals: SalesTotals,
    pub products: Vec<ProductSales>,
    /// The last 30 days, oldest first.
    pub days: Vec<DaySales>,
    /// The same days drawn by the server; colours follow the page's theme (`currentColor`).
    pub chart_svg: String,
    pub orders: Vec<StudioOrder>,
    pub supporters: Vec<Supporter>,
    pub tips_stars: u64,
    #[serde(default)]
    pub memberships: MembershipStats,
}

/// The creator's memberships (products sold as monthly Telegram subscriptions).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipStats {
    /// Members with access now (those who canceled included, until their period ends).
    pub active: u32,
    /// Of those, members who turned renewal off.
    pub ending: u32,
    /// Memberships that ended (ran out or were refunded) in the last 30 days.
    pub churned_30d: u32,
    /// What the members who renew pay each month.
    pub recurring_stars_per_month: u64,
}

/// "Support the creator": who to tip (a creator, or the creator of a product) and how much.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TipRequest {
    pub creator_id: Option<i64>,
    pub slug: Option<String>,
    pub amount_stars: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TipCheckout {
    pub tip_id: String,
    pub invoice_link: String,
    pub amount_stars: u32,
}

/// A one-time link that makes whoever opens it a creator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub token: String,
    /// What `/start` must carry: `inv_<token>`.
    pub start_payload: String,
    /// `https://t.me/<bot>?start=inv_<token>` when the bot's username is known.
    pub link: Option<String>,
}

/// The JSON body of every studio error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: String,
    pub message: String,
}

/// A Star charge the shop's ledger holds for a person (`GET /api/studio/charges/held`): it
/// granted nothing, and is refunded or granted by `POST /api/studio/charges/{id}/refund|grant`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldCharge {
    pub charge_id: String,
    /// `purchase`, `membership`, `tip` or `unknown`.
    pub kind: String,
    pub payer_id: i64,
    pub amount_stars: u32,
    /// Why it is held (`amount_mismatch`, `refund_refused`, …).
    pub reason: String,
    pub paid_at: Option<i64>,
    /// What it paid for: the product's title, or the creator tipped.
    pub subject: Option<String>,
}

/// A `/paysupport` request in the studio's support inbox (`GET /api/studio/support`): what the
/// buyer wrote, the Star charges of theirs it was linked to (as the ledger has them now) and the
/// shop's replies. A creator sees the requests about their products, an admin every one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportRequest {
    pub id: i64,
    pub buyer_id: i64,
    pub buyer_name: String,
    pub message: String,
    /// `open`, `answered` or `closed`.
    pub status: String,
    pub created_at: i64,
    pub charges: Vec<SupportCharge>,
    pub replies: Vec<SupportReply>,
}

/// One of the buyer's charges a request is linked to, with its ledger state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportCharge {
    pub charge_id: String,
    /// `purchase`, `membership`, `tip` or `unknown`.
    pub kind: String,
    /// What it paid for: the product's title, or the creator tipped.
    pub subject: Option<String>,
    /// The order's public id, for purchases and memberships.
    pub order_id: Option<String>,
    pub amount_stars: u32,
    /// The ledger's state: `granted`, `held`, `refund_due` or `refunded`.
    pub state: String,
    pub paid_at: Option<i64>,
    /// Whether the inbox may refund it (`POST /api/studio/support/{id}/refund`).
    pub refundable: bool,
}

/// A reply the shop sent to the buyer's chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportReply {
    pub author_id: i64,
    pub text: String,
    pub created_at: i64,
}

/// `POST /api/studio/support/{id}/reply`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportReplyInput {
    pub text: String,
}

/// `POST /api/studio/support/{id}/refund`: one of the request's charges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportRefundInput {
    pub charge_id: String,
}

/// A link a creator hands out or posted in a channel (`/api/studio/links`): it opens the Mini
/// App (`startapp=r_<code>`), and what its visitors buy within 30 days counts for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoLink {
    pub id: i64,
    pub code: String,
    pub label: String,
    pub product_id: Option<i64>,
    pub product_title: Option<String>,
    /// The channel it was posted in, for a channel post.
    pub channel_title: Option<String>,
    /// The `t.me` link; `None` while the bot's username is unknown.
    pub url: Option<String>,
    /// Openings of the Mini App through it.
    pub visits: u32,
    /// Buyers whose paid orders it brought (refunds excluded), and the Stars they paid.
    pub buyers: u32,
    pub stars: u64,
    pub created_at: i64,
}

/// `POST /api/studio/links`: a referral link to a product (or the shop when `None`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoLinkInput {
    pub label: String,
    pub product_id: Option<i64>,
}

/// A channel a creator linked (`/api/studio/channels`): the bot posts product cards there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: i64,
    pub chat_id: i64,
    pub title: String,
    pub username: Option<String>,
    pub linked_at: i64,
}

/// `POST /api/studio/channels`: the channel's `@username` or numeric id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelInput {
    pub chat: String,
}

/// `POST /api/studio/channels/{id}/posts`: the product to post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelPostInput {
    pub product_id: i64,
}

/// What a Telegram Star affiliate brought the caller's products (`/api/studio/affiliates`):
/// paid charges Telegram's ledger shows with an affiliate's commission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffiliateSales {
    /// The affiliate's Telegram id (a user or a chat).
    pub affiliate_id: Option<i64>,
    pub sales: u32,
    /// What buyers paid, in Stars.
    pub gross_stars: u64,
    /// The affiliates' share in nanostars (10^-9 Star): commissions leave fractions of a Star.
    pub commission_nanostars: i64,
    /// What reached the bot, gross less commission, in nanostars.
    pub net_nanostars: i64,
}

/// A review of one of the creator's products, as the studio lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioReview {
    pub id: i64,
    pub product_id: i64,
    pub product_title: String,
    /// The author's first name.
    pub author: String,
    pub rating: u8,
    /// Rendered and sanitised on the server.
    pub body_html: String,
    pub written_at: i64,
    /// Hidden by the creator: not shown, counts for nothing.
    pub hidden: bool,
    /// The author's purchase was refunded: the review counts for nothing.
    pub refunded: bool,
    /// The creator's reply, once given.
    pub reply_html: Option<String>,
}

/// The creator's one reply to a review (Markdown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewReplyInput {
    pub text: String,
}

/// Hides a review, or shows it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewHiddenInput {
    pub hidden: bool,
}

/// How a product's buyers get license keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseMode {
    /// No keys.
    #[default]
    None,
    /// Made at purchase from the product's pattern.
    Generated,
    /// Drawn from the keys the creator uploaded.
    Pool,
}

impl LicenseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseMode::None => "none",
            LicenseMode::Generated => "generated",
            LicenseMode::Pool => "pool",
        }
    }

    pub fn parse(mode: &str) -> Option<Self> {
        match mode {
            "none" => Some(LicenseMode::None),
            "generated" => Some(LicenseMode::Generated),
            "pool" => Some(LicenseMode::Pool),
            _ => None,
        }
    }
}

/// Where one license key stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseKeyState {
    /// In the pool, not issued yet.
    Available,
    /// Issued to a paid order.
    Issued,
    /// Its order was refunded.
    Disabled,
}

/// One license key as the studio lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioLicenseKey {
    pub code: String,
    pub state: LicenseKeyState,
    /// The order it was issued to (its public id).
    pub order: Option<String>,
    /// Verifications through the public endpoint.
    pub uses: i64,
}

/// One product's license keys: its mode, the counts, and the newest keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioLicenses {
    pub product_id: i64,
    /// What the public check names the product by.
    pub product_slug: String,
    pub product_title: String,
    pub mode: LicenseMode,
    /// The pattern of generated keys.
    pub format: Option<String>,
    /// Pool keys not issued yet.
    pub available: i64,
    pub issued: i64,
    pub disabled: i64,
    /// Paid orders waiting for a key (the pool was empty).
    pub waiting: i64,
    /// A pool with fewer keys than the warning threshold.
    pub low: bool,
    pub keys: Vec<StudioLicenseKey>,
}

/// A product's key mode and, for generated keys, their pattern.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseSettingsInput {
    pub mode: LicenseMode,
    #[serde(default)]
    pub format: Option<String>,
}

/// Keys for a product's pool, one per line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicensePoolInput {
    pub keys: String,
}
