//! The studio's license keys (`/studio/licenses`): per product, whether buyers get a key and
//! how (generated from a pattern, or drawn from a pool the creator fills), the pool's keys to
//! add, every key with its state, and a warning when a pool runs low or buyers wait for a key.
//! The server checks every rule.

use super::client;
use super::frame::StudioPage;
use super::types::{
    LicenseKeyState, LicenseMode, LicensePoolInput, LicenseSettingsInput, StudioLicenseKey,
    StudioLicenses,
};
use crate::i18n::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

super::studio_texts!(licenses_studio {
    LICENSES => licenses,
    EMPTY => empty,
    MODE_LABEL => mode_label,
    MODE_NONE => mode_none,
    MODE_GENERATED => mode_generated,
    MODE_POOL => mode_pool,
    FORMAT_LABEL => format_label,
    SAVE => save,
    POOL_LABEL => pool_label,
    ADD_KEYS => add_keys,
    COUNTS => counts,
    LOW => low,
    WAITING => waiting,
    STATE_AVAILABLE => state_available,
    STATE_ISSUED => state_issued,
    STATE_DISABLED => state_disabled,
    USES => uses,
    ORDER => order,
    VERIFY_HINT => verify_hint,
});

/// `/studio/licenses`.
#[component]
pub fn StudioLicensesPage() -> impl IntoView {
    view! {
        <StudioPage title=LICENSES()>
            <LicenseList />
        </StudioPage>
    }
}

#[component]
fn LicenseList() -> impl IntoView {
    let products = RwSignal::new(None::<Vec<StudioLicenses>>);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        spawn_local(async move {
            match client::get::<Vec<StudioLicenses>>("/api/studio/licenses").await {
                Ok(list) => products.set(Some(list)),
                Err(err) => error.set(Some(err.message)),
            }
        });
    });
    view! {
        {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        {move || match products.get() {
            None => ().into_any(),
            Some(list) if list.is_empty() => view! { <p class="status empty">{EMPTY()}</p> }.into_any(),
            Some(list) => view! {
                <div class="studio-licenses">
                    {list.into_iter().map(|product| view! { <ProductKeys product products error /> }).collect_view()}
                </div>
            }
            .into_any(),
        }}
    }
}

#[component]
fn ProductKeys(
    product: StudioLicenses,
    products: RwSignal<Option<Vec<StudioLicenses>>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = product.product_id;
    let mode = RwSignal::new(product.mode);
    let format = RwSignal::new(product.format.clone().unwrap_or_default());
    let pool = RwSignal::new(String::new());
    // Every change answers with the list as it now is.
    let apply = move |result: Result<Vec<StudioLicenses>, client::CallError>| match result {
        Ok(list) => {
            error.set(None);
            products.set(Some(list));
        }
        Err(err) => error.set(Some(err.message)),
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let format = format.get_untracked();
        let input = LicenseSettingsInput {
            mode: mode.get_untracked(),
            format: (!format.trim().is_empty()).then_some(format),
        };
        spawn_local(async move {
            apply(client::put(&format!("/api/studio/licenses/{id}"), &input).await);
        });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = LicensePoolInput {
            keys: pool.get_untracked(),
        };
        spawn_local(async move {
            let result =
                client::post(&format!("/api/studio/licenses/{id}/pool"), Some(&input)).await;
            if result.is_ok() {
                pool.set(String::new());
            }
            apply(result);
        });
    };
    let counts = COUNTS()
        .replace("{available}", &product.available.to_string())
        .replace("{issued}", &product.issued.to_string())
        .replace("{disabled}", &product.disabled.to_string());
    let low = product
        .low
        .then(|| LOW().replace("{available}", &product.available.to_string()));
    let waiting =
        (product.waiting > 0).then(|| WAITING().replace("{waiting}", &product.waiting.to_string()));
    let hint = VERIFY_HINT().replace("{slug}", &product.product_slug);
    let saved_mode = product.mode;
    view! {
        <section class="license-product" data-id=id data-mode=saved_mode.as_str()>
            <h2>{product.product_title}</h2>
            <form class="studio-form license-settings" on:submit=save>
                <label>
                    {MODE_LABEL()}
                    <select name="mode" on:change=move |ev| {
                        mode.set(LicenseMode::parse(&event_target_value(&ev)).unwrap_or_default())
                    }>
                        {[(LicenseMode::None, MODE_NONE()), (LicenseMode::Generated, MODE_GENERATED()), (LicenseMode::Pool, MODE_POOL())]
                            .into_iter()
                            .map(|(value, label)| view! {
                                <option value=value.as_str() selected=move || mode.get() == value>{label}</option>
                            })
                            .collect_view()}
                    </select>
                </label>
                <Show when=move || mode.get() == LicenseMode::Generated>
                    <label>
                        {FORMAT_LABEL()}
                        <input type="text" name="format" maxlength="64" placeholder="XXXX-XXXX-XXXX-XXXX"
                            spellcheck="false" autocapitalize="characters"
                            prop:value=move || format.get()
                            on:input=move |ev| format.set(event_target_value(&ev)) />
                    </label>
                </Show>
                <button class="button" type="submit">{SAVE()}</button>
            </form>
            {(saved_mode != LicenseMode::None).then(|| view! {
                <p class="muted license-counts">{counts}</p>
                <p class="muted license-hint"><code>{hint}</code></p>
            })}
            {low.map(|text| view! { <p class="status warning license-low" role="alert">{text}</p> })}
            {waiting.map(|text| view! { <p class="status warning license-waiting" role="alert">{text}</p> })}
            {(saved_mode == LicenseMode::Pool).then(|| view! {
                <form class="studio-form license-pool" on:submit=add>
                    <label>
                        {POOL_LABEL()}
                        <textarea name="keys" rows="4" required spellcheck="false"
                            prop:value=move || pool.get()
                            on:input=move |ev| pool.set(event_target_value(&ev))></textarea>
                    </label>
                    <button class="button" type="submit">{ADD_KEYS()}</button>
                </form>
            })}
            {(!product.keys.is_empty()).then(|| view! {
                <ul class="license-keys">
                    {product.keys.into_iter().map(|key| view! { <KeyRow key /> }).collect_view()}
                </ul>
            })}
        </section>
    }
}

