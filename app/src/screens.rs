//! The screens a buyer's first load does without, as lazy routes: their code is split out of the
//! hydration bundle into wasm chunks (scripts/build.sh runs the split after linking), fetched when
//! their route opens. The catalog and the product page stay in the bundle: they are where a buyer
//! arrives from a chat, and Buy must work as soon as the page hydrates.
//!
//! Each screen loads its data in the browser (`LocalResource`) once its view runs, so `data()`
//! has nothing to start ahead of the chunk. Code that several screens share (the studio's client
//! and types) is put in a chunk of its own and fetched once.
//!
//! One `impl` per screen, written out: the split's name is derived from the place in the source,
//! so a macro expanding them all at one place would give them one name.

use crate::{pages, studio};
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// `/library`
pub struct LibraryScreen;

#[lazy_route]
impl LazyRoute for LibraryScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::Library /> }.into_any()
    }
}

/// `/learn/:slug`
pub struct CourseScreen;

#[lazy_route]
impl LazyRoute for CourseScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::Course /> }.into_any()
    }
}

/// `/learn/:slug/:lesson`
pub struct LessonScreen;

#[lazy_route]
impl LazyRoute for LessonScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::Lesson /> }.into_any()
    }
}

/// `/studio`
pub struct StudioHomeScreen;

#[lazy_route]
impl LazyRoute for StudioHomeScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::pages::StudioHome /> }.into_any()
    }
}

/// `/studio/new`
pub struct NewProductScreen;

#[lazy_route]
impl LazyRoute for NewProductScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::pages::NewProduct /> }.into_any()
    }
}

/// `/studio/p/:id`
pub struct EditProductScreen;

#[lazy_route]
impl LazyRoute for EditProductScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::pages::EditProduct /> }.into_any()
    }
}

/// `/studio/sales`
pub struct StudioSalesScreen;

#[lazy_route]
impl LazyRoute for StudioSalesScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::pages::StudioSales /> }.into_any()
    }
}

/// `/studio/discounts`
pub struct StudioDiscountsScreen;

#[lazy_route]
impl LazyRoute for StudioDiscountsScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::deals::StudioDiscounts /> }.into_any()
    }
}

/// `/studio/charges`
pub struct StudioChargesScreen;

#[lazy_route]
impl LazyRoute for StudioChargesScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::charges::StudioCharges /> }.into_any()
    }
}

pub struct StudioSupportScreen;

#[lazy_route]
impl LazyRoute for StudioSupportScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::support::StudioSupport /> }.into_any()
    }
}

/// `/studio/reach`
pub struct StudioReachScreen;

#[lazy_route]
impl LazyRoute for StudioReachScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::reach::StudioReach /> }.into_any()
    }
}

/// `/p/:slug/review`
pub struct WriteReviewScreen;

#[lazy_route]
impl LazyRoute for WriteReviewScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::WriteReview /> }.into_any()
    }
}

/// `/gift/:code`
pub struct GiftScreen;

#[lazy_route]
impl LazyRoute for GiftScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::Gift /> }.into_any()
    }
}

/// `/studio/reviews`
pub struct StudioReviewsScreen;

#[lazy_route]
impl LazyRoute for StudioReviewsScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::reviews::StudioReviews /> }.into_any()
    }
}

/// `/studio/licenses`
pub struct StudioLicensesScreen;

#[lazy_route]
impl LazyRoute for StudioLicensesScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <studio::licenses::StudioLicensesPage /> }.into_any()
    }
}

/// `/read/:file` and `/read/sample/:slug`: one module for both.
pub struct ReaderScreen;

#[lazy_route]
impl LazyRoute for ReaderScreen {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::Reader /> }.into_any()
    }
}
