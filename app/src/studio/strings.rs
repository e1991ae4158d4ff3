//! The studio's words, from the locale files (`app/locales/*.json`, key `studio.*`), in the
//! reader's language at the time the view is built.

use crate::i18n::*;

pub(crate) fn locale() -> Locale {
    leptos::prelude::use_context::<leptos_i18n::I18nContext<Locale>>()
        .map(|i18n| i18n.get_locale_untracked())
        .unwrap_or_default()
}

macro_rules! texts {
    ($($name:ident => $key:ident),* $(,)?) => {
        $(
            #[allow(non_snake_case)]
            pub fn $name() -> &'static str {
                td_string!(locale(), studio.$key)
            }
        )*
    };
}

texts! {
    STUDIO => studio,
    PRODUCTS => products,
    SALES => sales,
    NEW_PRODUCT => new_product,
    NOT_A_CREATOR => not_a_creator,
    ASK_FOR_INVITE => ask_for_invite,
    OPEN_IN_TELEGRAM => open_in_telegram,
    NO_PRODUCTS => no_products,
    LOADING => loading,
    TITLE => title,
    KIND => kind,
    PRICE => price,
    BILLING => billing,
    BILLING_ONCE => billing_once,
    BILLING_MONTHLY => billing_monthly,
    STAMP_COPIES => stamp_copies,
    MEMBERS => members,
    ACTIVE_MEMBERS => active_members,
    CHURNED => churned,
    RECURRING_STARS => recurring_stars,
    DESCRIPTION => description,
    SAVE => save,
    SAVED => saved,
    CREATE => create,
    PUBLISH => publish,
    ARCHIVE => archive,
    PUBLISH_AGAIN => publish_again,
    VIEW_IN_SHOP => view_in_shop,
    SHARE_LINK => share_link,
    SHARE_LINK_HINT => share_link_hint,
    STATUS_DRAFT => status_draft,
    STATUS_PUBLISHED => status_published,
    STATUS_ARCHIVED => status_archived,
    COVER => cover,
    CONTENT_FILES => content_files,
    SAMPLE => sample,
    UPLOAD => upload,
    CHOOSE_FILE => choose_file,
    REPLACE => replace,
    LESSONS => lessons,
    ADD_LESSON => add_lesson,
    VIDEO => video,
    VIDEO_UPLOAD => video_upload,
    VIDEO_QUEUED => video_queued,
    VIDEO_PREPARING => video_preparing,
    VIDEO_READY => video_ready,
    VIDEO_PLAYING => video_playing,
    VIDEO_FAILED => video_failed,
    VIDEO_FAILED_UNREADABLE => video_failed_unreadable,
    VIDEO_FAILED_NO_VIDEO => video_failed_no_video,
    VIDEO_FAILED_TOO_LONG => video_failed_too_long,
    VIDEO_FAILED_STOPPED => video_failed_stopped,
    LESSON_TEXT => lesson_text,
    FREE_PREVIEW => free_preview,
    ATTACHED_FILE => attached_file,
    NO_FILE => no_file,
    PREVIEW => preview,
    TOTAL_SALES => total_sales,
    GROSS => gross,
    REFUNDS => refunds,
    NET => net,
    PER_PRODUCT => per_product,
    ORDERS => orders,
    NO_ORDERS => no_orders,
    REFUND => refund,
    CONFIRM_REFUND => confirm_refund,
    CANCEL => cancel,
    SUPPORTERS => supporters,
    NO_SUPPORTERS => no_supporters,
    DOWNLOADS => downloads,
    SUPPORT_CREATOR => support_creator,
    TIP_THANKS => tip_thanks,
    TIP_NOT_SENT => tip_not_sent,
    TIP_CONFIRMING => tip_confirming,
    TIP_WHOLE_NUMBER => tip_whole_number,
    TIP_OTHER_AMOUNT => tip_other_amount,
    TIP_EXPIRED => tip_expired,
    TIP_CANCELLED => tip_cancelled,
    TIP_SLOW => tip_slow,
    PRICE_WHOLE => price_whole,
    REFUND_PROMPT => refund_prompt,
    SERVER_ANSWERED => server_answered,
    NETWORK => network,
    UNEXPECTED => unexpected,
    LOADS_IN_BROWSER => loads_in_browser,
    CHOOSE_FILE_FIRST => choose_file_first,
    UPLOAD_BROKE_OFF => upload_broke_off,
    UPLOADS_IN_BROWSER => uploads_in_browser,
}
