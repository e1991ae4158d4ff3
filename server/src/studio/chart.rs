//! The sales chart, drawn on the server as SVG: bars of gross Stars per day with refunds beside
//! them. It is inlined into the page, so text and axes take the page's text colour
//! (`currentColor`) and bars the Telegram theme's colours: readable in light and dark themes.

use app::i18n::{td_string, Locale};
use app::studio::types::DaySales;
use app::texts::fill;
use std::fmt::Write;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

/// A round upper bound for the axis: 1, 2 or 5 times a power of ten.
fn nice_ceiling(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= max {
                return step.saturating_mul(m).max(1);
            }
        }
        step = step.saturating_mul(10);
    }
}

/// The chart with its words (title, the bars' tooltips) in `locale`.
pub fn draw(days: &[DaySales], locale: Locale) -> String {
    let max = days
        .iter()
        .map(|d| d.gross_stars.max(d.refunded_stars))
        .max()
        .unwrap_or(0);
    let top = nice_ceiling(max);
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / days.len().max(1) as f64;
    let bar = (slot * 0.4).max(1.0);
    let y = |v: u64| TOP + plot_h - plot_h * (v as f64 / top as f64);
    let total: u64 = days.iter().map(|d| d.gross_stars).sum();
    let refunded: u64 = days.iter().map(|d| d.refunded_stars).sum();
    let label = fill(
        td_string!(locale, studio.chart_label),
        &[
            ("title", &td_string!(locale, studio.chart_title)),
            ("gross", &total),
            ("refunded", &refunded),
            ("days", &days.len()),
        ],
    );

    let mut svg = String::with_capacity(8 * 1024);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="sales-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" font-family="system-ui, sans-serif" font-size="11"><title>{label}</title>"#,
        label = html_escape::encode_double_quoted_attribute(&label)
    );
    // Grid lines at 0, ½ and the top, labelled.
    for v in [0, top / 2, top] {
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="currentColor" stroke-opacity="0.2"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="currentColor" fill-opacity="0.7">{v}</text>"#,
            x2 = WIDTH - 8.0,
            y = y(v),
            tx = LEFT - 6.0,
            ty = y(v) + 4.0
        );
    }
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - 2.0 * bar) / 2.0;
        if day.gross_stars > 0 {
            let _ = write!(
                svg,
                r#"<rect class="gross" x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="var(--tg-theme-button-color, #2481cc)"><title>{tip}</title></rect>"#,
                y = y(day.gross_stars),
                h = plot_h * day.gross_stars as f64 / top as f64,
                tip = html_escape::encode_double_quoted_attribute(&fill(
                    td_string!(locale, studio.chart_day),
                    &[
                        ("day", &day.day),
                        ("stars", &day.gross_stars),
                        ("sales", &day.sales)
                    ],
                )),
            );
        }
        if day.refunded_stars > 0 {
            let _ = write!(
                svg,
                r#"<rect class="refunded" x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="var(--tg-theme-destructive-text-color, #e53935)"><title>{tip}</title></rect>"#,
                x = x + bar,
                y = y(day.refunded_stars),
                h = plot_h * day.refunded_stars as f64 / top as f64,
                tip = html_escape::encode_double_quoted_attribute(&fill(
                    td_string!(locale, studio.chart_day_refunded),
                    &[("day", &day.day), ("stars", &day.refunded_stars)],
                )),
            );
        }
        // A date under every seventh bar and the last.
        if i % 7 == 0 || i + 1 == days.len() {
            let _ = write!(
                svg,
                r#"<text x="{cx:.1}" y="{ty}" text-anchor="middle" fill="currentColor" fill-opacity="0.7">{d}</text>"#,
                cx = LEFT + slot * i as f64 + slot / 2.0,
                ty = HEIGHT - 8.0,
                d = html_escape::encode_double_quoted_attribute(
                    day.day.get(5..).unwrap_or(&day.day)
                )
            );
        }
    }
    let _ = write!(
        svg,
        r#"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{b}" stroke="currentColor" stroke-opacity="0.5"/></svg>"#,
        b = TOP + plot_h
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: &str, gross: u64, refunded: u64) -> DaySales {
        DaySales {
            day: day.into(),
            sales: u32::from(gross > 0),
            gross_stars: gross,
            refunded_stars: refunded,
        }
    }

    #[test]
    fn bars_follow_the_data_and_colours_follow_the_theme() {
        let svg = draw(
            &[
                day("2026-11-27", 0, 0),
                day("2026-11-28", 250, 0),
                day("2026-11-29", 500, 250),
            ],
            Locale::en,
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="gross""#).count(), 2);
        assert_eq!(svg.matches(r#"class="refunded""#).count(), 1);
        assert!(svg.contains("currentColor"));
        assert!(svg.contains("var(--tg-theme-button-color"));
        assert!(svg.contains("Sales, last 30 days: 750 Stars gross, 250 Stars refunded"));
        assert!(svg.contains("<title>2026-11-29: 250 Stars refunded</title>"));
        assert!(!svg.contains("<script"));
        // The 500-Star bar reaches the top of the axis (500), the 250 one half of it.
        assert!(svg.contains(">500</text>"));
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(120), 200);
        assert_eq!(nice_ceiling(500), 500);
        assert_eq!(nice_ceiling(501), 1000);
    }

    #[test]
    fn an_empty_month_draws_an_empty_chart() {
        let days: Vec<_> = (1..=30)
            .map(|d| day(&format!("2026-11-{d:02}"), 0, 0))
            .collect();
        let svg = draw(&days, Locale::en);
        assert!(!svg.contains("<rect"));
        assert!(svg.contains("0 Stars gross"));
        let svg = draw(&days, Locale::ru);
        assert!(svg.contains("Продажи за 30 дней: 0 Stars выручки"), "{svg}");
    }
}