#[component]
fn KeyRow(key: StudioLicenseKey) -> impl IntoView {
    let (state, label) = match key.state {
        LicenseKeyState::Available => ("available", STATE_AVAILABLE()),
        LicenseKeyState::Issued => ("issued", STATE_ISSUED()),
        LicenseKeyState::Disabled => ("disabled", STATE_DISABLED()),
    };
    let order = key.order.map(|order| ORDER().replace("{order}", &order));
    let uses = USES().replace("{uses}", &key.uses.to_string());
    view! {
        <li class="license-key-row" data-state=state>
            <code>{key.code}</code>
            " · "
            <span class="badge">{label}</span>
            {order.map(|order| view! { " · " <span class="muted">{order}</span> })}
            " · "
            <span class="muted">{uses}</span>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(view: impl FnOnce() -> AnyView + Send + 'static) -> String {
        // The i18n provider reads the language cookie through a spawned task.
        let _ = any_spawner::Executor::init_futures_executor();
        Owner::new()
            .with(|| view! { <I18nContextProvider>{view()}</I18nContextProvider> }.to_html())
    }

    fn key(code: &str, state: LicenseKeyState, order: Option<&str>) -> StudioLicenseKey {
        StudioLicenseKey {
            code: code.into(),
            state,
            order: order.map(Into::into),
            uses: 2,
        }
    }

    #[test]
    fn a_low_pool_warns_and_lists_its_keys_with_their_states() {
        let product = StudioLicenses {
            product_id: 7,
            product_slug: "rust-book".into(),
            product_title: "Rust <Book>".into(),
            mode: LicenseMode::Pool,
            format: None,
            available: 1,
            issued: 1,
            disabled: 1,
            waiting: 2,
            low: true,
            keys: vec![
                key("K-3", LicenseKeyState::Available, None),
                key("K-2", LicenseKeyState::Issued, Some("o.abc")),
                key("K-1", LicenseKeyState::Disabled, Some("o.def")),
            ],
        };
        let html = render(move || {
            let products = RwSignal::new(None);
            let error = RwSignal::new(None);
            view! { <ProductKeys product products error /> }.into_any()
        });
        let text = html.replace("<!>", "");
        assert!(text.contains("Rust &lt;Book&gt;"), "escaped: {html}");
        assert!(text.contains(r#"data-mode="pool""#), "{html}");
        assert!(text.contains("1 keys left"), "the low-pool warning: {text}");
        assert!(text.contains("2 buyers are waiting"), "{text}");
        assert!(
            text.contains("1 in the pool · 1 issued · 1 disabled"),
            "{text}"
        );
        assert!(text.contains("product=rust-book&amp;key=KEY"), "{text}");
        assert!(text.contains("Add keys"), "the pool form: {text}");
        for state in ["available", "issued", "disabled"] {
            assert!(
                text.contains(&format!(r#"data-state="{state}""#)),
                "{state}: {html}"
            );
        }
        assert!(text.contains("order o.abc"), "{text}");
        assert!(text.contains("checks: 2"), "{text}");
    }

    #[test]
    fn without_keys_only_the_mode_is_offered() {
        let product = StudioLicenses {
            product_id: 8,
            product_slug: "plain".into(),
            product_title: "Plain".into(),
            mode: LicenseMode::None,
            format: None,
            available: 0,
            issued: 0,
            disabled: 0,
            waiting: 0,
            low: false,
            keys: vec![],
        };
        let html = render(move || {
            let products = RwSignal::new(None);
            let error = RwSignal::new(None);
            view! { <ProductKeys product products error /> }.into_any()
        });
        assert!(html.contains("No keys"), "{html}");
        assert!(!html.contains("Add keys"), "{html}");
        assert!(!html.contains("license-counts"), "{html}");
    }
}
